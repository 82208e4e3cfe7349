"""Editor sessions opened by signing in with a token on the pages (only hashes are stored).

A session is valid while it has not expired and its token is neither revoked nor expired:
revoking the token (`citynode token revoke`) signs out every browser that signed in with it.
"""

from __future__ import annotations

import hashlib
import secrets

import aiosqlite

from citynode.storage.tokens import find_token


class EditorSession:
    __slots__ = ("label", "token_id")

    def __init__(self, token_id: str, label: str) -> None:
        self.token_id = token_id
        self.label = label


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


async def token_of(conn: aiosqlite.Connection, token: str, now: str) -> EditorSession | None:
    """The token with this secret if it is valid at `now` (not revoked, not expired)."""
    info = await find_token(conn, token)
    if info is None or info.state(now) != "active":
        return None
    return EditorSession(info.token_id, info.label)


async def open_session(
    conn: aiosqlite.Connection, token_id: str, now: float, lifetime: float
) -> str:
    """A new session secret for the cookie (in a write transaction)."""
    secret = secrets.token_urlsafe(32)
    await conn.execute("DELETE FROM sessions WHERE expires < ?", (now,))
    await conn.execute(
        "INSERT INTO sessions (hash, token_id, created, expires) VALUES (?, ?, ?, ?)",
        (_hash(secret), token_id, now, now + lifetime),
    )
    return secret


async def session_of(
    conn: aiosqlite.Connection, secret: str, now: float, now_text: str
) -> EditorSession | None:
    """The open session with this secret, while its token is neither revoked nor expired."""
    async with conn.execute(
        "SELECT t.token_id, t.label FROM sessions s JOIN tokens t ON t.token_id = s.token_id "
        "WHERE s.hash = ? AND s.expires >= ? AND t.revoked IS NULL "
        "AND (t.expires IS NULL OR t.expires > ?)",
        (_hash(secret), now, now_text),
    ) as cursor:
        row = await cursor.fetchone()
    return EditorSession(row[0], row[1]) if row else None


async def close_session(conn: aiosqlite.Connection, secret: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE hash = ?", (_hash(secret),))
