"""Editor API bearer tokens. Only a SHA-256 hash of each token is stored."""

from __future__ import annotations

import hashlib
import secrets

import aiosqlite

TOKEN_PREFIX = "cn_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh (token id, secret token). The token is shown once and never stored."""
    token_id = secrets.token_hex(4)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


async def add_token(
    conn: aiosqlite.Connection, token_id: str, token: str, label: str, created: str
) -> None:
    await conn.execute(
        "INSERT INTO tokens (token_id, hash, label, created) VALUES (?, ?, ?, ?)",
        (token_id, token_hash(token), label, created),
    )


async def token_label(conn: aiosqlite.Connection, token: str) -> str | None:
    """The label of a valid (not revoked) token, or None."""
    async with conn.execute(
        "SELECT label FROM tokens WHERE hash = ? AND revoked IS NULL", (token_hash(token),)
    ) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


class TokenInfo:
    __slots__ = ("created", "label", "revoked", "token_id")

    def __init__(self, token_id: str, label: str, created: str, revoked: str | None) -> None:
        self.token_id = token_id
        self.label = label
        self.created = created
        self.revoked = revoked


async def list_tokens(conn: aiosqlite.Connection) -> list[TokenInfo]:
    """Every token (never the secret, which is not stored), newest first."""
    async with conn.execute(
        "SELECT token_id, label, created, revoked FROM tokens ORDER BY created DESC, token_id"
    ) as cursor:
        rows = await cursor.fetchall()
    return [TokenInfo(r[0], r[1], r[2], r[3]) for r in rows]
