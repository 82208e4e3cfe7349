"""Every test vector of docs/vectors/ gives the result it states, in this implementation.

The vectors are read from the committed JSON files (what another implementation would read),
not from the generator; the independent verifier (tests/independent_verifier.py: the `rfc8785`
package, no code of `protocol/`) agrees on every record signature.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.cursor import check_cursor
from protocol.did import did_from_base_url, key_resolver, keys_from_document, parse_did_document
from protocol.errors import ProtocolError
from protocol.httpsig.profile import TAG
from protocol.httpsig.verification import verify_request
from protocol.jcs import canonicalize
from protocol.messages import origin_digest
from protocol.multikey import public_key_to_multibase
from protocol.proofs import verify_record
from protocol.readable import read_record
from protocol.records import check_context, parse_record
from tests import independent_verifier

VECTORS = Path(__file__).resolve().parents[1] / "docs" / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


IDENTITIES = {who["did"]: who for who in load("identities.json")["identities"]}
RECORDS = load("records.json")["records"]
REQUESTS = load("requests.json")["requests"]
ALGORITHMS = load("algorithms.json")


def outcome(check: Any) -> str:
    try:
        check()
    except ProtocolError as exc:
        return exc.code
    return "valid"


@pytest.mark.parametrize("vector", RECORDS, ids=lambda v: v["name"])
def test_record_vector(vector: dict[str, Any]) -> None:
    did_document = IDENTITIES[vector["didDocument"]]["didDocument"]
    keys = keys_from_document(parse_did_document(did_document))
    document = vector["document"]
    expect = vector["expect"]
    proof = outcome(lambda: verify_record(document, key_resolver(keys), allow_http=False))
    assert proof == expect["proof"]

    def publishable() -> None:
        check_context(parse_record(document))

    assert outcome(publishable) == expect["model"]
    if "ignored" in expect:
        assert list(read_record(document).ignored) == expect["ignored"]
    if expect["proof"] in ("valid", "signature_mismatch") and "proof" in document:
        try:
            holds = independent_verifier.verify(document, did_document)
        except AssertionError:  # it refuses what it cannot even check (an appended context)
            holds = False
        assert holds is (expect["proof"] == "valid")
    if "intermediate" in vector:
        values = vector["intermediate"]
        without = {k: v for k, v in document.items() if k != "proof"}
        assert canonicalize(without).decode() == values["canonicalDocument"]
        options = {k: v for k, v in document["proof"].items() if k != "proofValue"}
        assert canonicalize(options).decode() == values["canonicalProofConfig"]


@pytest.mark.parametrize("vector", REQUESTS, ids=lambda v: v["name"])
def test_request_vector(vector: dict[str, Any]) -> None:
    did_document = IDENTITIES[vector["signer"]]["didDocument"]
    keys = keys_from_document(parse_did_document(did_document), "authentication")
    request = vector["request"]
    seen = set(vector["seenNonces"])

    def seen_nonce(nonce: str, until: int) -> bool:
        if nonce in seen:
            return True
        seen.add(nonce)
        return False

    body = None if request["body"] is None else request["body"].encode()
    result = outcome(
        lambda: verify_request(
            request["method"],
            request["url"],
            Lines((name, value) for name, value in request["headers"]),  # type: ignore[arg-type]
            body,
            lambda key_id: keys[key_id].public_key,
            vector["now"],
            vector["maxAge"],
            seen_nonce=seen_nonce,
            clock_skew=vector["clockSkew"],
            tag=TAG,
        )
    )
    assert result == vector["expect"]


class Lines(list[tuple[str, str]]):
    """Header lines as a mapping's `items()` (repeated fields kept, in order)."""

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self)


def test_identities_hold_their_private_keys() -> None:
    for who in IDENTITIES.values():
        assert did_from_base_url(who["baseUrl"]) == who["did"]
        for key_id, key in who["privateKeys"].items():
            private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key["seedHex"]))
            assert public_key_to_multibase(private.public_key()) == key["publicKeyMultibase"]
            listed = keys_from_document(parse_did_document(who["didDocument"]))
            assert key_id in listed


def test_did_web_names() -> None:
    for case in ALGORITHMS["didWeb"]:
        assert did_from_base_url(case["baseUrl"]) == case["did"]


def test_origin_digests() -> None:
    for case in ALGORITHMS["originDigest"]:
        assert origin_digest([(i, v) for i, v in case["pairs"]]) == case["digest"]


def test_cursor_examples_are_in_the_wire_form() -> None:
    for vector in REQUESTS:
        for cursor in ("1.Ag", "1.Kg"):
            assert check_cursor(cursor) == cursor
        assert vector["now"] == REQUESTS[0]["now"]
