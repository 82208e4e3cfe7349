"""An eddsa-jcs-2022 verifier written from the spec, sharing no code with `protocol/`.

It uses the `rfc8785` package for JCS (not our canonicalizer), hashlib, `cryptography` for
Ed25519, and its own base58btc decoder, so a record that passes here verifies in a conformant
Data Integrity verifier, not merely in ours.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _ALPHABET.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\x00" * pad + body


def public_key_from_multikey(multibase: str) -> Ed25519PublicKey:
    assert multibase.startswith("z")
    raw = b58decode(multibase[1:])
    assert raw[:2] == b"\xed\x01", "not an Ed25519 multikey"
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def verify(document: dict[str, Any], did_document: dict[str, Any]) -> bool:
    """True when the proof holds for a key the DID document lists under assertionMethod."""
    proof = dict(document["proof"])
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    method_id = proof["verificationMethod"]
    assert method_id in did_document["assertionMethod"]
    method = next(m for m in did_document["verificationMethod"] if m["id"] == method_id)
    key = public_key_from_multikey(method["publicKeyMultibase"])
    signature = b58decode(proof.pop("proofValue")[1:])
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    # vc-di-eddsa 3.3.2: the proof options carry the document's @context.
    if "@context" in unsecured:
        assert proof.get("@context") == unsecured["@context"]
    hash_data = (
        hashlib.sha256(rfc8785.dumps(proof)).digest()
        + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    )
    try:
        key.verify(signature, hash_data)
    except Exception:
        return False
    return True
