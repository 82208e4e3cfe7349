"""did:web <-> base URL, the DID document we serve, and reading peers' DID documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.did import (
    DID_CONTEXT,
    DidError,
    KeyEntry,
    base_url_from_did,
    build_did_document,
    descriptor_url,
    did_document_url,
    did_from_base_url,
    format_timestamp,
    is_under_base_url,
    key_resolver,
    keys_from_document,
    parse_did_document,
    parse_timestamp,
    split_key_id,
)
from protocol.errors import KeyFormatError, ProtocolError, UnknownKey
from protocol.multikey import public_key_from_multibase, raw_public_key

KEY_PAIR = json.loads(
    (Path(__file__).parent / "vectors" / "di-eddsa" / "TestVectors" / "keyPair.json").read_text()
)
DID = "did:web:medellin.example"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
T2 = datetime(2024, 9, 1, 8, 0, 0, 250_000, tzinfo=UTC)


# --- did:web <-> base URL ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "did"),
    [
        ("https://medellin.example", "did:web:medellin.example"),
        ("https://medellin.example/", "did:web:medellin.example"),
        ("https://Medellin.Example", "did:web:medellin.example"),
        ("https://medellin.example:443", "did:web:medellin.example"),
        ("http://127.0.0.1:8443", "did:web:127.0.0.1%3A8443"),
        ("http://localhost:8080/", "did:web:localhost%3A8080"),
        ("https://cities.example/co/medellin", "did:web:cities.example:co:medellin"),
        ("https://cities.example:8443/co/medellin/", "did:web:cities.example%3A8443:co:medellin"),
    ],
)
def test_did_from_base_url(base_url: str, did: str) -> None:
    assert did_from_base_url(base_url) == did


@pytest.mark.parametrize(
    ("did", "scheme", "base_url"),
    [
        ("did:web:medellin.example", "https", "https://medellin.example"),
        ("did:web:127.0.0.1%3A8443", "http", "http://127.0.0.1:8443"),
        ("did:web:127.0.0.1%3a8443", "http", "http://127.0.0.1:8443"),
        ("did:web:cities.example:co:medellin", "https", "https://cities.example/co/medellin"),
    ],
)
def test_base_url_from_did(did: str, scheme: str, base_url: str) -> None:
    assert base_url_from_did(did, scheme) == base_url
    assert did_from_base_url(base_url) == did.replace("%3a", "%3A")


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://medellin.example",
        "https://medellin.example/?q=1",
        "https://medellin.example/#top",
        "https://user@medellin.example",
        "https://[::1]:8443",
        "https://",
        "https://medellin.example/a:b",
        "https://medellin.example/a/../b",
        "https://medellin.example/%2e%2e/b",
        "https://medellin.example/with space",
        "https://bad_host.example",
        "https://medellin.example:99999",
        "medellin.example",
    ],
)
def test_did_from_base_url_refuses(base_url: str) -> None:
    with pytest.raises(DidError):
        did_from_base_url(base_url)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "did:web:",
        "did:web:Medellin.example",
        "did:web:medellin.example%3Ahttps",
        "did:web:medellin.example%3A0",
        "did:web:medellin.example:..",
        "did:web:medellin.example::x",
        "did:web:medellin.example#key-1",
        "did:web:medellin.example/x",
    ],
)
def test_base_url_from_did_refuses(did: str) -> None:
    with pytest.raises(DidError):
        base_url_from_did(did)


def test_base_url_from_did_refuses_other_schemes() -> None:
    with pytest.raises(DidError):
        base_url_from_did(DID, "ftp")


def test_document_and_descriptor_urls() -> None:
    assert did_document_url(DID) == "https://medellin.example/.well-known/did.json"
    assert did_document_url("did:web:c.example:co:med") == "https://c.example/co/med/did.json"
    assert did_document_url("did:web:127.0.0.1%3A8443", "http") == (
        "http://127.0.0.1:8443/.well-known/did.json"
    )
    assert descriptor_url("https://medellin.example/") == (
        "https://medellin.example/.well-known/citynode"
    )


def test_split_key_id() -> None:
    assert split_key_id("did:web:medellin.example#key-1") == (DID, "key-1")
    for bad in ("did:web:medellin.example", "#key-1", "did:web:medellin.example#"):
        with pytest.raises(DidError):
            split_key_id(bad)


# --- is_under_base_url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://medellin.example/records/1",
        "https://MEDELLIN.example/records/1",
        "https://medellin.example:443/records/1",
        "https://medellin.example/records/1?v=2",
        "https://medellin.example/a",
    ],
)
def test_under_base_url(url: str) -> None:
    assert is_under_base_url(url, "https://medellin.example")


@pytest.mark.parametrize(
    "url",
    [
        "https://medellin.example.evil.com/records/1",
        "https://medellin.examplex/records/1",
        "https://medellin.example@evil.com/records/1",
        "https://evil.com@medellin.example/records/1",
        "https://evil.com/https://medellin.example/records/1",
        "https://medellin.example/../records/1",
        "https://medellin.example/records/../../x",
        "https://medellin.example/%2e%2e/x",
        "https://medellin.example/./x",
        "https://medellin.example\\@evil.com/x",
        "https://medellin.example:8443/records/1",
        "http://medellin.example/records/1",
        "https://medellin.example",
        "https://medellin.example/",
        "https://medellin.example:abc/x",
        "https://medellin.example/re cords",
        "//medellin.example/records/1",
        "did:web:medellin.example",
        "",
    ],
)
def test_outside_base_url(url: str) -> None:
    assert not is_under_base_url(url, "https://medellin.example")


def test_under_base_url_with_path_and_port() -> None:
    base = "http://127.0.0.1:8443/co/medellin"
    assert is_under_base_url("http://127.0.0.1:8443/co/medellin/records/1", base)
    assert not is_under_base_url("http://127.0.0.1:8443/co/medellinx/records/1", base)
    assert not is_under_base_url("http://127.0.0.1:8443/co/records/1", base)
    assert not is_under_base_url("http://127.0.0.1:8444/co/medellin/records/1", base)


# --- timestamps -------------------------------------------------------------------------------


def test_timestamps() -> None:
    assert parse_timestamp("2024-06-01T12:30:00Z") == T1
    assert parse_timestamp("2024-06-01T14:30:00+02:00") == T1
    assert format_timestamp(T1) == "2024-06-01T12:30:00Z"
    assert format_timestamp(T2) == "2024-09-01T08:00:00.250000Z"
    assert parse_timestamp(format_timestamp(T2)) == T2
    for bad in ("2024-06-01T12:30:00", "yesterday", "2024-13-01T00:00:00Z"):
        with pytest.raises(ProtocolError):
            parse_timestamp(bad)
    with pytest.raises(ProtocolError):
        format_timestamp(datetime(2024, 1, 1))  # naive on purpose


# --- the DID document we serve ----------------------------------------------------------------


def _keys() -> tuple[list[KeyEntry], list[Ed25519PrivateKey]]:
    private = [Ed25519PrivateKey.generate() for _ in range(3)]
    keys = [
        KeyEntry(fragment="key-1", public_key=private[0].public_key(), created=T0, retired=T1),
        KeyEntry(fragment="key-2", public_key=private[1].public_key(), created=T1, revoked=T2),
        KeyEntry(fragment="key-3", public_key=private[2].public_key(), created=T2),
    ]
    return keys, private


def test_build_did_document_shape() -> None:
    keys, _ = _keys()
    doc = build_did_document(DID, keys, descriptor_url("https://medellin.example"))
    assert doc["@context"][:2] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert doc["@context"] == DID_CONTEXT
    assert doc["id"] == DID
    ids = [f"{DID}#key-1", f"{DID}#key-2", f"{DID}#key-3"]
    assert [m["id"] for m in doc["verificationMethod"]] == ids
    assert doc["assertionMethod"] == ids
    assert doc["authentication"] == [f"{DID}#key-3"]
    first, second, third = doc["verificationMethod"]
    assert first["type"] == "Multikey" and first["controller"] == DID
    assert first["publicKeyMultibase"].startswith("z6Mk")
    assert first["created"] == "2024-01-01T00:00:00Z"
    assert first["retired"] == "2024-06-01T12:30:00Z" and "revoked" not in first
    assert second["revoked"] == "2024-09-01T08:00:00.250000Z" and "retired" not in second
    assert "retired" not in third and "revoked" not in third
    assert doc["service"] == [
        {
            "id": f"{DID}#citynode",
            "type": "CityNode",
            "serviceEndpoint": "https://medellin.example/.well-known/citynode",
        }
    ]
    assert "service" not in build_did_document(DID, keys, None)


def test_did_document_context_is_not_shared_mutable_state() -> None:
    keys, _ = _keys()
    doc = build_did_document(DID, keys)
    doc["@context"][2]["created"] = "tampered"
    assert build_did_document(DID, keys)["@context"] == DID_CONTEXT
    assert DID_CONTEXT[2]["created"] != "tampered"


def test_vector_key_in_a_did_document() -> None:
    key = public_key_from_multibase(KEY_PAIR["publicKeyMultibase"])
    doc = build_did_document(DID, [KeyEntry(fragment="key-1", public_key=key, created=T0)])
    assert doc["verificationMethod"][0]["publicKeyMultibase"] == KEY_PAIR["publicKeyMultibase"]


def test_build_refuses_a_bad_did() -> None:
    keys, _ = _keys()
    with pytest.raises(DidError):
        build_did_document("did:key:z6Mk", keys)


# --- reading DID documents --------------------------------------------------------------------


def test_round_trip_through_json() -> None:
    keys, _ = _keys()
    data = msgspec.json.encode(build_did_document(DID, keys, "https://medellin.example/x"))
    doc = parse_did_document(data)
    assert doc.id == DID and doc.service[0].type == "CityNode"
    found = keys_from_document(doc)
    assert list(found) == [f"{DID}#key-1", f"{DID}#key-2", f"{DID}#key-3"]
    for key in keys:
        entry = found[f"{DID}#{key.fragment}"]
        assert entry.fragment == key.fragment
        assert raw_public_key(entry.public_key) == raw_public_key(key.public_key)
        assert (entry.created, entry.retired, entry.revoked) == (
            key.created,
            key.retired,
            key.revoked,
        )
    assert list(keys_from_document(doc, "authentication")) == [f"{DID}#key-3"]
    assert parse_did_document(json.loads(data)) == doc


def test_unknown_fields_are_ignored() -> None:
    keys, _ = _keys()
    raw = build_did_document(DID, keys)
    raw["alsoKnownAs"] = ["https://medellin.example/"]
    raw["futureField"] = {"x": 1}
    raw["verificationMethod"][0]["futureKeyField"] = True
    doc = parse_did_document(msgspec.json.encode(raw))
    assert doc.also_known_as == ["https://medellin.example/"]
    assert len(keys_from_document(doc)) == 3


def _peer_document(**method: Any) -> dict[str, Any]:
    entry = {
        "id": "#key-1",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": KEY_PAIR["publicKeyMultibase"],
    }
    entry.update(method)
    return {
        "@context": "https://www.w3.org/ns/did/v1",
        "id": DID,
        "verificationMethod": [entry],
        "assertionMethod": ["#key-1"],
    }


def test_relative_ids_and_missing_times() -> None:
    found = keys_from_document(parse_did_document(_peer_document()))
    entry = found[f"{DID}#key-1"]
    assert entry.fragment == "key-1" and entry.retired is None and entry.revoked is None
    assert entry.created == datetime.min.replace(tzinfo=UTC)


def test_embedded_assertion_method() -> None:
    doc = _peer_document()
    doc["assertionMethod"] = [doc.pop("verificationMethod")[0]]
    assert list(keys_from_document(parse_did_document(doc))) == [f"{DID}#key-1"]


@pytest.mark.parametrize(
    "change",
    [
        {"type": "JsonWebKey2020"},
        {"controller": "did:web:evil.example"},
        {"id": "did:web:evil.example#key-1"},
        {"publicKeyMultibase": None},
    ],
)
def test_keys_that_are_not_ours_are_skipped(change: dict[str, Any]) -> None:
    doc = _peer_document(**change)
    if change.get("id"):
        doc["assertionMethod"] = [change["id"]]
    assert keys_from_document(parse_did_document(doc)) == {}


def test_key_not_referenced_for_the_purpose_is_skipped() -> None:
    doc = _peer_document()
    doc["assertionMethod"] = []
    assert keys_from_document(parse_did_document(doc)) == {}


@pytest.mark.parametrize(
    "change",
    [{"publicKeyMultibase": "z6MkBAD0"}, {"revoked": "not a time"}, {"created": "2024-01-01"}],
)
def test_broken_keys_raise(change: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError, match="key-1"):
        keys_from_document(parse_did_document(_peer_document(**change)))


@pytest.mark.parametrize(
    "data",
    [b"not json", b"[]", b'{"verificationMethod": []}', {"id": DID, "verificationMethod": 3}],
)
def test_parse_refuses_bad_documents(data: bytes | dict[str, Any]) -> None:
    with pytest.raises(DidError):
        parse_did_document(data)


def test_unsupported_purpose() -> None:
    with pytest.raises(DidError):
        keys_from_document(parse_did_document(_peer_document()), "keyAgreement")


def test_key_resolver() -> None:
    keys, _ = _keys()
    resolve = key_resolver({f"{DID}#{k.fragment}": k for k in keys})
    assert resolve(f"{DID}#key-2") is keys[1]
    with pytest.raises(UnknownKey) as info:
        resolve(f"{DID}#key-9")
    assert info.value.detail == {"key": f"{DID}#key-9"}
