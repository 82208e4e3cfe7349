"""Figures for the open-data issue: SPARQL latency and the node's memory, dump throughput.

A node's home is filled with `records` current records of 300 cities (the search corpus, plus
two measurements per result naming an indicator of the shipped scheme, and the licence, shapes
and roles a node writes into what it publishes), stored as ingest stores them (the SPARQL store
and the dumps do not verify, so the records are not signed here). The SPARQL store is built by
its change-log follower in this process (the rebuild rate), then `citynode serve` runs on the
home as its own process and, once its other views have caught up with the log, is measured from
outside over HTTP, as a user would: query latency, the resident memory of the node and its query
processes while they answer, and a full Turtle dump.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from bench.node_bench import _config, free_port
from bench.search_corpus import corpus
from citynode.node import Node, create_home
from citynode.opendata.sparql import Sparql
from citynode.publishing import state_defaults
from citynode.storage import records as store
from citynode.storage.origins import put_origin
from protocol.records import RECORD_CONTEXT

PREFIXES = """PREFIX cn: <https://w3id.org/citynode/vocab#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/>
"""
#: Three typical questions (the README's examples): practices for one SDG target across
#: cities; one indicator's values per city; practices on one theme in one country's cities.
TYPICAL = {
    "practices of SDG 11.3 by city": PREFIXES
    + """SELECT ?city ?practice ?title WHERE {
  ?practice cn:sdg <http://metadata.un.org/sdg/11.3> ; dcterms:title ?title ;
            dcterms:publisher ?node .
  ?node foaf:name ?city .
} ORDER BY ?city LIMIT 1000""",
    "indicator values per city": PREFIXES
    + """SELECT ?city (SUM(?value) AS ?total) (COUNT(?m) AS ?n) WHERE {
  ?m cn:indicator "Households connected"@en ; schema:value ?value .
  ?result cn:measurement ?m ; dcterms:publisher ?node .
  ?node foaf:name ?city .
} GROUP BY ?city ORDER BY DESC(?total)""",
    "connectivity practices, newest": PREFIXES
    + """SELECT ?practice ?title ?modified WHERE {
  ?practice dcat:theme <https://w3id.org/citynode/theme#connectivity> ;
            dcterms:modified ?modified ; dcterms:title ?title .
  FILTER(lang(?title) = "es")
} ORDER BY DESC(?modified) LIMIT 20""",
}


def readme_examples() -> dict[str, str]:
    """The README's example queries as a reader copies them (heavier: over every practice or
    every measurement in the store), measured for the record."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in readme.split("```sparql\n")[1:]]
    names = ["README: practices per SDG target x city", "README: every indicator value, en"]
    return dict(zip(names, blocks, strict=True))


#: Indicators of the measurements: label, indicator of the shipped scheme, its UCUM unit.
INDICATORS = [
    ("Households connected", "households-connected", "{household}"),
    ("People trained", "people-trained", "{person}"),
    ("Public Wi-Fi points", "public-wifi-points", "{site}"),
]
INDICATOR_SCHEME = "https://w3id.org/citynode/indicator#"


def _versions(size: int) -> Any:
    for n, (doc, origin) in enumerate(corpus(size)):
        doc = {"@context": RECORD_CONTEXT, **doc}
        if doc["type"] == "Result":
            doc["measurements"] = [
                {
                    "type": "Measurement",
                    "indicator": {"en": label},
                    "measures": INDICATOR_SCHEME + indicator,
                    "value": (n * 7 + k) % 5000,
                    "unit": "count",
                    "unitCode": unit,
                    "period": "2023",
                }
                for k in range(2)
                for label, indicator, unit in [INDICATORS[(n + k) % len(INDICATORS)]]
            ]
        # What a node writes into every record it publishes (licence, shapes, roles).
        state_defaults(doc)
        body = msgspec.json.encode(doc)
        version = store.NewVersion(
            id=doc["id"],
            version=1,
            type=doc["type"],
            origin=origin.did,
            modified=doc["modified"],
            status=doc.get("status"),
            body=body,
        )
        yield version, origin


async def fill(home: Path, size: int) -> dict[str, float]:
    """Store `size` records in `home`, then build the SPARQL store by following the log."""
    await create_home(_config(home, free_port()), home)
    async with Node.opened(home) as node:
        seen: set[str] = set()
        versions = _versions(size)
        while batch := list(itertools.islice(versions, 2000)):
            async with node.db.transaction() as conn:
                for _, origin in batch:
                    if origin.did not in seen:
                        seen.add(origin.did)
                        await put_origin(conn, origin)
                await store.append(conn, [v for v, _ in batch])
        started = time.perf_counter()
        async with Sparql.opened(node, follow=False) as service:
            applied = await service.following.step()
        build = time.perf_counter() - started
    return {"records": applied, "build_per_s": applied / build}


def engines(size: int = 5_000) -> dict[str, float]:
    """The same query on the same triples in rdflib's in-memory graph and in Oxigraph (the
    choice of engine, measured): ms for one run of the "connectivity, newest" query."""
    import pyoxigraph as ox
    from rdflib import Graph

    from citynode import rdf

    documents = [msgspec.json.decode(v.body) for v, _ in itertools.islice(_versions(size), size)]
    ntriples = rdf.serialize(documents, "nt")
    graph = Graph()
    graph.parse(data=ntriples.decode("utf-8"), format="nt")
    oxigraph = ox.Store()
    oxigraph.load(ntriples, format=ox.RdfFormat.N_TRIPLES)
    query = TYPICAL["connectivity practices, newest"]
    started = time.perf_counter()
    expected = len(list(graph.query(query)))
    rdflib_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    got = len(list(oxigraph.query(query)))
    oxigraph_ms = (time.perf_counter() - started) * 1000
    assert got == expected
    return {"triples": len(graph), "rdflib_ms": rdflib_ms, "oxigraph_ms": oxigraph_ms}


def _tree(pid: int) -> list[int]:
    """The process and its descendants (the SPARQL query processes)."""
    found = [pid]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for child in children:
            found.extend(_tree(int(child)))
    return found


def rss_bytes(pid: int) -> int:
    total = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


class _Refused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


@contextmanager
def _answer(url: str, accept: str, timeout: float) -> Iterator[http.client.HTTPResponse]:
    """GET from the node the bench started (an outside client on loopback, as node_bench's)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                           headers={"Accept": accept})  # fmt: skip
        response = connection.getresponse()
        if response.status >= 400:
            raise _Refused(response.status, response.read())
        yield response
    finally:
        connection.close()


def _get(url: str, accept: str) -> tuple[int, bytes]:
    with _answer(url, accept, 120) as response:
        return response.status, response.read()


def query_ms(base: str, query: str, rounds: int) -> tuple[float, int | str]:
    """Median ms of `rounds` runs and the rows answered (or the error the node gave)."""
    url = f"{base}/sparql?" + urllib.parse.urlencode({"query": query})
    times = []
    body = b""
    try:
        _get(url, "application/sparql-results+json")  # warm: process started, checkpoint open
        for _ in range(rounds):
            started = time.perf_counter()
            _, body = _get(url, "application/sparql-results+json")
            times.append((time.perf_counter() - started) * 1000)
    except _Refused as exc:
        return float("nan"), f"{exc.status} {msgspec.json.decode(exc.body)['code']}"
    rows = msgspec.json.decode(body)["results"]["bindings"]
    return statistics.median(times), len(rows)


def dump_rate(base: str, path: str, pid: int) -> tuple[float, int, int]:
    """MB/s of a streamed dump read to the end, its size, and the node's peak RSS meanwhile."""
    started = time.perf_counter()
    size = 0
    peak = 0
    # Read in pieces and sample the node's memory between them: a dump that buffered the whole
    # file would show it here.
    with _answer(f"{base}{path}", "*/*", 600) as response:
        while chunk := response.read(1 << 20):
            size += len(chunk)
            peak = max(peak, rss_bytes(pid))
    elapsed = time.perf_counter() - started
    return size / elapsed / 1e6, size, peak


def serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    config = (home / "citynode.toml").read_text()
    port = int(next(line.split("=")[1] for line in config.splitlines() if line.startswith("port")))
    process = subprocess.Popen(
        [sys.executable, "-m", "citynode.cli", "serve", "--home", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            _get(f"{base}/records?limit=1", "application/json")
            return process, base
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)


def caught_up(base: str, within: float = 1800) -> float:
    """Seconds until every change-log follower of the node (search index, facts, push notices,
    SPARQL store) has applied the whole log, read from `/.well-known/citynode`.

    A node that was just given 100k records builds its other views first, and measured then,
    its queries share the two cores with that work (the first runs here did): the figures are
    for a node in its steady state, after this.
    """
    started = time.monotonic()
    while True:
        _, body = _get(f"{base}/.well-known/citynode", "application/json")
        lag = msgspec.json.decode(body)["index_lag"]
        if all(view["entries"] == 0 for view in lag.values()):
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise TimeoutError(f"the node's views did not catch up within {within:g} s: {lag}")
        time.sleep(0.5)


def run(size: int, rounds: int = 5) -> dict[str, Any]:
    # A SIGTERM (timeout, a user) still runs the cleanup below: the node it started stops too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "node"
        compared = engines(min(size, 5_000))
        built = asyncio.run(fill(home, size))
        process, base = serve(home)
        try:
            catch_up = caught_up(base)
            idle = rss_bytes(process.pid)
            latencies = {}
            peak = idle
            for name, query in {**TYPICAL, **readme_examples()}.items():
                latencies[name] = query_ms(base, query, rounds)
                peak = max(peak, rss_bytes(process.pid))
            turtle = dump_rate(base, "/dumps/records.ttl?origin=all", process.pid)
            jsonld = dump_rate(base, "/dumps/records.jsonld?origin=all", process.pid)
            small = dump_rate(base, "/dumps/records.ttl?origin=all&type=Policy", process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
        store_bytes = sum(
            f.stat().st_size for f in (home / "sparql" / "store").rglob("*") if f.is_file()
        )
    return {
        **built,
        "catch_up_seconds": catch_up,
        "engines": compared,
        "latencies": latencies,
        "rss_idle": idle,
        "rss_queries": peak,
        "turtle": turtle,
        "jsonld": jsonld,
        "small_turtle": small,
        "store_bytes": store_bytes,
        "load": os.getloadavg()[0],
    }


def report(figures: dict[str, Any]) -> list[str]:
    compared = figures["engines"]
    lines = [
        f"engines, one FILTER + ORDER BY query over {compared['triples']:,} triples: rdflib "
        f"{compared['rdflib_ms']:,.0f} ms, Oxigraph {compared['oxigraph_ms']:,.1f} ms "
        f"({compared['rdflib_ms'] / compared['oxigraph_ms']:,.0f}x)",
        f"SPARQL store built from the log  {figures['build_per_s']:>8,.0f} records/s "
        f"({figures['records']:,} records, store {figures['store_bytes'] / 1e6:,.0f} MB)",
    ]
    lines.append(
        f"serve: its other views (search index, facts, push) caught up with the log in "
        f"{figures['catch_up_seconds']:,.0f} s; the figures below are measured after that"
    )
    for name, (ms, rows) in figures["latencies"].items():
        typical = name in TYPICAL
        target = "   (issue: <= 500 ms)" if typical else "   (for the record)"
        shown = f"{rows:>6,} rows" if isinstance(rows, int) else f"refused: {rows}"
        lines.append(f"  {name:<42}{ms:>8.0f} ms  {shown}{target}")
    lines.append(
        f"node RSS (serve + query processes): idle {figures['rss_idle'] / 2**20:,.0f} MiB, "
        f"answering {figures['rss_queries'] / 2**20:,.0f} MiB   (issue: <= 1024 MiB)"
    )
    mb_s, size, peak = figures["turtle"]
    lines.append(
        f"Turtle dump (whole replica)      {mb_s:>8.1f} MB/s, {size / 1e6:,.0f} MB, node RSS "
        f"peak {peak / 2**20:,.0f} MiB   (issue: >= 20 MB/s)"
    )
    mb_s_j, size_j, peak_j = figures["jsonld"]
    lines.append(
        f"JSON-LD dump (stored bytes)      {mb_s_j:>8.1f} MB/s, {size_j / 1e6:,.0f} MB, node RSS "
        f"peak {peak_j / 2**20:,.0f} MiB   (Turtle = {mb_s / mb_s_j:.2f} x JSON-LD)"
    )
    _, small_size, small_peak = figures["small_turtle"]
    lines.append(
        f"memory: a {small_size / 1e6:,.0f} MB dump peaks at {small_peak / 2**20:,.0f} MiB, the "
        f"{size / 1e6:,.0f} MB one at {peak / 2**20:,.0f} MiB (constant memory: about equal)"
    )
    lines.append(f"load average during the run: {figures['load']:.1f} (2 cores)")
    return lines
