"""W3C Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite, and the record check on top.

Data Integrity EdDSA Cryptosuites v1.0, section 3.3 "eddsa-jcs-2022":

* proof configuration (3.3.5): the proof options without `proofValue`; when the document has an
  `@context`, the options carry the same `@context` (3.3.1 step 2);
* transformation (3.3.3): RFC 8785 JCS of the document without `proof`;
* hashing (3.3.4): SHA-256(JCS(proof configuration)) || SHA-256(JCS(document)), 64 bytes;
* serialization (3.3.6): Ed25519 (RFC 8032) over those 64 bytes; `proofValue` is multibase
  base58btc (`z...`) of the 64-byte signature.

`verify_proof` is the bare cryptographic check; `verify_record` adds what docs/DESIGN.md
"Signatures on records" asks: the key belongs to the record's publisher, the record id lies under
the publisher's base URL, and the key was valid when the proof was created. Every refusal raises a
`VerificationError` subclass; nothing returns False.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from hashlib import sha256
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from msgspec import Struct

from protocol.did import (
    DidError,
    KeyEntry,
    base_url_from_did,
    is_under_base_url,
    parse_timestamp,
    split_key_id,
)
from protocol.errors import (
    IdOutsidePublisher,
    InvalidRecord,
    KeyNotPublishers,
    KeyRevoked,
    MalformedProof,
    ProtocolError,
    SignatureMismatch,
    UnknownCryptosuite,
    VerificationError,
)
from protocol.jcs import canonicalize
from protocol.multikey import b58decode, b58encode

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "KeyInactive",
    "VerifiedProof",
    "hash_data",
    "sign",
    "verify_proof",
    "verify_record",
]

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-jcs-2022"
_SIGNATURE_LEN: Final = 64


class KeyInactive(VerificationError):
    """The proof is dated outside its key's signing period (before created or after retired)."""

    code = "key_inactive"


class VerifiedProof(Struct, frozen=True, kw_only=True):
    """What a successful verification established."""

    verification_method: str
    controller: str
    """The DID the key belongs to (the part of `verification_method` before `#`)."""
    created: str | None
    proof_purpose: str
    cryptosuite: str = CRYPTOSUITE


def hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """The 64 bytes eddsa-jcs-2022 signs (3.3.4): H(JCS(proof config)) || H(JCS(document)).

    `document` must not contain `proof`; `proof_config` must not contain `proofValue`.
    """
    return sha256(canonicalize(proof_config)).digest() + sha256(canonicalize(document)).digest()


