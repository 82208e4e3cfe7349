"""Content-Digest (RFC 9530): the digest of a request or response body, and its check."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Final

from protocol.errors import DigestMismatch, MalformedField
from protocol.structured_fields import Item, parse_dictionary

# RFC 9530 section 5: algorithms this node computes and checks.
_DIGESTS: Final[dict[str, Callable[[bytes], bytes]]] = {
    "sha-256": lambda b: hashlib.sha256(b).digest(),
    "sha-512": lambda b: hashlib.sha512(b).digest(),
}


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """The `Content-Digest` field value for `body` (RFC 9530 section 2), e.g. `sha-256=:...:`."""
    try:
        digest = _DIGESTS[algorithm](body)
    except KeyError:
        raise DigestMismatch(f"unsupported digest algorithm {algorithm!r}") from None
    return f"{algorithm}=:{base64.b64encode(digest).decode('ascii')}:"


def check_content_digest(header: str, body: bytes) -> None:
    """Check a `Content-Digest` field against `body`.

    Every algorithm this node knows (sha-256, sha-512) that the field lists must match, and at
    least one must be listed; unknown algorithms are ignored (RFC 9530 section 2).
    Raises `MalformedField` or `DigestMismatch`.
    """
    members = parse_dictionary(header)
    checked = 0
    for algorithm, member in members.items():
        compute = _DIGESTS.get(algorithm)
        if compute is None:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise MalformedField(
                f"Content-Digest {algorithm} must be a byte sequence", field="content-digest"
            )
        if not hmac.compare_digest(member.value, compute(body)):
            raise DigestMismatch(
                f"the body does not match its Content-Digest ({algorithm})", algorithm=algorithm
            )
        checked += 1
    if not checked:
        raise DigestMismatch(
            "Content-Digest names no supported algorithm (sha-256 or sha-512)",
            algorithms=list(members),
        )
