"""Every input issue 7 found answering 500 now answers a 4xx in the error shape (or 507).

Each case here failed on the code before the fix; all run against a real node on loopback,
some through a raw socket because no HTTP client sends such bytes on purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from citynode.storage import records as store
from tests.drafts import STATUS, THEME, practice
from tests.federation_support import FAST, Hostile, publish
from tests.support import RunningNode, request_json

DEEP = b"[" * 5_000 + b"]" * 5_000
DEEP_OBJECT = b'{"a":' * 2_000 + b"1" + b"}" * 2_000
NOT_UTF8 = b'{"type": "Project", "id": "records/x", "title": {"es": "\xff\xfe"}}'


async def raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], Any]:
    """Send bytes as they are (headers no client would encode); the status, headers and body."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + b"\r\n" + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    header_part, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_part.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":  # one chunk is all an error needs
        size, _, rest = payload.partition(b"\r\n")
        payload = rest[: int(size, 16)]
    return int(lines[0].split()[1]), headers, msgspec.json.decode(payload) if payload else None


def assert_error(status: int, body: Any, expected: int) -> None:
    assert status == expected, (status, body)
    assert isinstance(body, dict) and set(body) == {"code", "message", "detail"}, body


async def test_authorization_that_is_not_utf8_is_a_401(medellin: RunningNode) -> None:
    head = (
        b"GET /api/peers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer cn_\xff\xfe\xc3\r\nConnection: close\r\n"
    )
    status, headers, body = await raw_request(medellin.url, head)
    assert_error(status, body, 401)
    assert headers["content-type"].startswith("application/json")


#: Bad UTF-8 where each route's decoder reads text (a typed decoder stops earlier elsewhere).
BAD_TEXT = {
    "/api/records": NOT_UTF8,
    "/api/records/x": b'{"reason": {"es": "\xff"}}',
    "/api/peers": b'{"url": "https://\xff.example"}',
    "/fed/v1/inbox": b'{"type": "InboxNotice", "sender": "\xc3", "cursor": "1.AQ"}',
    "/fed/v1/peers": b'{"type": "PeerRequest", "note": "\xff", "descriptor": {}}',
    "/fed/v1/digest": b'{"type": "DigestRequest", "origins": ["\xff"]}',
    "/fed/v1/search": b'{"type": "SearchRequest", "query": "\xff"}',
}