def sign(
    document: dict[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
) -> dict[str, Any]:
    """Return a copy of `document` with an eddsa-jcs-2022 `proof` (purpose assertionMethod).

    `created` is an XML Schema dateTime with a time zone (records use `YYYY-MM-DDTHH:MM:SSZ`).
    The input is not modified; a document that already has a proof is refused (one proof per
    record, no proof sets).
    """
    if "proof" in document:
        raise InvalidRecord(
            "the document is already signed; sign the unsigned version",
            field="proof",
            rule="single-proof",
        )
    try:
        parse_timestamp(created)
    except ProtocolError as exc:
        raise InvalidRecord(
            f"proof.created: {exc.message}", field="proof.created", rule="datetime"
        ) from None
    # Key order as in the W3C test vector, so a signed document reads the same way.
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    if "@context" in document:
        # A copy: sharing the list would let a later edit of one change both.
        proof["@context"] = copy.deepcopy(document["@context"])
    signature = private_key.sign(hash_data(document, proof))
    proof["proofValue"] = "z" + b58encode(signature)
    signed = dict(document)
    signed["proof"] = proof
    return signed


def verify_proof(
    document: dict[str, Any],
    public_key: Ed25519PublicKey,
    *,
    expected_purpose: str = "assertionMethod",
) -> VerifiedProof:
    """Check the eddsa-jcs-2022 proof of `document` against `public_key` (3.3.2 "Verify Proof").

    Raises `MalformedProof` (no proof, a missing field, a bad `proofValue`),
    `UnknownCryptosuite`, or `SignatureMismatch` (any field changed, added or removed); a
    document with no canonical form (a lone surrogate, say) raises `CanonicalizationError`.
    """
    proof, options, signature = _read_proof(document, expected_purpose)
    _check_signature(document, options, signature, public_key, exact_context=False)
    return _result(proof)


def verify_record(
    document: dict[str, Any],
    resolve_key: Callable[[str], KeyEntry],
    *,
    allow_http: bool = False,
) -> VerifiedProof:
    """Full check of a federated record's proof (docs/DESIGN.md "Signatures on records").

    In order, cheapest first: the proof is well formed (`MalformedProof`,
    `UnknownCryptosuite`); its key's DID is the record's `publisher` (`KeyNotPublishers`); the
    record `id` lies under the base URL of that did:web (`IdOutsidePublisher`; `http` ids only
    with `allow_http`, for loopback test nodes); `resolve_key` knows the key (it raises
    `UnknownKey`); the key was valid at `proof.created` (`KeyRevoked`, `KeyInactive`); and the
    signature holds (`SignatureMismatch`, or `CanonicalizationError` for a document with no
    canonical form). Stricter than `verify_proof` on one point: when the
    proof carries an `@context`, the record's must be exactly that one, not merely start with it.

    `resolve_key` is synchronous and pure: the node fetches DID documents beforehand and passes
    a lookup over the keys it holds (see `did.key_resolver`).
    """
    proof, options, signature = _read_proof(document, "assertionMethod")
    method: str = proof["verificationMethod"]
    record_id = document.get("id")
    try:
        did, _ = split_key_id(method)
    except DidError as exc:
        raise MalformedProof(
            exc.message, record=_str(record_id), field="proof.verificationMethod", rule="key-id"
        ) from None
    publisher = document.get("publisher")
    if did != publisher:
        raise KeyNotPublishers(
            f"record {record_id}: signed with key {method}, which does not belong to the "
            f"publisher {publisher}",
            record=_str(record_id),
            key=method,
            publisher=_str(publisher),
        )
    _check_id(record_id, did, allow_http)
    if "created" not in proof:
        raise MalformedProof(
            f"record {record_id}: the proof has no 'created' time",
            record=_str(record_id),
            field="proof.created",
            rule="required",
        )
    created = _proof_time(proof["created"], record_id)
    key = resolve_key(method)
    _check_lifecycle(key, created, method, record_id)
    _check_signature(document, options, signature, key.public_key, exact_context=True)
    return _result(proof)


# --- steps -----------------------------------------------------------------------------------


def _read_proof(
    document: dict[str, Any], expected_purpose: str
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """Proof, proof options (the proof without proofValue) and the decoded signature."""
    if not isinstance(document, dict):
        raise MalformedProof("a signed document is a JSON object", rule="object")
    proof = document.get("proof")
    record = _str(document.get("id"))
    if proof is None:
        raise MalformedProof(
            f"record {record}: it has no proof", record=record, field="proof", rule="required"
        )
    if not isinstance(proof, dict):
        raise MalformedProof(
            f"record {record}: 'proof' must be one object (proof sets are not supported)",
            record=record,
            field="proof",
            rule="single-proof",
        )
    for name in ("type", "cryptosuite", "verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(name), str):
            raise MalformedProof(
                f"record {record}: the proof has no '{name}' string",
                record=record,
                field=f"proof.{name}",
                rule="required",
            )
    if proof["type"] != PROOF_TYPE:
        raise MalformedProof(
            f"record {record}: proof type {proof['type']!r} is not {PROOF_TYPE}",
            record=record,
            field="proof.type",
            rule="proof-type",
        )
    if proof["cryptosuite"] != CRYPTOSUITE:
        raise UnknownCryptosuite(
            f"record {record}: cryptosuite {proof['cryptosuite']!r} is not supported "
            f"(this node verifies {CRYPTOSUITE})",
            record=record,
            field="proof.cryptosuite",
            cryptosuite=proof["cryptosuite"],
        )
    if proof["proofPurpose"] != expected_purpose:
        raise MalformedProof(
            f"record {record}: proof purpose {proof['proofPurpose']!r} is not {expected_purpose!r}",
            record=record,
            field="proof.proofPurpose",
            rule="proof-purpose",
        )
    value: str = proof["proofValue"]
    if not value.startswith("z"):
        raise MalformedProof(
            f"record {record}: proofValue is not multibase base58btc ('z...')",
            record=record,
            field="proof.proofValue",
            rule="multibase",
        )
    try:
        signature = b58decode(value[1:])
    except ProtocolError:
        raise MalformedProof(
            f"record {record}: proofValue is not valid base58btc",
            record=record,
            field="proof.proofValue",
            rule="base58btc",
        ) from None
    if len(signature) != _SIGNATURE_LEN:
        raise MalformedProof(
            f"record {record}: the signature is {len(signature)} bytes, not {_SIGNATURE_LEN}",
            record=record,
            field="proof.proofValue",
            rule="signature-length",
        )
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    return proof, options, signature


def _check_signature(
    document: dict[str, Any],
    options: dict[str, Any],
    signature: bytes,
    public_key: Ed25519PublicKey,
    *,
    exact_context: bool,
) -> None:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    context = options.get("@context")
    if context is not None:
        # 3.3.2 step 4: the document's @context must start with the proof's, in order; the
        # document is then checked under the proof's @context. So contexts appended after
        # signing are not covered by the signature: records (`exact_context`) refuse them.
        doc_context = unsecured.get("@context")
        have = doc_context if isinstance(doc_context, list) else [doc_context]
        want = context if isinstance(context, list) else [context]
        if have[: len(want)] != want or (exact_context and len(have) != len(want)):
            raise SignatureMismatch(
                f"record {_str(document.get('id'))}: the document's @context is not the one "
                "its proof was made with",
                record=_str(document.get("id")),
                field="@context",
            )
        unsecured["@context"] = context
    try:
        public_key.verify(signature, hash_data(unsecured, options))
    except InvalidSignature:
        raise SignatureMismatch(
            f"record {_str(document.get('id'))}: the signature does not match its content "
            "(a field was changed, added or removed after signing)",
            record=_str(document.get("id")),
            key=options.get("verificationMethod"),
        ) from None


def _check_id(record_id: Any, did: str, allow_http: bool) -> None:
    if not isinstance(record_id, str):
        raise IdOutsidePublisher("the record has no 'id' string", field="id")
    try:
        bases = [base_url_from_did(did, "https")]
        if allow_http:
            bases.append(base_url_from_did(did, "http"))
    except DidError as exc:
        raise IdOutsidePublisher(
            f"record {record_id}: the publisher {did} is not a did:web DID this node can tie to a "
            f"base URL ({exc.message})",
            record=record_id,
            publisher=did,
        ) from None
    if not any(is_under_base_url(record_id, base) for base in bases):
        raise IdOutsidePublisher(
            f"record {record_id}: its id is not under {bases[0]}, the base URL of its publisher "
            f"{did}",
            record=record_id,
            publisher=did,
            base_url=bases[0],
        )


def _proof_time(text: Any, record_id: Any) -> datetime:
    try:
        return parse_timestamp(text)
    except ProtocolError as exc:
        raise MalformedProof(
            f"record {record_id}: proof.created: {exc.message}",
            record=_str(record_id),
            field="proof.created",
            rule="datetime",
        ) from None


def _check_lifecycle(key: KeyEntry, created: datetime, method: str, record_id: Any) -> None:
    record = _str(record_id)
    if key.revoked is not None and key.revoked <= created:
        raise KeyRevoked(
            f"record {record}: signed at {created.isoformat()} with key {method}, which was "
            f"revoked at {key.revoked.isoformat()}",
            record=record,
            key=method,
        )
    if created < key.created:
        raise KeyInactive(
            f"record {record}: signed at {created.isoformat()} with key {method}, which only "
            f"came into use at {key.created.isoformat()}",
            record=record,
            key=method,
        )
    if key.retired is not None and created > key.retired:
        raise KeyInactive(
            f"record {record}: signed at {created.isoformat()} with key {method}, which was "
            f"retired at {key.retired.isoformat()}",
            record=record,
            key=method,
        )


def _result(proof: dict[str, Any]) -> VerifiedProof:
    method: str = proof["verificationMethod"]
    created = proof.get("created")
    return VerifiedProof(
        verification_method=method,
        controller=method.partition("#")[0],
        created=created if isinstance(created, str) else None,
        proof_purpose=proof["proofPurpose"],
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
