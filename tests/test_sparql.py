"""The SPARQL endpoint with standard clients (rdflib's SPARQLStore, SPARQLWrapper) over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from rdflib import Graph
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, SPARQLWrapper

from citynode.config import (
    FederationSection,
    NodeConfig,
    NodeSection,
    OpendataSection,
    ServerSection,
)
from citynode.node import create_home
from citynode.web.keys import SPARQL
from tests.drafts import practice, result
from tests.federation_support import publish, wait_for
from tests.opendata_support import three_cities
from tests.support import RunningNode, free_socket, start_node

Factory = Callable[..., Awaitable[RunningNode]]

PREFIXES = """PREFIX cn: <https://w3id.org/citynode/vocab#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/>
"""
#: The README's first example: practices per SDG target across cities.
PER_TARGET = (
    PREFIXES
    + """SELECT ?target ?city ?practice ?title WHERE {
  ?practice cn:sdg ?target ; dcterms:publisher ?node ; dcterms:title ?title .
  ?node foaf:name ?city .
  FILTER(lang(?title) = "en")
} ORDER BY ?target ?city"""
)


async def sparql_node(tmp_path: Path, **opendata: Any) -> RunningNode:
    """A node with its own [opendata] settings (short timeouts, small caps)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    home = tmp_path / "sparql-node"
    config = msgspec.convert(
        msgspec.to_builtins(
            NodeConfig(
                node=NodeSection(
                    base_url=f"http://127.0.0.1:{port}", name="Medellín", country="CO"
                ),
                server=ServerSection(host="127.0.0.1", port=port),
                federation=FederationSection(allow_private_peers=True),
                opendata=OpendataSection(**opendata),
            )
        ),
        NodeConfig,
    )
    await create_home(config, home)
    return await start_node(home, sock=sock)


async def caught_up(node: RunningNode) -> None:
    following = node.runner.app[SPARQL].following
    head = await following.step()  # apply now: no waiting on the poll
    assert head >= 0


async def get(url: str, **params: str) -> tuple[int, bytes, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as resp:
        return resp.status, await resp.read(), resp.headers


async def test_a_sparql_client_lists_the_practices_of_three_cities_per_sdg_target(
    node_factory: Factory,
) -> None:
    nodes = await three_cities(node_factory)
    medellin = nodes[0]
    await caught_up(medellin)
    endpoint = f"{medellin.url}/sparql"

    def with_sparqlwrapper() -> Any:
        client = SPARQLWrapper(endpoint)
        client.setQuery(PER_TARGET)
        client.setReturnFormat(JSON)
        return client.query().convert()

    answer = await asyncio.to_thread(with_sparqlwrapper)
    rows = answer["results"]["bindings"]
    cities = {row["city"]["value"] for row in rows}
    assert cities == {"Medellín", "Lisboa", "Montevideo"}
    targets = {row["target"]["value"] for row in rows}
    assert "http://metadata.un.org/sdg/9.c" in targets
    assert all(row["practice"]["value"].startswith("http://127.0.0.1:") for row in rows)

    def with_rdflib() -> list[tuple[str, str]]:
        graph = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
        found = graph.query(
            PREFIXES + "SELECT ?city (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p cn:sdg ?t ; "
            "dcterms:publisher ?node . ?node foaf:name ?city } GROUP BY ?city"
        )
        return [(str(row[0]), str(row[1])) for row in found]  # type: ignore[index]

    counts = dict(await asyncio.to_thread(with_rdflib))
    assert set(counts) == {"Medellín", "Lisboa", "Montevideo"}
    assert all(int(n) > 0 for n in counts.values())

    # The README's examples answer what they say they answer.
    per_target, indicators = readme_queries()
    _, body, _ = await get(endpoint, query=per_target)
    rows = json.loads(body)["results"]["bindings"]
    assert {r["city"]["value"] for r in rows} == {"Medellín", "Lisboa", "Montevideo"}
    assert all(r["target"]["value"].startswith("http://metadata.un.org/sdg/") for r in rows)
    _, body, _ = await get(endpoint, query=indicators)
    rows = json.loads(body)["results"]["bindings"]
    assert "Medellín" in {r["city"]["value"] for r in rows}
    assert all(r["value"]["value"] and r["unit"]["value"] for r in rows)


def readme_queries() -> list[str]:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in readme.split("```sparql\n")[1:]]
    assert len(blocks) == 2
    return blocks


