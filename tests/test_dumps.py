"""Whole-store dumps over real HTTP: every format, gzip, validators, the replica, the CLI."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Awaitable, Callable

import aiohttp
import pyoxigraph as ox
from rdflib import Graph

from citynode.exports import header
from citynode.imports.csv_records import read_practices, read_results
from citynode.web.keys import DUMP_SLOTS
from protocol.records import DEFAULT_LICENSE
from tests import independent_verifier
from tests.drafts import practice, result
from tests.federation_support import publish
from tests.opendata_support import CITIES, SAMPLES, three_cities
from tests.support import RunningNode, request_json


async def get(url: str, **headers: str) -> tuple[int, bytes, aiohttp.typedefs.LooseHeaders]:
    headers.setdefault("Accept-Encoding", "identity")
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.get(url, headers=headers) as resp,
    ):
        return resp.status, await resp.read(), resp.headers


async def test_every_dump_format_holds_every_record(medellin: RunningNode) -> None:
    await publish(medellin, practice("wifi"), practice("aulas"), result("wifi-r", of="wifi"))
    base = f"{medellin.url}/dumps"
    status, body, headers = await get(f"{base}/records.jsonld")
    assert status == 200 and headers["Content-Type"].startswith("application/ld+json")
    records = json.loads(body)
    assert {r["id"].rsplit("/", 1)[1] for r in records} == {"wifi", "aulas", "wifi-r"}
    _, did_document, _ = await request_json("GET", f"{medellin.url}/.well-known/did.json")
    assert all(independent_verifier.verify(r, did_document) for r in records)

    _, turtle, headers = await get(f"{base}/records.ttl")
    assert headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.decode(), format="turtle")
    assert len(set(graph.subjects())) >= 4  # three records and a measurement

    _, nquads, _ = await get(f"{base}/records.nq")
    quads = list(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    names = {q.graph_name.value for q in quads}
    assert {f"{medellin.url}/records/{s}" for s in ("wifi", "aulas", "wifi-r")} <= names

    _, practices, headers = await get(f"{base}/records.csv")
    assert headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(practices.decode("utf-8-sig"))))
    assert table[0] == header("practices") and len(table) == 3
    _, results, _ = await get(f"{base}/results.csv")
    table = list(csv.reader(io.StringIO(results.decode("utf-8-sig"))))
    assert table[0] == header("results") and table[1][0] == "wifi-r"

    status, body, _ = await get(f"{base}/records.xml")
    assert status == 404 and b"records.jsonld" in body
    status, body, _ = await get(f"{base}/records.ttl?origin=mars")
    assert status == 400 and json.loads(body)["code"] == "bad_request"


async def test_the_csv_dump_is_the_import_template(medellin: RunningNode) -> None:
    """Publish the shipped templates, dump them as CSV, read the dump back: the same drafts."""
    templates = SAMPLES / "templates"
    original = read_practices((templates / "practices.csv").read_text("utf-8-sig"), "p.csv")
    original_results = read_results((templates / "results.csv").read_text("utf-8-sig"), "r.csv")
    await publish(medellin, *original, *original_results)
    _, practices, _ = await get(f"{medellin.url}/dumps/records.csv")
    _, results, _ = await get(f"{medellin.url}/dumps/results.csv")
    again = read_practices(practices.decode("utf-8-sig"), "records.csv")
    again_results = read_results(results.decode("utf-8-sig"), "results.csv")
    key = lambda d: d["id"]  # noqa: E731
    # A template row without a licence is published under the default one, and the dump says so.
    licensed = lambda d: {**d, "license": d.get("license") or DEFAULT_LICENSE}  # noqa: E731
    assert sorted(again, key=key) == sorted(map(licensed, original), key=key)
    assert sorted(again_results, key=key) == sorted(map(licensed, original_results), key=key)


async def test_gzip_etag_and_conditional_requests(medellin: RunningNode) -> None:
    await publish(medellin, practice("wifi"))
    url = f"{medellin.url}/dumps/records.ttl"
    status, plain, headers = await get(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag.startswith('"') and "Content-Encoding" not in headers
    status, packed, gz_headers = await get(url, **{"Accept-Encoding": "gzip"})
    assert gz_headers["Content-Encoding"] == "gzip" and gzip.decompress(packed) == plain
    assert gz_headers["ETag"] != etag and "Accept-Encoding" in gz_headers["Vary"]
    status, body, _ = await get(url, **{"If-None-Match": etag})
    assert status == 304 and body == b""
    status, _, _ = await get(url, **{"If-Modified-Since": modified})
    assert status == 304
    status, _, _ = await get(url, **{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert status == 200
    await publish(medellin, practice("aulas"))
    status, _, headers = await get(url, **{"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag


async def test_the_replica_dump_gives_each_record_its_origin(
    node_factory: Callable[..., Awaitable[RunningNode]],
) -> None:
    nodes = await three_cities(node_factory)
    medellin = nodes[0]
    _, own, _ = await get(f"{medellin.url}/dumps/records.jsonld")
    _, everything, _ = await get(f"{medellin.url}/dumps/records.jsonld?origin=all")
    own_records, all_records = json.loads(own), json.loads(everything)
    assert {r["publisher"] for r in own_records} == {medellin.did}
    assert {r["publisher"] for r in all_records} == {n.did for n in nodes}
    assert len(all_records) > len(own_records)
    _, table, _ = await get(f"{medellin.url}/dumps/records.csv?origin=all")
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8-sig"))))
    assert {row["origin"] for row in rows} == {n.did for n in nodes}
    assert len(CITIES) == 3


async def test_a_flood_of_downloads_is_refused_not_piled_up(medellin: RunningNode) -> None:
    slots = medellin.runner.app[DUMP_SLOTS]
    slots.running = slots.limit  # as if that many dumps were streaming
    try:
        status, body, _ = await get(f"{medellin.url}/dumps/records.ttl")
        assert status == 429 and json.loads(body)["code"] == "too_many_requests"
    finally:
        slots.running = 0
    status, _, _ = await get(f"{medellin.url}/dumps/records.ttl")
    assert status == 200 and slots.running == 0
