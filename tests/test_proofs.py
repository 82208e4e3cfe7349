"""eddsa-jcs-2022 proofs: the W3C vector step by step, round trips, and every refusal."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.did import KeyEntry, key_resolver
from protocol.errors import (
    CanonicalizationError,
    IdOutsidePublisher,
    InvalidRecord,
    KeyNotPublishers,
    KeyRevoked,
    MalformedProof,
    SignatureMismatch,
    UnknownCryptosuite,
    UnknownKey,
    VerificationError,
)
from protocol.jcs import canonicalize
from protocol.multikey import (
    b58encode,
    private_key_from_multibase,
    public_key_from_multibase,
)
from protocol.proofs import KeyInactive, VerifiedProof, hash_data, sign, verify_proof, verify_record
from protocol.records import parse_record

VECTORS = Path(__file__).parent / "vectors" / "di-eddsa" / "TestVectors"
JCS = VECTORS / "eddsa-jcs-2022"
KEY_PAIR = json.loads((VECTORS / "keyPair.json").read_text())


def _text(name: str) -> str:
    return (JCS / name).read_text().strip()


# --- the W3C eddsa-jcs-2022 test vector, every intermediate value ---------------------------

UNSIGNED = json.loads((VECTORS / "unsigned.json").read_text())
PROOF_CONFIG = json.loads((JCS / "proofConfigJCS.json").read_text())
SIGNED = json.loads((JCS / "signedJCS.json").read_text())
VECTOR_KEY = private_key_from_multibase(KEY_PAIR["privateKeyMultibase"])
VECTOR_PUBLIC = public_key_from_multibase(KEY_PAIR["publicKeyMultibase"])


def test_vector_canonical_document() -> None:
    assert canonicalize(UNSIGNED) == _text("canonDocJCS.txt").encode()


def test_vector_canonical_proof_config() -> None:
    assert canonicalize(PROOF_CONFIG) == _text("proofCanonJCS.txt").encode()
    # The proof configuration carries the document's @context (3.3.1 step 2).
    assert PROOF_CONFIG["@context"] == UNSIGNED["@context"]


def test_vector_hashes() -> None:
    doc_hash = hashlib.sha256(canonicalize(UNSIGNED)).hexdigest()
    proof_hash = hashlib.sha256(canonicalize(PROOF_CONFIG)).hexdigest()
    assert doc_hash == _text("docHashJCS.txt")
    assert proof_hash == _text("proofHashJCS.txt")
    combined = hash_data(UNSIGNED, PROOF_CONFIG)
    assert combined.hex() == _text("combinedHashJCS.txt") == proof_hash + doc_hash


def test_vector_signature() -> None:
    signature = VECTOR_KEY.sign(hash_data(UNSIGNED, PROOF_CONFIG))
    assert signature.hex() == _text("sigHexJCS.txt")
    assert "z" + b58encode(signature) == _text("sigBTC58JCS.txt")


def test_vector_signed_document() -> None:
    signed = sign(UNSIGNED, VECTOR_KEY, PROOF_CONFIG["verificationMethod"], PROOF_CONFIG["created"])
    assert signed == SIGNED
    # Same key order as the vector, so the signed document reads the same way.
    assert list(signed["proof"]) == list(SIGNED["proof"])
    assert "proof" not in UNSIGNED  # the input is not modified


def test_vector_verifies() -> None:
    result = verify_proof(SIGNED, VECTOR_PUBLIC)
    assert result == VerifiedProof(
        verification_method=PROOF_CONFIG["verificationMethod"],
        controller=PROOF_CONFIG["verificationMethod"].partition("#")[0],
        created="2023-02-24T23:36:38Z",
        proof_purpose="assertionMethod",
    )


def test_vector_rejects_another_key() -> None:
    with pytest.raises(SignatureMismatch):
        verify_proof(SIGNED, Ed25519PrivateKey.generate().public_key())


# --- records signed by a did:web node --------------------------------------------------------

DID = "did:web:medellin.example"
KEY_ID = f"{DID}#key-1"
PRIVATE = Ed25519PrivateKey.generate()
T_KEY = datetime(2024, 1, 1, tzinfo=UTC)
CREATED = "2024-06-01T12:30:00Z"


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "@context": [
            "https://w3id.org/citynode/v1",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "id": "https://medellin.example/records/project/metrocable",
        "type": "Project",
        "version": 1,
        "issued": "2024-06-01T12:00:00Z",
        "modified": "2024-06-01T12:00:00Z",
        "publisher": DID,
        "title": {"es": "Metrocable", "en": "Metrocable"},
        "summary": {"es": "Teleférico urbano conectado al metro."},
        "status": "https://w3id.org/citynode/status#completed",
        "sdgs": ["http://metadata.un.org/sdg/11.2"],
    }
    record.update(changes)
    return record


def _entry(**lifecycle: Any) -> KeyEntry:
    return KeyEntry(fragment="key-1", public_key=PRIVATE.public_key(), created=T_KEY, **lifecycle)


def _resolver(**lifecycle: Any) -> Callable[[str], KeyEntry]:
    return key_resolver({KEY_ID: _entry(**lifecycle)})


def _signed(record: dict[str, Any] | None = None, created: str = CREATED) -> dict[str, Any]:
    return sign(_record() if record is None else record, PRIVATE, KEY_ID, created)


def test_sign_then_verify_record() -> None:
    signed = _signed()
    result = verify_record(signed, _resolver())
    assert result.verification_method == KEY_ID
    assert result.controller == DID
    assert result.created == CREATED
    assert verify_proof(signed, PRIVATE.public_key()) == result


def test_signed_record_is_a_valid_record() -> None:
    record = parse_record(_signed())
    assert record.proof is not None
    assert record.proof.cryptosuite == "eddsa-jcs-2022"
    assert record.proof.context == _record()["@context"]


def test_round_trip_through_json_bytes() -> None:
    data = msgspec.json.encode(_signed(_record(extra={"n": [1.0, 2.5, -0.0, 1e21]})))
    verify_record(msgspec.json.decode(data), _resolver())
    verify_record(json.loads(data), _resolver())


def test_key_order_and_whitespace_do_not_matter() -> None:
    signed = _signed()
    shuffled = dict(reversed(list(signed.items())))
    shuffled["proof"] = dict(reversed(list(signed["proof"].items())))
    verify_record(json.loads(json.dumps(shuffled, indent=3)), _resolver())


def test_http_ids_only_when_allowed() -> None:
    did = "did:web:127.0.0.1%3A8443"
    record = _record(id="http://127.0.0.1:8443/records/1", publisher=did)
    signed = sign(record, PRIVATE, f"{did}#key-1", CREATED)
    resolve = key_resolver({f"{did}#key-1": _entry()})
    assert verify_record(signed, resolve, allow_http=True).controller == did
    with pytest.raises(IdOutsidePublisher):
        verify_record(signed, resolve)


def test_https_ids_accepted_with_allow_http() -> None:
    verify_record(_signed(), _resolver(), allow_http=True)


def test_sign_refuses_signed_documents_and_bad_times() -> None:
    with pytest.raises(InvalidRecord):
        sign(_signed(), PRIVATE, KEY_ID, CREATED)
    with pytest.raises(InvalidRecord):
        sign(_record(), PRIVATE, KEY_ID, "2024-06-01 noon")


# --- refusals, each with its own error --------------------------------------------------------


def _mutated(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    signed = copy.deepcopy(_signed())
    change(signed)
    return signed


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["title"].__setitem__("es", "Metrocable!"), id="changed-field"),
        pytest.param(lambda d: d.__setitem__("version", 2), id="changed-version"),
        pytest.param(lambda d: d.__setitem__("illustrative", True), id="added-field"),
        pytest.param(lambda d: d["title"].__setitem__("pt", "Metrocabo"), id="added-nested"),
        pytest.param(lambda d: d.pop("summary"), id="removed-field"),
        pytest.param(lambda d: d["sdgs"].append("http://metadata.un.org/sdg/10"), id="list-item"),
        pytest.param(
            lambda d: d["proof"].__setitem__("created", "2024-06-01T12:30:01Z"), id="proof-created"
        ),
        pytest.param(lambda d: d["proof"].__setitem__("nonce", "x"), id="proof-added-field"),
        pytest.param(lambda d: d["proof"].pop("@context"), id="proof-removed-context"),
        pytest.param(
            lambda d: d["@context"].insert(0, "https://example.org/ctx"),
            id="document-context-prepended",
        ),
        pytest.param(
            lambda d: d.__setitem__("@context", ["https://w3id.org/citynode/v1"]),
            id="document-context-cut",
        ),
    ],
)
def test_tampering_is_a_signature_mismatch(change: Callable[[dict[str, Any]], None]) -> None:
    tampered = _mutated(change)
    with pytest.raises(SignatureMismatch) as info:
        verify_record(tampered, _resolver())
    assert info.value.code == "signature_mismatch"
    with pytest.raises(SignatureMismatch):
        verify_proof(tampered, PRIVATE.public_key())


def test_context_appended_after_signing() -> None:
    extended = _mutated(lambda d: d["@context"].append("https://example.org/ctx"))
    # The W3C algorithm (3.3.2 step 4) checks the document under the proof's @context, so the
    # bare proof still holds; a record must carry exactly the context it was signed with.
    verify_proof(extended, PRIVATE.public_key())
    with pytest.raises(SignatureMismatch, match="@context"):
        verify_record(extended, _resolver())


def test_signed_copy_does_not_share_the_context_list() -> None:
    signed = _signed()
    assert signed["proof"]["@context"] == signed["@context"]
    assert signed["proof"]["@context"] is not signed["@context"]


def test_key_of_another_publisher() -> None:
    other = "did:web:bogota.example#key-1"
    signed = sign(_record(), PRIVATE, other, CREATED)
    resolve = key_resolver({other: _entry()})
    with pytest.raises(KeyNotPublishers) as info:
        verify_record(signed, resolve)
    assert info.value.detail["publisher"] == DID
    # Changing the publisher to match the key breaks the signature instead.
    forged = dict(signed, publisher="did:web:bogota.example")
    with pytest.raises((IdOutsidePublisher, SignatureMismatch)):
        verify_record(forged, resolve)


def test_record_without_publisher() -> None:
    record = _record()
    del record["publisher"]
    with pytest.raises(KeyNotPublishers):
        verify_record(_signed(record), _resolver())


@pytest.mark.parametrize(
    "record_id",
    [
        "https://medellin.example.evil.com/records/1",
        "https://medellin.example@evil.com/records/1",
        "https://evil.com/medellin.example/records/1",
        "https://medellin.example/../records/1",
        "https://medellin.example/%2E%2E/records/1",
        "https://medellin.example:8443/records/1",
        "http://medellin.example/records/1",
        "https://medellin.example",
        "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    ],
)
def test_id_outside_publisher(record_id: str) -> None:
    with pytest.raises(IdOutsidePublisher):
        verify_record(_signed(_record(id=record_id)), _resolver())


def test_id_missing() -> None:
    record = _record()
    del record["id"]
    with pytest.raises(IdOutsidePublisher):
        verify_record(_signed(record), _resolver())


def test_publisher_that_is_not_did_web() -> None:
    did = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    signed = sign(_record(publisher=did), PRIVATE, f"{did}#k", CREATED)
    with pytest.raises(IdOutsidePublisher, match="did:web"):
        verify_record(signed, key_resolver({f"{did}#k": _entry()}))


def test_unknown_key() -> None:
    with pytest.raises(UnknownKey):
        verify_record(_signed(), key_resolver({}))


@pytest.mark.parametrize(
    "revoked",
    ["2024-06-01T12:30:00Z", "2024-06-01T12:29:59Z", "2024-03-01T00:00:00Z"],
)
def test_proof_created_at_or_after_revocation(revoked: str) -> None:
    resolve = _resolver(revoked=datetime.fromisoformat(revoked))
    with pytest.raises(KeyRevoked) as info:
        verify_record(_signed(), resolve)
    assert info.value.code == "key_revoked"


def test_proof_created_before_revocation_still_verifies() -> None:
    verify_record(_signed(), _resolver(revoked=datetime(2024, 6, 1, 12, 30, 1, tzinfo=UTC)))


def test_retired_key_verifies_older_records_only() -> None:
    resolve = _resolver(retired=datetime(2024, 7, 1, tzinfo=UTC))
    verify_record(_signed(), resolve)
    verify_record(_signed(created="2024-07-01T00:00:00Z"), resolve)
    with pytest.raises(KeyInactive, match="retired"):
        verify_record(_signed(created="2024-07-01T00:00:01Z"), resolve)


def test_proof_created_before_the_key_existed() -> None:
    with pytest.raises(KeyInactive, match="came into use"):
        verify_record(_signed(created="2023-12-31T23:59:59Z"), _resolver())
    assert issubclass(KeyInactive, VerificationError)


def test_fractional_seconds_compare_as_times() -> None:
    # Lexically "…:00.5Z" < "…:00Z"; as times it is later, so it is after the revocation.
    resolve = _resolver(revoked=datetime(2024, 6, 1, 12, 30, tzinfo=UTC))
    with pytest.raises(KeyRevoked):
        verify_record(_signed(created="2024-06-01T12:30:00.5Z"), resolve)


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "ecdsa-jcs-2019", "EDDSA-JCS-2022"])
def test_unknown_cryptosuite(suite: str) -> None:
    signed = _mutated(lambda d: d["proof"].__setitem__("cryptosuite", suite))
    with pytest.raises(UnknownCryptosuite):
        verify_record(signed, _resolver())
    with pytest.raises(UnknownCryptosuite):
        verify_proof(signed, PRIVATE.public_key())


def _set_proof(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        if value is _DELETE:
            del document["proof"][name]
        else:
            document["proof"][name] = value

    return change


_DELETE = object()
_VALUE = _signed()["proof"]["proofValue"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.pop("proof"), id="no-proof"),
        pytest.param(lambda d: d.__setitem__("proof", [d["proof"]]), id="proof-set"),
        pytest.param(lambda d: d.__setitem__("proof", "z123"), id="proof-string"),
        pytest.param(_set_proof("proofValue", _DELETE), id="no-proofValue"),
        pytest.param(_set_proof("proofValue", "u" + _VALUE[1:]), id="not-base58btc-multibase"),
        pytest.param(_set_proof("proofValue", _VALUE[:40] + "0" + _VALUE[41:]), id="bad-char"),
        pytest.param(_set_proof("proofValue", _VALUE[:-3]), id="short-signature"),
        pytest.param(_set_proof("proofValue", _VALUE + "zz"), id="long-signature"),
        pytest.param(_set_proof("proofValue", "z"), id="empty-signature"),
        pytest.param(_set_proof("proofValue", 12), id="proofValue-not-string"),
        pytest.param(_set_proof("type", "Ed25519Signature2020"), id="wrong-type"),
        pytest.param(_set_proof("type", _DELETE), id="no-type"),
        pytest.param(_set_proof("cryptosuite", _DELETE), id="no-cryptosuite"),
        pytest.param(_set_proof("verificationMethod", _DELETE), id="no-verificationMethod"),
        pytest.param(_set_proof("proofPurpose", "authentication"), id="wrong-purpose"),
        pytest.param(_set_proof("proofPurpose", _DELETE), id="no-purpose"),
        pytest.param(_set_proof("created", _DELETE), id="no-created"),
        pytest.param(_set_proof("created", "2024-06-01T12:30:00"), id="created-without-zone"),
        pytest.param(_set_proof("verificationMethod", DID), id="key-id-without-fragment"),
    ],
)
def test_malformed_proofs(change: Callable[[dict[str, Any]], None]) -> None:
    with pytest.raises(MalformedProof) as info:
        verify_record(_mutated(change), _resolver())
    assert info.value.code == "malformed_proof"
    assert info.value.message


def test_document_without_canonical_form() -> None:
    # The stdlib decoder lets a lone surrogate through; such a document cannot have been signed.
    document = json.loads(json.dumps(_signed()).replace("Metrocable", "\\ud800", 1))
    with pytest.raises(CanonicalizationError):
        verify_record(document, _resolver())


def test_not_a_document() -> None:
    with pytest.raises(MalformedProof):
        verify_proof([], PRIVATE.public_key())  # type: ignore[arg-type]


def test_errors_name_the_record() -> None:
    tampered = _mutated(lambda d: d.__setitem__("version", 9))
    with pytest.raises(SignatureMismatch) as info:
        verify_record(tampered, _resolver())
    assert _record()["id"] in info.value.message
    assert info.value.detail["record"] == _record()["id"]


def test_verify_does_not_modify_the_document() -> None:
    signed = _signed()
    snapshot = copy.deepcopy(signed)
    verify_record(signed, _resolver())
    assert signed == snapshot
