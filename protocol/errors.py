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
