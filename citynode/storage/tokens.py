"""Editor API bearer tokens. Only a SHA-256 hash of each token is stored.

A token is shown once, when it is created; it may expire (`expires`, RFC 3339 UTC) and may be
revoked. Times are stored in the records' format, so text comparison orders them.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

import aiosqlite
import msgspec

TOKEN_PREFIX = "cn_"

TokenState = Literal["active", "expired", "revoked"]


class TokenInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What an operator sees of a token (never the token itself)."""

    token_id: str
    label: str
    created: str
    expires: str | None = None
    revoked: str | None = None

    def state(self, now: str) -> TokenState:
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and self.expires <= now:
            return "expired"
        return "active"


def token_hash(token: str) -> str:
    # surrogateescape: header bytes that are not UTF-8 (aiohttp keeps them as surrogates) hash
    # to a value no token has, instead of failing.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh (token id, secret token). The token is shown once and never stored."""
    token_id = secrets.token_hex(4)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


async def add_token(
    conn: aiosqlite.Connection,
    token_id: str,
    token: str,
    label: str,
    created: str,
    expires: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO tokens (token_id, hash, label, created, expires) VALUES (?, ?, ?, ?, ?)",
        (token_id, token_hash(token), label, created, expires),
    )


async def find_token(conn: aiosqlite.Connection, token: str) -> TokenInfo | None:
    """The token's record (whatever its state), or None for a token this node never made."""
    async with conn.execute(
        "SELECT token_id, label, created, expires, revoked FROM tokens WHERE hash = ?",
        (token_hash(token),),
    ) as cursor:
        row = await cursor.fetchone()
    return _info(row) if row else None


async def token_label(conn: aiosqlite.Connection, token: str, now: str) -> str | None:
    """The label of a token that is valid at `now` (not revoked, not expired), or None."""
    info = await find_token(conn, token)
    return info.label if info is not None and info.state(now) == "active" else None


async def list_tokens(conn: aiosqlite.Connection) -> list[TokenInfo]:
    """Every token, newest first."""
    async with conn.execute(
        "SELECT token_id, label, created, expires, revoked FROM tokens "
        "ORDER BY created DESC, token_id"
    ) as cursor:
        return [_info(row) for row in await cursor.fetchall()]


async def revoke_token(conn: aiosqlite.Connection, token_id: str, at: str) -> bool:
    """Revoke a token from `at` on; False when there is no such token (or it was revoked)."""
    cursor = await conn.execute(
        "UPDATE tokens SET revoked = ? WHERE token_id = ? AND revoked IS NULL", (at, token_id)
    )
    return cursor.rowcount > 0


def _info(row: aiosqlite.Row) -> TokenInfo:
    return TokenInfo(token_id=row[0], label=row[1], created=row[2], expires=row[3], revoked=row[4])