@pytest.mark.parametrize("kind", ["deep", "deep-obj", "utf8", "utf8-field"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/records"), ("DELETE", "/api/records/x"), ("POST", "/api/peers")],
)
async def test_json_bodies_that_msgspec_cannot_decode_are_400(
    medellin: RunningNode, method: str, path: str, kind: str
) -> None:
    payload = {"deep": DEEP, "deep-obj": DEEP_OBJECT, "utf8": NOT_UTF8}.get(kind, BAD_TEXT[path])
    status, body, _ = await request_json(
        method,
        f"{medellin.url}{path}",
        data=payload,
        headers={**medellin.auth(), "Content-Type": "application/json"},
    )
    assert_error(status, body, 400)


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    peer = await Hostile().start()
    yield peer
    await peer.stop()


@pytest.mark.parametrize("kind", ["deep", "deep-obj", "utf8-field"])
@pytest.mark.parametrize("path", ["/fed/v1/inbox", "/fed/v1/peers", "/fed/v1/digest"])
async def test_signed_federation_messages_that_cannot_decode_are_400(
    node_factory: Any, hostile: Hostile, path: str, kind: str
) -> None:
    payload = {"deep": DEEP, "deep-obj": DEEP_OBJECT}.get(kind, BAD_TEXT[path])
    node = await node_factory("Medellín", **FAST)
    url = f"{node.url}{path}"
    status, body, _ = await request_json(
        "POST", url, data=payload, headers=hostile.signed_headers("POST", url, payload)
    )
    assert_error(status, body, 400)
    assert body["code"] == "invalid_message", body


async def test_signed_live_search_that_cannot_decode_is_400(
    node_factory: Any, hostile: Hostile
) -> None:
    node = await node_factory("Medellín", **FAST, live_search=True)
    url = f"{node.url}/fed/v1/search"
    for payload in (DEEP_OBJECT, BAD_TEXT["/fed/v1/search"]):
        status, body, _ = await request_json(
            "POST", url, data=payload, headers=hostile.signed_headers("POST", url, payload)
        )
        assert_error(status, body, 400)


TURTLE_HEAD = f"""
@prefix cn: <https://w3id.org/citynode/vocab#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix adms: <http://www.w3.org/ns/adms#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<records/cycle> a cn:Project ;
    dcterms:title "Ciclo"@es ;
    dcterms:abstract "Un ciclo."@es ;
    adms:status <{STATUS}ongoing> """

TURTLES = {
    "blank-node-cycle": "; dcat:contactPoint _:a .\n_:a dcat:contactPoint _:a .",
    "blank-node-loop": "; dcat:contactPoint _:a .\n_:a dcat:contactPoint _:b .\n"
    "_:b dcat:contactPoint _:a .",
    "integer-abc": '.\n<records/r> a cn:Result ; cn:progress "abc"^^xsd:integer .',
    "decimal-x": "; cn:measurement [ a cn:Measurement ; "
    '<https://schema.org/value> "x"^^xsd:decimal ] .',
    "huge-integer": f'.\n<records/r> a cn:Result ; cn:progress "{"9" * 5000}"^^xsd:integer .',
    "boolean-maybe": '; cn:illustrative "maybe"^^xsd:boolean .',
    "not-utf8": None,
}


@pytest.mark.parametrize("case", sorted(TURTLES))
async def test_hostile_turtle_is_a_4xx(medellin: RunningNode, case: str) -> None:
    tail = TURTLES[case]
    data = (TURTLE_HEAD + tail).encode() if tail else TURTLE_HEAD.encode() + b'; cn:x "\xff" .'
    status, body, _ = await asyncio.wait_for(
        request_json(
            "POST",
            f"{medellin.url}/api/records",
            data=data,
            headers={**medellin.auth(), "Content-Type": "text/turtle"},
        ),
        timeout=30,
    )
    assert status in (400, 422), (case, status, body)
    assert set(body) == {"code", "message", "detail"}
    assert await store.get_current(medellin.node.db.reader, f"{medellin.url}/records/cycle") is None


async def test_html_page_of_a_theme_the_taxonomy_lacks(medellin: RunningNode) -> None:
    # Another city's node may tag with a theme this node's bundled taxonomy does not have yet.
    unknown = THEME + "night-economy"
    await medellin.node.publisher.publish([practice("night", themes=[unknown])], shacl=False)
    status, page, headers = await request_json(
        "GET", f"{medellin.url}/records/night", headers={"Accept": "text/html"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert unknown.encode() in page


async def test_a_full_disk_answers_507_reads_go_on_and_writes_resume(
    medellin: RunningNode,
) -> None:
    await publish(medellin, practice("before"))
    writer = medellin.node.db._writer
    async with writer.execute("PRAGMA page_count") as cursor:
        (pages,) = await cursor.fetchone()  # type: ignore[misc]
    # SQLite's page limit stands in for a full disk: the same SQLITE_FULL, the same paths.
    await writer.execute(f"PRAGMA max_page_count={pages}")
    text = {"es": "datos " * 2_500, "en": "data " * 2_500}
    big = [practice(f"big-{n}", summary=text) for n in range(8)]
    url = f"{medellin.url}/api/records"
    status, body, _ = await request_json("POST", url, json=big, headers=medellin.auth())
    assert_error(status, body, 507)
    assert body["code"] == "storage_full" and "full" in body["message"]
    status, record, _ = await request_json("GET", f"{medellin.url}/records/before")
    assert status == 200 and record["id"].endswith("/records/before")
    status, listing, _ = await request_json("GET", f"{medellin.url}/records")
    assert status == 200 and listing["count"] == 1
    await writer.execute("PRAGMA max_page_count=1073741823")
    status, body, _ = await request_json("POST", url, json=big, headers=medellin.auth())
    assert status == 201, body
    status, listing, _ = await request_json("GET", f"{medellin.url}/records")
    assert listing["count"] == 9


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET /records?q=" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n", 400),
        (b"GET / HTTP/9.9\r\nHost: x\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", 400),
    ],
    ids=["url-too-long", "header-too-long", "space-in-name", "negative-length", "version", "tls"],
)
async def test_http_parser_errors_have_the_error_shape(
    medellin: RunningNode, head: bytes, status: int
) -> None:
    got, headers, body = await raw_request(medellin.url, head)
    assert_error(got, body, status)
    assert headers["content-type"].startswith("application/json")
    # The node goes on serving everyone else.
    ok, _, _ = await request_json("GET", f"{medellin.url}/records")
    assert ok == 200


@pytest.mark.parametrize(
    "target",
    [
        b"/records?modified_since=\xed\xa0\x80",
        b"/records?origin=\xff&type=\xc3",
        b"/records/\xff",
        b"/api/search?q=\xff&city=\xed\xa0\x80&limit=\xc3",
        b"/records/a?format=\xff",
    ],
)
async def test_raw_bytes_in_the_url_are_never_a_5xx(medellin: RunningNode, target: bytes) -> None:
    got, _, body = await raw_request(
        medellin.url, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    )
    assert got < 500, (got, body)
    if got >= 400:
        assert_error(got, body, got)
