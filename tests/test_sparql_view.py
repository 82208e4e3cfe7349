"""The SPARQL store's layout (opendata/sparql_view.py): records in the default graph, replaced
and removed exactly, re-applied batches changing nothing, a store of another layout rebuilt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pyoxigraph as ox
import pytest

from citynode.config import build_config
from citynode.node import Node, create_home
from citynode.opendata import sparql_view
from citynode.opendata.sparql import Sparql
from citynode.origins import Origin
from citynode.storage import records as store
from citynode.storage.origins import put_origin
from protocol.records import RECORD_CONTEXT
from tests.support import free_socket

CITY = Origin(
    did="did:web:city.example", base_url="https://city.example", city="Ciudad", country="CO"
)
SCHEMA = "https://schema.org/"


def record(slug: str, version: int, **fields: Any) -> dict[str, Any]:
    return {
        "@context": RECORD_CONTEXT,
        "id": f"https://city.example/records/{slug}",
        "type": "Result",
        "version": version,
        "issued": "2024-01-01T00:00:00Z",
        "modified": f"2024-01-0{version}T00:00:00Z",
        "publisher": CITY.did,
        "title": {"es": f"{slug} v{version}"},
        **fields,
    }


def measured(*values: int) -> list[dict[str, Any]]:
    return [
        {"type": "Measurement", "indicator": {"en": "People trained"}, "value": v, "period": "2024"}
        for v in values
    ]


def integer(value: int) -> str:
    return f'"{value}"^^<http://www.w3.org/2001/XMLSchema#integer>'


def funder(ror: str, name: str) -> dict[str, Any]:
    # A nested node with an IRI of its own: its triples are about another subject than the
    # record (no record of vocabulary 1.1 has one; a JSON-LD processor may read one).
    return {"type": "Organisation", "id": ror, "name": {"en": name}}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    home = tmp_path / "node"
    config = build_config(
        node={"base_url": f"http://127.0.0.1:{port}", "name": "Ciudad", "country": "CO"},
        server={"host": "127.0.0.1", "port": port},
    )
    await create_home(config, home)
    async with Node.opened(home) as opened:
        yield opened


async def put(node: Node, *documents: dict[str, Any], origin: Origin = CITY) -> None:
    async with node.db.transaction() as conn:
        await put_origin(conn, origin)
        await store.append(
            conn,
            [
                store.NewVersion(
                    id=d["id"],
                    version=d["version"],
                    type=d["type"],
                    origin=origin.did,
                    modified=d["modified"],
                    status=None,
                    body=msgspec.json.encode(d),
                )
                for d in documents
            ],
        )


def default_graph(service: Sparql) -> set[tuple[str, str, str]]:
    """The default graph with blank nodes named by what they hold (labels differ per load)."""
    quads = list(service.view.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    blanks = {q.subject for q in quads if isinstance(q.subject, ox.BlankNode)}

    def name(term: Any) -> str:
        if term in blanks:
            return (
                "["
                + ",".join(sorted(f"{q.predicate} {q.object}" for q in quads if q.subject == term))
                + "]"
            )
        return str(term)

    return {(name(q.subject), str(q.predicate), name(q.object)) for q in quads}


def select(service: Sparql, query: str) -> list[list[str]]:
    return [[str(v) for v in row] for row in service.view.store.query(query)]  # type: ignore[union-attr]


async def test_records_are_the_default_graph_and_new_versions_replace_them(node: Node) -> None:
    async with Sparql.opened(node, follow=False) as service:
        await put(
            node,
            record("a", 1, measurements=measured(5, 6)),
            record("b", 1, measurements=measured(1)),
        )
        await service.following.step()
        values = (
            "SELECT ?v WHERE { ?r <https://w3id.org/citynode/vocab#measurement> ?m . "
            "?m <https://schema.org/value> ?v } ORDER BY ?v"
        )
        assert select(service, values) == [[integer(1)], [integer(5)], [integer(6)]]
        # The city, named in the default graph; the position in the dataset graph only.
        city = f"SELECT ?n WHERE {{ <{CITY.did}> <http://xmlns.com/foaf/0.1/name> ?n }}"
        assert select(service, city) == [['"Ciudad"']]
        assert not select(
            service, "SELECT ?p WHERE { ?s <https://w3id.org/citynode/vocab#logPosition> ?p }"
        )

        await put(node, record("a", 2, measurements=measured(7)))
        await service.following.step()
        assert select(service, values) == [[integer(1)], [integer(7)]]
        fresh = default_graph(service)
        titles = "SELECT ?t WHERE { ?r <http://purl.org/dc/terms/title> ?t } ORDER BY ?t"
        assert select(service, titles) == [['"a v2"@es'], ['"b v1"@es']]

        count = len(service.view.store)
    # The same batches again after a restart (a crash before the position was saved): nothing
    # changes, nested nodes are not doubled.
    async with Sparql.opened(node, follow=False) as service:
        entries = await store.changes(node.db.reader, 0, 100)
        await service.view.apply(entries, entries[-1].seq)
        assert default_graph(service) == fresh and len(service.view.store) == count

        # A tombstone removes every triple of the record, its nested nodes' too.
        await put(node, {**record("a", 3), "type": "Tombstone"})
        await service.following.step()
        assert select(service, values) == [[integer(1)]]
        subjects = {
            q.subject
            for q in service.view.store.quads_for_pattern(None, None, None, ox.DefaultGraph())
        }
        assert ox.NamedNode("https://city.example/records/a") not in subjects
        # b's measurement is the one nested node left.
        assert len([s for s in subjects if isinstance(s, ox.BlankNode)]) == 1


async def test_triples_about_other_subjects_stay_while_a_record_states_them(node: Node) -> None:
    ror = "https://ror.org/01abcde00"
    named = f"SELECT ?n WHERE {{ <{ror}> <{SCHEMA}name> ?n }}"
    async with Sparql.opened(node, follow=False) as service:
        await put(
            node,
            record("a", 1, funders=[funder(ror, "Fund")]),
            record("b", 1, funders=[funder(ror, "Fund")]),
        )
        await service.following.step()
        assert select(service, named) == [['"Fund"@en']]
        await put(node, {**record("a", 2), "type": "Tombstone"})
        await service.following.step()
        assert select(service, named) == [['"Fund"@en']]  # b still says so
        await put(node, record("b", 2, funders=[funder(ror, "Fund, renamed")]))
        await service.following.step()
        assert select(service, named) == [['"Fund, renamed"@en']]
        await put(node, {**record("b", 3), "type": "Tombstone"})
        await service.following.step()
        assert select(service, named) == []


async def test_a_city_renamed_is_renamed_in_the_store(node: Node) -> None:
    city = f"SELECT ?n WHERE {{ <{CITY.did}> <http://xmlns.com/foaf/0.1/name> ?n }}"
    async with Sparql.opened(node, follow=False) as service:
        await put(node, record("a", 1))
        await service.following.step()
        renamed = msgspec.structs.replace(CITY, city="Ciudad Nueva")
        await put(node, record("b", 1), origin=renamed)
        await service.following.step()
        assert select(service, city) == [['"Ciudad Nueva"']]


async def test_a_store_of_another_layout_is_rebuilt(node: Node) -> None:
    async with Sparql.opened(node, follow=False) as service:
        await put(node, record("a", 1, measurements=measured(5)))
        await service.following.step()
        built = default_graph(service)
        view = service.view
        # What a store of layout 1 said about itself, and a triple only it held.
        version = ox.Literal(str(sparql_view.VIEW_VERSION), datatype=sparql_view.XSD_INTEGER)
        view.store.remove(ox.Quad(view.dataset, sparql_view.VERSION, version, view.dataset))
        old = ox.Literal("1", datatype=sparql_view.XSD_INTEGER)
        view.store.add(ox.Quad(view.dataset, sparql_view.VERSION, old, view.dataset))
        view.store.add(ox.Quad(ox.NamedNode("urn:x:old"), ox.NamedNode("urn:x:p"), old))
    async with Sparql.opened(node, follow=False) as service:
        assert await service.view.position() == 0  # emptied: the follower starts again
        applied = await service.following.step()
        assert applied == 1 and default_graph(service) == built


class _FailingOnce:
    """The store, except that one `load` fails (a full disk, say) after the records' bulk load."""

    def __init__(self, real: ox.Store) -> None:
        self.real = real
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        if name == "load" and not self.failed:
            self.failed = True
            raise OSError("no space left on device")
        return getattr(self.real, name)

    def __len__(self) -> int:
        return len(self.real)


async def test_a_batch_retried_after_a_failure_is_not_written_twice(node: Node) -> None:
    async with Sparql.opened(node, follow=False) as service:
        service.view.backlog = 1  # every batch bulk-loaded, then its position on its own
        await put(node, record("a", 1, measurements=measured(5)))
        await service.following.step()
        once = default_graph(service)
        await put(node, record("b", 1, measurements=measured(6, 7)))
        real = service.view.store
        service.view.store = _FailingOnce(real)  # type: ignore[assignment]
        with pytest.raises(OSError):
            await service.following.step()
        await service.following.step()  # what the Following does after RETRY_SECONDS
        service.view.store = real
        values = [
            row[0]
            for row in select(service, "SELECT ?v WHERE { ?m <https://schema.org/value> ?v }")
        ]
        assert sorted(values) == [integer(5), integer(6), integer(7)]
        assert once < default_graph(service)