async def test_every_result_format_and_query_form(tmp_path: Path) -> None:
    node = await sparql_node(tmp_path)
    try:
        await publish(node, practice("wifi"), result("wifi-r", of="wifi"))
        await caught_up(node)
        endpoint = f"{node.url}/sparql"

        def run(query: str, fmt: str, method: str = "GET") -> Any:
            client = SPARQLWrapper(endpoint)
            client.setQuery(query)
            client.setReturnFormat(fmt)
            client.setMethod(method)
            return client.query()

        select = (
            PREFIXES
            + "SELECT ?p ?v WHERE { ?r cn:measurement ?m . ?m schema:value ?v . ?r cn:resultOf ?p }"
        )
        csv_text = (await asyncio.to_thread(run, select, CSV)).convert().decode()
        assert csv_text.splitlines()[0] == "p,v" and f"{node.url}/records/wifi,33" in csv_text
        posted = (await asyncio.to_thread(run, select, JSON, "POST")).convert()
        assert posted["results"]["bindings"][0]["v"]["value"] == "33"
        construct = (
            PREFIXES
            + "CONSTRUCT { ?p dcterms:title ?t } WHERE { ?p a cn:Project ; dcterms:title ?t }"
        )
        turtle = (await asyncio.to_thread(run, construct, TURTLE)).convert()
        graph = Graph().parse(data=turtle, format="turtle")
        assert len(graph) == 2

        def rdflib_forms() -> tuple[bool, int, int]:
            store = Graph(store=SPARQLStore(endpoint))  # XML results, RDF/XML graphs
            asked = store.query(PREFIXES + "ASK { ?p a cn:Project }").askAnswer
            described = store.query(f"DESCRIBE <{node.url}/records/wifi>").graph
            tsv = SPARQLStore(endpoint, returnFormat="tsv")
            rows = list(Graph(store=tsv).query(select))
            return bool(asked), len(described or []), len(rows)

        asked, described, rows = await asyncio.to_thread(rdflib_forms)
        assert asked and described > 5 and rows == 1
        status, body, headers = await get(endpoint, query=select, format="tsv")
        assert status == 200 and headers["Content-Type"].startswith("text/tab-separated-values")
        assert body.decode().splitlines()[0] == "?p\t?v"
        status, body, headers = await get(endpoint, query=construct, format="jsonld")
        assert status == 200 and json.loads(body)
        status, body, headers = await get(endpoint)  # the service description
        assert (
            status == 200
            and b"sd:Service" in body
            and headers["Content-Type"].startswith("text/turtle")
        )
    finally:
        await node.stop()


async def test_bad_queries_updates_and_service_are_refused(tmp_path: Path) -> None:
    node = await sparql_node(tmp_path, sparql_max_rows=3)
    try:
        await publish(node, practice("wifi"), practice("aulas"))
        await caught_up(node)
        endpoint = f"{node.url}/sparql"
        status, body, _ = await get(endpoint, query="SELEC ?s WHERE { ?s ?p ?o }")
        error = json.loads(body)
        assert status == 400 and error["code"] == "malformed_query" and "1:" in error["message"]
        for query in (
            "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
            "select * { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
            "SELECT * { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        ):
            status, body, _ = await get(endpoint, query=query)
            assert status == 403 and json.loads(body)["code"] == "service_refused", query
        # The word in a string or an IRI is not the keyword.
        status, _, _ = await get(endpoint, query='SELECT * { ?s ?p "SERVICE" }')
        assert status == 200
        async with aiohttp.ClientSession() as session:
            for data, headers in (
                (
                    b"INSERT DATA { <http://a> <http://b> <http://c> }",
                    {"Content-Type": "application/sparql-update"},
                ),
                (b"update=DROP+ALL", {"Content-Type": "application/x-www-form-urlencoded"}),
            ):
                async with session.post(endpoint, data=data, headers=headers) as resp:
                    assert resp.status == 403 and (await resp.json())["code"] == "update_refused"
            async with session.get(endpoint, params={"update": "DROP ALL"}) as resp:
                assert resp.status == 403
            async with session.post(
                endpoint, data=b"x", headers={"Content-Type": "text/plain"}
            ) as resp:
                assert resp.status == 415
        status, body, headers = await get(
            endpoint, query="SELECT * WHERE { ?s ?p ?o } LIMIT 100000000"
        )
        answer = json.loads(body)
        assert status == 200 and len(answer["results"]["bindings"]) == 3
        assert answer["truncated"] is True and headers["Citynode-Results-Truncated"] == "true"
        assert headers["Citynode-Result-Limit"] == "3"
        status, body, _ = await get(endpoint, query="SELECT * WHERE { ?s ?p ?o }", format="turtle")
        assert status == 406 and json.loads(body)["code"] == "not_acceptable"
        for graph in ("http://a b", "not an iri"):
            status, body, _ = await get(
                endpoint, query="SELECT * { ?s ?p ?o }", **{"default-graph-uri": graph}
            )
            assert status == 400 and "graph" in json.loads(body)["message"]
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                endpoint, data=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"}
            ) as resp,
        ):
            assert resp.status == 400
        # The process that answered all of this is still the first one: nothing crashed it.
        assert node.runner.app[SPARQL].pool.replaced == 0
    finally:
        await node.stop()


