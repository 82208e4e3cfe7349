"""The node's RDF says what the signed JSON-LD means, as another JSON-LD processor reads it
(issue 7 item 7): for every sample record as its node publishes it, the node's N-Quads (record and
proof named graph) and Turtle are isomorphic with pyld's toRdf, pyld running on the shipped
contexts through a document loader that never fetches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pyld import jsonld
from rdflib import Graph
from rdflib.compare import isomorphic

import vocab
from citynode import jsonld_triples, rdf
from citynode.demo import SAMPLES
from citynode.imports.files import read_drafts
from citynode.storage import records as store
from tests.federation_support import publish
from tests.support import RunningNode, request_json


def bundled_only(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """pyld's document loader: the contexts shipped in vocab/, and nothing from the network."""
    try:
        document = vocab.context_document(url)
    except vocab.UnknownContext:
        raise AssertionError(f"pyld asked for {url}, which is not bundled") from None
    return {"contextUrl": None, "documentUrl": url, "document": document}


def canonical(nquads: str) -> str:
    """URDNA2015 canonical N-Quads: two datasets are isomorphic iff these are equal."""
    result: str = jsonld.normalize(
        nquads,
        {
            "algorithm": "URDNA2015",
            "inputFormat": "application/n-quads",
            "format": "application/n-quads",
        },
    )
    return result


def pyld_nquads(document: dict[str, Any]) -> str:
    result: str = jsonld.to_rdf(
        document, {"format": "application/n-quads", "documentLoader": bundled_only}
    )
    return result


@pytest.fixture
async def signed(node_factory: Callable[..., Awaitable[RunningNode]]) -> list[Any]:
    out = []
    for city in ("medellin", "lisboa", "montevideo"):
        node = await node_factory(city.title())
        await publish(node, *read_drafts(SAMPLES / city / "records.jsonld", node.url))
        rows = await store.all_current(node.node.db.reader, node.did)
        out.extend((node, row.document()) for row in rows)
    assert len(out) == 27 + 10 + 10
    return out


async def test_nquads_are_pyld_s_with_the_proof_as_a_named_graph(signed: list[Any]) -> None:
    for _node, document in signed:
        # The node's own reader, not its fallback: every sample record takes the term table.
        assert jsonld_triples.statements(document) is not None, document["id"]
        assert jsonld_triples.proof_statements(document) is not None, document["id"]
        ours = rdf.record_nquads(document, own_graph=False)
        theirs = pyld_nquads(document)
        assert canonical(ours) == canonical(theirs), document["id"]
        # The proof is there, in a graph of its own, and the dates keep their Z.
        proof_lines = [line for line in ours.splitlines() if line.split()[-2].startswith("_:")]
        assert any("DataIntegrityProof" in line for line in proof_lines), document["id"]
        assert document["modified"] in ours and "+00:00" not in ours


async def test_turtle_is_pyld_s_default_graph(signed: list[Any]) -> None:
    for node, document in signed[::5]:
        slug = document["id"].rsplit("/", 1)[1]
        status, body, _ = await request_json(
            "GET", f"{node.url}/records/{slug}", headers={"Accept": "text/turtle"}
        )
        assert status == 200
        ours = Graph().parse(data=body.decode(), format="turtle")
        # Turtle has no named graphs: the proof is in N-Quads, so compare the record without it.
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        theirs = Graph().parse(data=pyld_nquads(unsigned), format="nt")
        assert isomorphic(ours, theirs), document["id"]
        assert f'"{document["modified"]}"' in body.decode()
