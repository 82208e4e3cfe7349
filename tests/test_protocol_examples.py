"""The worked examples of docs/protocol.md are real: the bytes in the spec verify.

Read from the spec itself (not from the generator): its record examples verify under its DID
document example, in this implementation and in the independent verifier; its signed requests
verify at the time the spec names; every JSON example is valid against its schema.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from citynode.spec.examples import parse_http, read_examples
from protocol.did import key_resolver, keys_from_document, parse_did_document
from protocol.httpsig.profile import TAG
from protocol.httpsig.signature_base import signature_base
from protocol.httpsig.verification import verify_request
from protocol.jcs import canonicalize
from protocol.proofs import verify_record
from protocol.structured_fields import InnerList, parse_dictionary
from tests import independent_verifier

DOCS = Path(__file__).resolve().parents[1] / "docs"
SPEC = (DOCS / "protocol.md").read_text(encoding="utf-8")
EXAMPLES = read_examples(SPEC)
#: When the spec's requests are checked: "at 2026-01-01T00:00:00Z (1767225600)" (section 5.7).
NOW = 1767225600
SCHEMAS = {
    "did-document": "DidDocument",
    "descriptor": "NodeDescriptor",
    "record-project": "Record",
    "record-result": "Record",
    "tombstone": "Record",
    "peer-request": "PeerRequest",
    "peer-response": "PeerResponse",
    "changes-page": "ChangesPage",
    "inbox-notice": "InboxNotice",
    "digest-response": "DigestResponse",
    "error": "Error",
}


def example(name: str) -> Any:
    lang, body = EXAMPLES[name]
    assert lang == "json", name
    return json.loads(body)


def test_the_spec_names_the_time_its_requests_are_checked_at() -> None:
    assert f"({NOW})" in SPEC


def test_every_example_has_a_check() -> None:
    checked = set(SCHEMAS) | {
        "record-project-hashes",
        "request-get-changes",
        "request-get-changes-base",
        "request-post-notice",
        "request-post-notice-base",
    }
    assert set(EXAMPLES) == checked


@pytest.mark.parametrize("name", ["record-project", "record-result", "tombstone"])
def test_record_examples_verify(name: str) -> None:
    did_document = example("did-document")
    keys = keys_from_document(parse_did_document(did_document))
    record = example(name)
    verify_record(record, key_resolver(keys))
    assert independent_verifier.verify(record, did_document)
    changed = {**record, "modified": "2025-03-01T09:30:01Z"}
    assert not independent_verifier.verify(changed, did_document)


def test_the_hashes_shown_are_the_record_s() -> None:
    record = example("record-project")
    options = {k: v for k, v in record["proof"].items() if k != "proofValue"}
    document = {k: v for k, v in record.items() if k != "proof"}
    _, text = EXAMPLES["record-project-hashes"]
    assert canonicalize(options).decode() in text
    assert hashlib.sha256(canonicalize(options)).hexdigest() in text
    assert hashlib.sha256(canonicalize(document)).hexdigest() in text


class Lines(list[tuple[str, str]]):
    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self)


@pytest.mark.parametrize("name", ["request-get-changes", "request-post-notice"])
def test_request_examples_verify(name: str) -> None:
    lang, text = EXAMPLES[name]
    assert lang == "http"
    method, url, headers, body = parse_http(text)
    keys = keys_from_document(parse_did_document(example("did-document")), "authentication")
    seen: set[str] = set()

    def seen_nonce(nonce: str, until: int) -> bool:
        replay = nonce in seen
        seen.add(nonce)
        return replay

    verified = verify_request(
        method,
        url,
        Lines(headers),  # type: ignore[arg-type]
        body,
        lambda key_id: keys[key_id].public_key,
        NOW,
        seen_nonce=seen_nonce,
        tag=TAG,
    )
    assert verified.keyid.endswith("#key-2")
    # The signature base shown below the request is the one it was signed over.
    _, shown = EXAMPLES[f"{name}-base"]
    (member,) = parse_dictionary(dict(headers)["Signature-Input"]).values()
    assert isinstance(member, InnerList)
    assert signature_base(method, url, dict(headers), member).decode() + "\n" == shown
    # One changed byte of the body or the URL and it is refused.
    if body:
        with pytest.raises(Exception, match=r"Content-Digest|digest"):
            verify_request(
                method, url, Lines(headers), body + b" ",  # type: ignore[arg-type]
                lambda key_id: keys[key_id].public_key, NOW, seen_nonce=lambda n, u: False,
            )  # fmt: skip


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_json_examples_match_their_schema(name: str) -> None:
    schema = json.loads((DOCS / "schemas" / f"{SCHEMAS[name]}.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    errors = [error.message for error in validator.iter_errors(example(name))]
    assert not errors, errors
