"""The node's identity: its did:web DID and its Ed25519 signing keys.

Private keys live in `<home>/keys/<key-id>.pem` (PKCS#8, mode 0600); their public halves and
lifecycle (created, retired, revoked) live in the database so the DID document can list every key
a record was ever signed with (docs/DESIGN.md "Identity and keys": old keys stay listed so old
records keep verifying).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from citynode.errors import ConfigError
from protocol.did import KeyEntry, build_did_document, did_from_base_url, parse_timestamp
from protocol.multikey import public_key_from_multibase, public_key_to_multibase


class SigningKey(msgspec.Struct, frozen=True):
    key_id: str
    private_key: Ed25519PrivateKey


class NodeIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Who this node is and the key it signs with now."""

    did: str
    base_url: str
    active: SigningKey
    keys: tuple[KeyEntry, ...]

    @property
    def verification_method(self) -> str:
        return f"{self.did}#{self.active.key_id}"

    def did_document(self) -> dict[str, Any]:
        return build_did_document(
            self.did, list(self.keys), f"{self.base_url}/.well-known/citynode"
        )


def _key_path(keys_dir: Path, key_id: str) -> Path:
    return keys_dir / f"{key_id}.pem"


def write_private_key(keys_dir: Path, key_id: str, key: Ed25519PrivateKey) -> Path:
    """Write a new key's file; it becomes the key's only once renamed into place (atomic).

    The caller lists the key in the database after this returns, in its write transaction. A
    process killed between the two leaves a file no row names: that key never signed anything
    (only listed keys sign), so the next rotation, which picks the same id, replaces it.
    """
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = _key_path(keys_dir, key_id)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Create with 0600 from the start: the key is never readable by others, not even briefly.
    partial = path.with_suffix(".pem.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return path


def read_private_key(keys_dir: Path, key_id: str) -> Ed25519PrivateKey:
    path = _key_path(keys_dir, key_id)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigError(f"signing key {path} is missing", file=str(path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key", file=str(path))
    return key


async def add_key(
    conn: aiosqlite.Connection, keys_dir: Path, created: str
) -> tuple[str, Ed25519PrivateKey]:
    """Create the next key (key-1, key-2, ...), save it and list it (in a write transaction)."""
    async with conn.execute("SELECT COUNT(*) FROM keys") as cursor:
        row = await cursor.fetchone()
    key_id = f"key-{(int(row[0]) if row else 0) + 1}"
    async with conn.execute("SELECT 1 FROM keys WHERE key_id = ?", (key_id,)) as cursor:
        if await cursor.fetchone() is not None:
            raise ConfigError(f"the key table is inconsistent: {key_id} exists already")
    key = Ed25519PrivateKey.generate()
    write_private_key(keys_dir, key_id, key)
    await conn.execute(
        "INSERT INTO keys (key_id, public_multibase, created) VALUES (?, ?, ?)",
        (key_id, public_key_to_multibase(key.public_key()), created),
    )
    return key_id, key


async def rotate_key(conn: aiosqlite.Connection, keys_dir: Path, now: str) -> str:
    """Retire the active key (it stays listed so old records verify) and add a new one."""
    await conn.execute(
        "UPDATE keys SET retired = ? WHERE retired IS NULL AND revoked IS NULL", (now,)
    )
    key_id, _ = await add_key(conn, keys_dir, now)
    return key_id


async def revoke_key(conn: aiosqlite.Connection, key_id: str, at: str) -> None:
    """Mark a key compromised: records it signed after `at` are rejected everywhere."""
    cursor = await conn.execute(
        "UPDATE keys SET revoked = ?, retired = COALESCE(retired, ?) WHERE key_id = ?",
        (at, at, key_id),
    )
    if cursor.rowcount == 0:
        raise ConfigError(f"there is no key '{key_id}' on this node", key=key_id)


async def load_identity(conn: aiosqlite.Connection, keys_dir: Path, base_url: str) -> NodeIdentity:
    async with conn.execute(
        "SELECT key_id, public_multibase, created, retired, revoked FROM keys "
        "ORDER BY created, key_id"
    ) as cursor:
        rows = await cursor.fetchall()
    if not rows:
        raise ConfigError("this node has no signing key: run `citynode init` first")
    entries = tuple(
        KeyEntry(
            fragment=row[0],
            public_key=public_key_from_multibase(row[1]),
            created=parse_timestamp(row[2]),
            retired=parse_timestamp(row[3]) if row[3] else None,
            revoked=parse_timestamp(row[4]) if row[4] else None,
        )
        for row in rows
    )
    active_rows = [row for row in rows if row[3] is None and row[4] is None]
    if not active_rows:
        raise ConfigError("every key of this node is retired or revoked: run `citynode key rotate`")
    active_id = active_rows[-1][0]
    return NodeIdentity(
        did=did_from_base_url(base_url),
        base_url=base_url,
        active=SigningKey(active_id, read_private_key(keys_dir, active_id)),
        keys=entries,
    )
