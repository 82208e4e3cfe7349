"""The one error root of the protocol package.

Every error carries a stable machine `code`, a sentence a city clerk can read, and a
`detail` mapping (record id, field, rule...) so the node can show the same shape everywhere.
"""

from __future__ import annotations

from typing import Any


class ProtocolError(Exception):
    """Root of every error raised by `protocol`."""

    code = "protocol_error"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail: dict[str, Any] = {k: v for k, v in detail.items() if v is not None}


class InvalidRecord(ProtocolError):
    """A record does not match the model: a missing, unknown or badly formed field."""

    code = "invalid_record"


class CanonicalizationError(ProtocolError):
    """A value has no RFC 8785 canonical form (NaN, Infinity, a lone surrogate...)."""

    code = "not_canonicalizable"


class VerificationError(ProtocolError):
    """A proof or a signature does not hold. Subclasses say why."""

    code = "verification_failed"


class SignatureMismatch(VerificationError):
    """The signature does not match the document: a field was changed, added or removed."""

    code = "signature_mismatch"


class MalformedProof(VerificationError):
    """The proof is missing, or one of its values cannot be decoded."""

    code = "malformed_proof"


class UnknownCryptosuite(VerificationError):
    """The proof names a cryptosuite this node does not implement."""

    code = "unknown_cryptosuite"


class KeyNotPublishers(VerificationError):
    """The verification method does not belong to the record's publisher."""

    code = "key_not_publishers"


class IdOutsidePublisher(VerificationError):
    """The record id is not under the publisher's base URL."""

    code = "id_outside_publisher"


class KeyRevoked(VerificationError):
    """The proof was created after its key was revoked."""

    code = "key_revoked"


class UnknownKey(VerificationError):
    """The key id is not listed in the signer's DID document."""

    code = "unknown_key"


class KeyFormatError(ProtocolError):
    """A key or multibase string cannot be decoded."""

    code = "bad_key"


# --- HTTP message signatures (RFC 9421), Content-Digest (RFC 9530), wire messages, cursors ---


class MalformedField(ProtocolError):
    """A header is not a valid RFC 8941 structured field (or not the structure expected)."""

    code = "malformed_field"


class HttpSignatureError(VerificationError):
    """A request signature (RFC 9421) is missing or does not hold. Subclasses say why."""

    code = "http_signature_invalid"


class SignatureMissing(HttpSignatureError):
    """The request has no `Signature-Input`/`Signature` pair (or not the expected label)."""

    code = "signature_missing"


class MalformedSignature(HttpSignatureError):
    """`Signature-Input` or `Signature` parses but lacks a required part or has a wrong type."""

    code = "malformed_signature"


class UnsupportedAlgorithm(HttpSignatureError):
    """The signature names an algorithm other than `ed25519`."""

    code = "unsupported_algorithm"


class ComponentNotCovered(HttpSignatureError):
    """The signature does not cover a component this node requires (e.g. `content-digest`)."""

    code = "component_not_covered"


class ComponentUnavailable(HttpSignatureError):
    """A covered component is absent from the request, or is one this node cannot derive."""

    code = "component_unavailable"


class SignatureExpired(HttpSignatureError):
    """The signature is past its `expires` time or older than the accepted age."""

    code = "signature_expired"


class SignatureNotYetValid(HttpSignatureError):
    """The signature's `created` time is in the future beyond the allowed clock skew."""

    code = "signature_not_yet_valid"


class NonceReplayed(HttpSignatureError):
    """The signature's nonce was already seen: the request is a replay."""

    code = "nonce_replayed"


class DigestMismatch(HttpSignatureError):
    """`Content-Digest` does not match the body, or names no algorithm this node checks."""

    code = "digest_mismatch"


class BadSignature(HttpSignatureError):
    """The signature bytes do not verify over the signature base with the signer's key."""

    code = "bad_signature"


class InvalidMessage(ProtocolError):
    """A federation wire message cannot be decoded or breaks a protocol rule."""

    code = "invalid_message"


class InvalidCursor(ProtocolError):
    """A changes-feed cursor is not one this protocol version produces."""

    code = "invalid_cursor"