async def test_a_runaway_query_is_stopped_and_the_node_keeps_serving(tmp_path: Path) -> None:
    node = await sparql_node(tmp_path, sparql_timeout_seconds=1.0, sparql_processes=1)
    try:
        await publish(node, *(practice(f"p{i}") for i in range(3)))
        await caught_up(node)
        endpoint = f"{node.url}/sparql"
        # Five-fold cross product of ~60 triples: ~10^9 rows to count, a few bytes of memory.
        runaway = (
            "SELECT (COUNT(*) AS ?n) WHERE "
            "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
        )
        started = time.monotonic()
        slow = asyncio.create_task(get(endpoint, query=runaway))
        await asyncio.sleep(0.2)
        # Meanwhile the node answers everything else at once.
        status, _, _ = await get(f"{node.url}/records")
        assert status == 200 and not slow.done()
        status, body, _ = await slow
        assert status == 422 and json.loads(body)["code"] == "query_timeout"
        assert time.monotonic() - started < 8
        assert node.runner.app[SPARQL].pool.stopped == 1
        # The killed process was replaced: the next query is answered.
        status, body, _ = await get(endpoint, query="ASK { ?s ?p ?o }")
        assert status == 200 and json.loads(body)["boolean"] is True
    finally:
        await node.stop()


async def test_the_store_follows_writes_withdrawals_and_is_rebuilt(tmp_path: Path) -> None:
    node = await sparql_node(tmp_path)
    endpoint = f"{node.url}/sparql"
    ask = "ASK {{ <{}/records/{}> ?p ?o }}"
    # Every batch through the backlog path (bulk load, then the position on its own).
    node.runner.app[SPARQL].view.backlog = 1
    try:
        await publish(node, practice("wifi"), practice("aulas"))

        async def holds(slug: str) -> bool:
            _, body, _ = await get(endpoint, query=ask.format(node.url, slug))
            return bool(json.loads(body)["boolean"])

        await wait_for(lambda: holds("aulas"), within=10, what="the SPARQL store to follow")
        withdraw = f"{node.url}/api/records/aulas"
        async with (
            aiohttp.ClientSession() as session,
            session.delete(withdraw, headers=node.auth()) as resp,
        ):
            assert resp.status in (200, 201), await resp.text()
        await wait_for(lambda: _not(holds("aulas")), within=10, what="the withdrawal")
        assert await holds("wifi")
        busy = await asyncio.to_thread(rebuild_command, node.home)
        assert busy.returncode == 1 and "stop it first" in busy.stderr
    finally:
        await node.stop()
    # `citynode sparql rebuild`: the store from nothing, the same answer.
    done = await asyncio.to_thread(rebuild_command, node.home)
    assert done.returncode == 0, done.stderr
    assert "2 records" in done.stdout  # wifi, and the tombstone of aulas
    node = await start_node(node.home, sock=_bound(node.url))
    try:
        assert await holds_again(node, "wifi") and not await holds_again(node, "aulas")
    finally:
        await node.stop()


def rebuild_command(home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "citynode.cli", "sparql", "rebuild", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


async def holds_again(node: RunningNode, slug: str) -> bool:
    _, body, _ = await get(
        f"{node.url}/sparql", query=f"ASK {{ <{node.url}/records/{slug}> ?p ?o }}"
    )
    return bool(json.loads(body)["boolean"])


def _bound(url: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    return sock


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_query_processes_end_when_the_node_is_killed(tmp_path: Path) -> None:
    """kill -9 of `serve` leaves no SPARQL process behind (they watch their parent)."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    home = tmp_path / "killed"
    cli = [sys.executable, "-m", "citynode.cli"]
    subprocess.run(
        [*cli, "init", "--home", str(home), "--url", f"http://127.0.0.1:{port}", "--name",
         "Medellín", "--country", "CO"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = subprocess.Popen(
        [*cli, "serve", "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert server.stdout is not None and b"serving" in server.stdout.readline()
        url = f"http://127.0.0.1:{port}/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D"
        with urllib.request.urlopen(url, timeout=60) as resp:
            assert json.loads(resp.read())["boolean"] is False
        workers = _children(server.pid)
        assert workers, "a query process was started"
        server.kill()
        server.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()
