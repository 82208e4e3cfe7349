"""The node's identity: its did:web DID and its Ed25519 signing keys.

Private keys live in `<home>/keys/<key-id>.pem` (PKCS#8, mode 0600); their public halves and
lifecycle (created, retired, revoked) live in the database so the DID document can list every key
a record was ever signed with (docs/DESIGN.md "Identity and keys": old keys stay listed so old
records keep verifying).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from citynode.errors import ConfigError
from citynode.storage import keys as key_store
from citynode.storage.records import now_utc
from protocol.did import KeyEntry, build_did_document, did_from_base_url, parse_timestamp
from protocol.multikey import public_key_from_multibase, public_key_to_multibase

log = logging.getLogger("citynode.identity")


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
    key_id = f"key-{await key_store.count_keys(conn) + 1}"
    key = Ed25519PrivateKey.generate()
    write_private_key(keys_dir, key_id, key)
    await key_store.insert_key(conn, key_id, public_key_to_multibase(key.public_key()), created)
    return key_id, key


async def rotate_key(conn: aiosqlite.Connection, keys_dir: Path, now: str) -> str:
    """Retire the active key (it stays listed so old records verify) and add a new one."""
    await key_store.retire_active(conn, now)
    key_id, _ = await add_key(conn, keys_dir, now)
    return key_id


async def revoke_key(
    conn: aiosqlite.Connection, keys_dir: Path, key_id: str, at: str
) -> str | None:
    """Mark a key compromised: records it signed at or after `at` are refused everywhere.

    A node must always have a key to sign with, so revoking the active key also starts a new
    one: its id is returned (None when the revoked key was not the active one).
    """
    keys = {key.key_id: key for key in await key_store.list_keys(conn)}
    if key_id not in keys:
        raise ConfigError(
            f"there is no key '{key_id}' on this node (it has {', '.join(keys) or 'none'})",
            key=key_id,
        )
    await key_store.revoke(conn, key_id, at)
    if keys[key_id].state != "active":
        return None
    new_id, _ = await add_key(conn, keys_dir, max(at, now_utc()))
    return new_id


async def load_identity(conn: aiosqlite.Connection, keys_dir: Path, base_url: str) -> NodeIdentity:
    rows = await key_store.list_keys(conn)
    if not rows:
        raise ConfigError("this node has no signing key: run `citynode init` first")
    entries = tuple(key_entry(row) for row in rows)
    active_rows = [row for row in rows if row.state == "active"]
    if not active_rows:
        raise ConfigError("every key of this node is retired or revoked: run `citynode key rotate`")
    active_id = active_rows[-1].key_id
    return NodeIdentity(
        did=did_from_base_url(base_url),
        base_url=base_url,
        active=SigningKey(active_id, read_private_key(keys_dir, active_id)),
        keys=entries,
    )


def key_entry(row: key_store.OwnKey) -> KeyEntry:
    return KeyEntry(
        fragment=row.key_id,
        public_key=public_key_from_multibase(row.public_multibase),
        created=parse_timestamp(row.created),
        retired=parse_timestamp(row.retired) if row.retired else None,
        revoked=parse_timestamp(row.revoked) if row.revoked else None,
    )


class Keyring:
    """The node's identity as its keys table says *now*.

    `key rotate` and `key revoke` may run in another process beside `citynode serve`: the
    running node re-reads the table when its fingerprint changes (`refresh`, called by the
    app's key watch a few times a second, by the DID document route, and by the publisher
    inside its write transaction, so a record is never signed with a key retired meanwhile).
    `listeners` are called with the new identity after every change (push notices to peers).
    """

    def __init__(
        self, identity: NodeIdentity, fingerprint: str, keys_dir: Path, base_url: str
    ) -> None:
        self.identity = identity
        self.fingerprint = fingerprint
        self.keys_dir = keys_dir
        self.base_url = base_url
        self.listeners: list[Callable[[NodeIdentity], None]] = []

    @classmethod
    async def load(cls, conn: aiosqlite.Connection, keys_dir: Path, base_url: str) -> Keyring:
        fingerprint = await key_store.fingerprint(conn)
        return cls(await load_identity(conn, keys_dir, base_url), fingerprint, keys_dir, base_url)

    async def refresh(self, conn: aiosqlite.Connection) -> bool:
        """Re-read the keys if they changed; True when they did."""
        fingerprint = await key_store.fingerprint(conn)
        if fingerprint == self.fingerprint:
            return False
        try:
            identity = await load_identity(conn, self.keys_dir, self.base_url)
        except ConfigError as exc:  # e.g. mid-way through a manual edit: keep signing as before
            log.error("could not re-read this node's keys: %s", exc.message)
            return False
        self.identity, self.fingerprint = identity, fingerprint
        log.info("signing keys changed; now signing with %s", identity.verification_method)
        for listener in self.listeners:
            try:
                listener(identity)
            except Exception:  # a broken listener must not stop the change
                log.exception("a key change listener failed")
        return True
