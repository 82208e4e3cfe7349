"""The changes-feed cursor: an opaque string for a position in a node's changes feed.

docs/protocol.md section 7.1.2: to every other node a cursor is opaque, 1 to 255 characters of
the URL-unreserved set (RFC 3986 section 2.3), sent back exactly as received; only the node that
issued it reads it. `Cursor` is that wire type: a puller checks a peer's cursors against it and
never decodes them, so a node built on another store (timestamps, log offsets...) can peer.

This node's own cursors: it numbers every stored record version and tombstone with a sequence
number assigned in the write transaction (monotonic, never reused); the cursor is that number,
versioned and base64url-encoded: `1.` + base64url(big-endian integer, no padding). It carries no
state and never expires, so the node can serve any cursor it issued, before or after a restart.

`GET /fed/v1/changes?after=CURSOR` returns the items with a sequence number greater than the
cursor's; no cursor (or `START`) means from the beginning.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Final

from msgspec import Meta

from protocol.errors import InvalidCursor

__all__ = [
    "CURSOR_PATTERN",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_SEQUENCE",
    "START",
    "Cursor",
    "check_cursor",
    "clamp_limit",
    "cursor_position",
    "decode_cursor",
    "encode_cursor",
]

#: SQLite INTEGER is a signed 64-bit integer.
MAX_SEQUENCE: Final = 2**63 - 1
DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 500

#: Any node's cursor on the wire (docs/protocol.md 7.1.2): URL-unreserved characters, 1 to 255.
CURSOR_PATTERN: Final = r"^[A-Za-z0-9._~-]{1,255}$"
Cursor = Annotated[
    str,
    Meta(
        pattern=CURSOR_PATTERN,
        description="An opaque position in the issuing node's changes feed: 1-255 characters "
        "of A-Z a-z 0-9 . _ ~ -, sent back exactly as received.",
    ),
]
# fullmatch, not the anchored pattern: Python's `$` also matches before a final newline.
_OPAQUE: Final = re.compile(r"[A-Za-z0-9._~-]{1,255}")

_PREFIX: Final = "1."
_PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{2,11}")


def encode_cursor(seq: int) -> str:
    """The cursor for sequence number `seq` (0 is the position before the first item)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQUENCE:
        raise InvalidCursor(f"a cursor position must be an integer 0..2^63-1, not {seq!r}")
    raw = seq.to_bytes(max(1, (seq.bit_length() + 7) // 8), "big")
    return _PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


#: The cursor before the first item of any feed.
START: Final = encode_cursor(0)


def decode_cursor(cursor: str) -> int:
    """The sequence number in a cursor; `InvalidCursor` for anything `encode_cursor` never made.

    Only the canonical encoding is accepted, so one position has exactly one cursor.
    """
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise InvalidCursor("this is not a citynode changes cursor", cursor=_show(cursor))
    payload = cursor[len(_PREFIX) :]
    if not _PAYLOAD.fullmatch(payload):
        raise InvalidCursor("this is not a citynode changes cursor", cursor=_show(cursor))
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursor("this cursor is not valid base64url", cursor=_show(cursor)) from None
    seq = int.from_bytes(raw, "big")
    if seq > MAX_SEQUENCE or encode_cursor(seq) != cursor:
        raise InvalidCursor("this cursor is not in canonical form", cursor=_show(cursor))
    return seq


def check_cursor(cursor: object) -> str:
    """A peer's cursor as it is, if it has the wire form every node's cursors have; never
    decoded (it is opaque to everyone but its issuer). `InvalidCursor` otherwise."""
    if not isinstance(cursor, str) or not _OPAQUE.fullmatch(cursor):
        raise InvalidCursor(
            "a cursor is 1 to 255 characters of A-Z a-z 0-9 . _ ~ -", cursor=_show(cursor)
        )
    return cursor


def cursor_position(after: str | None) -> int:
    """The sequence number to read after: 0 when no cursor (or an empty one) is given."""
    return 0 if not after else decode_cursor(after)


def clamp_limit(
    requested: int | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    """A page size between 1 and `maximum`; `default` when none was asked for.

    Asking for more than the maximum is not an error: the page is shorter and says `hasMore`.
    """
    if requested is None:
        return min(default, maximum)
    return max(1, min(requested, maximum))


def _show(value: object) -> str:
    return repr(value)[:40]
