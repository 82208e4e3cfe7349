"""Federation wire messages: one tagged union, tolerant of newer fields."""

from __future__ import annotations

import contextlib
import hashlib

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import InvalidMessage
from protocol.messages import (
    PROTOCOL_VERSION,
    ChangesPage,
    DigestRequest,
    DigestResponse,
    Endpoints,
    InboxNotice,
    Message,
    NodeDescriptor,
    OriginDigest,
    PeerRequest,
    PeerResponse,
    SearchHit,
    SearchRequest,
    SearchResponse,
    check_descriptor,
    decode_as,
    decode_message,
    encode_message,
    origin_digest,
)

BASE = "https://medellin.example"


def descriptor(**changes: object) -> NodeDescriptor:
    fields: dict[str, object] = {
        "did": "did:web:medellin.example",
        "base_url": BASE,
        "name": "Medellín",
        "country": "CO",
        "wikidata": "Q48278",
        "languages": ["es", "en"],
        "endpoints": Endpoints(
            changes=f"{BASE}/fed/v1/changes",
            inbox=f"{BASE}/fed/v1/inbox",
            did_document=f"{BASE}/.well-known/did.json",
            search=f"{BASE}/fed/v1/search",
        ),
    }
    fields.update(changes)
    return NodeDescriptor(**fields)  # type: ignore[arg-type]


EXAMPLES: list[Message] = [
    descriptor(),
    ChangesPage(
        node="did:web:medellin.example",
        items=[{"id": f"{BASE}/practices/1", "type": "Project", "version": 2}],
        next="1.Ag",
        has_more=True,
    ),
    InboxNotice(sender="did:web:medellin.example", cursor="1.Ag"),
    PeerRequest(descriptor=descriptor(), note="Hola"),
    PeerResponse(status="pending"),
    DigestRequest(origins=["did:web:medellin.example"]),
    DigestResponse(
        node="did:web:bogota.example",
        origins=[OriginDigest(origin="did:web:medellin.example", count=2, digest="ab")],
        cursor="1.Ag",
    ),
    SearchRequest(query="conectividad", limit=5),
    SearchResponse(
        node="did:web:medellin.example",
        hits=[
            SearchHit(
                id=f"{BASE}/practices/1",
                origin="did:web:medellin.example",
                title={"es": "Parques del Río"},
                score=1.5,
            )
        ],
    ),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip_and_dispatch(message: Message) -> None:
    data = encode_message(message)
    assert msgspec.json.decode(data)["type"] == type(message).__name__
    decoded = decode_message(data)
    assert decoded == message
    match decoded:
        case InboxNotice(sender=sender, kind="changes"):
            assert sender == "did:web:medellin.example"
        case NodeDescriptor(protocol=protocol):
            assert protocol == PROTOCOL_VERSION
        case _:
            assert type(decoded) is type(message)


def test_camel_case_and_explicit_versions_on_the_wire() -> None:
    wire = msgspec.json.decode(encode_message(descriptor()))
    assert wire["baseUrl"] == BASE
    assert wire["endpoints"]["didDocument"] == f"{BASE}/.well-known/did.json"
    assert wire["protocol"] == "citynode/1"
    assert wire["vocabulary"] == "https://w3id.org/citynode/v1"
    assert wire["limits"]["maxPageSize"] == 500


def test_newer_fields_and_kinds_are_tolerated() -> None:
    newer = (
        b'{"type":"InboxNotice","sender":"did:web:a.example","cursor":"1.AQ",'
        b'"kind":"keys-rotated","signedAt":"2030-01-01T00:00:00Z","extra":{"a":[1]}}'
    )
    notice = decode_as(newer, InboxNotice)
    assert notice.kind == "keys-rotated"
    older = b'{"type":"ChangesPage","node":"did:web:a.example","items":[],"next":"1.AA"}'
    assert decode_as(older, ChangesPage).has_more is False


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"{}",
        b'{"type":"Nope"}',
        b'{"type":"InboxNotice"}',
        b'{"type":"SearchRequest","query":"x","limit":0}',
        b'{"type":"SearchRequest","query":"x","limit":1000}',
        b'{"type":"InboxNotice","sender":1,"cursor":"1.AQ"}',
        b"\xff",
    ],
)
def test_invalid_messages(data: bytes) -> None:
    with pytest.raises(InvalidMessage):
        decode_message(data)


def test_decode_as_checks_the_kind() -> None:
    with pytest.raises(InvalidMessage) as caught:
        decode_as(encode_message(PeerResponse(status="accepted")), InboxNotice)
    assert caught.value.detail == {"expected": "InboxNotice", "got": "PeerResponse"}


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzz_decode_raises_only_invalid_message(data: bytes) -> None:
    with contextlib.suppress(InvalidMessage):
        decode_message(data)


def test_check_descriptor() -> None:
    check_descriptor(descriptor())
    elsewhere = Endpoints(
        changes="https://evil.example/changes",
        inbox=f"{BASE}/fed/v1/inbox",
        did_document=f"{BASE}/.well-known/did.json",
    )
    prefix_trick = Endpoints(
        changes=f"{BASE}.evil.example/changes",
        inbox=f"{BASE}/fed/v1/inbox",
        did_document=f"{BASE}/.well-known/did.json",
    )
    for bad in [
        descriptor(endpoints=elsewhere),
        descriptor(endpoints=prefix_trick),
        descriptor(base_url="ftp://medellin.example"),
        descriptor(base_url="https://medellin.example/?q=1"),
        descriptor(protocol="citynode/2"),
    ]:
        with pytest.raises(InvalidMessage):
            check_descriptor(bad)
    check_descriptor(descriptor(protocol="citynode/1.3"))


def test_origin_digest() -> None:
    pairs = [("https://a.example/p/2", 1), ("https://a.example/p/1", 3)]
    expected = hashlib.sha256(
        b'["https://a.example/p/1",3]\n["https://a.example/p/2",1]\n'
    ).hexdigest()
    assert origin_digest(pairs) == expected
    assert origin_digest(reversed(pairs)) == expected
    assert origin_digest([]) == hashlib.sha256(b"").hexdigest()
    assert origin_digest([("https://a.example/p/1", 4), pairs[0]]) != expected
    # Code point order, as SQLite's BINARY collation sorts UTF-8.
    assert (
        origin_digest([("b", 1), ("á", 1), ("a", 1)])
        == hashlib.sha256(b'["a",1]\n["b",1]\n["\xc3\xa1",1]\n').hexdigest()
    )
