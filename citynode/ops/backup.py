"""Backup and restore: one archive holding everything a node needs to be itself again.

`write_backup` makes a gzip tar of the node while it serves: the database through SQLite's
online backup API (a consistent snapshot, whatever the writer is doing), the private signing
keys, `citynode.toml`, and a manifest with every member's SHA-256. The archive is created
owner-only (0600) because it holds the private keys; inside it the keys and the database keep
mode 0600 too.

`restore` checks an archive before it writes anything into the new home: only the expected
members (no links, no paths outside), every checksum, SQLite's `integrity_check`, the config,
that each private key is the one the DID document lists for it and that the document lists the
signing key for records, and the signatures of a sample of the node's own records. Only then
are the files moved into place (a hidden folder beside the home, renamed at the end).

Derived views (the search index, the SPARQL store, ...) are not archived: they follow the
change log (citynode/storage/log.py), so after a restore their saved positions are cleared and
each rebuilds itself from the store when the node starts. The log's next position jumps ahead
(`SEQUENCE_GAP`), so records written after the restore reach peers whose cursors had passed
the archive's newest record.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import random
import re
import shutil
import sqlite3
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Final

import aiosqlite
import msgspec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from citynode.config import CONFIG_FILE, DATABASE_FILE, KEYS_DIR, load_config
from citynode.errors import ConfigError
from citynode.identity import load_identity, read_private_key
from protocol.did import (
    did_from_base_url,
    key_resolver,
    keys_from_document,
    parse_did_document,
)
from protocol.errors import ProtocolError
from protocol.proofs import verify_record

FORMAT: Final = "citynode-backup/1"
MANIFEST: Final = "manifest.json"
#: Own records whose signatures `restore` checks (all of them when there are fewer).
SAMPLE: Final = 200
#: How far a restore moves the change log's next position past the archive's newest one.
#: Peers may have pulled records the node wrote after the backup (now lost here); their cursors
#: into this node's feed then lie past its restored head, and new records numbered below those
#: cursors would never reach them (until a reconcile). No node writes ten million records
#: between two backups, so after this jump every new record is news to every peer again.
SEQUENCE_GAP: Final = 10_000_000
_KEY_MEMBER: Final = re.compile(r"^keys/key-[0-9]{1,6}\.pem$")


class BackupError(ConfigError):
    code = "backup_invalid"


class Manifest(msgspec.Struct, kw_only=True):
    format: str
    created: str
    did: str
    base_url: str
    records: int
    head: int
    #: member name -> SHA-256 (hex)
    files: dict[str, str]


class RestoreReport(msgspec.Struct, kw_only=True):
    home: str
    did: str
    records: int
    keys: int
    signatures_checked: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot_database(source: Path, target: Path) -> None:
    """A consistent copy of a live database: SQLite's online backup API, page by page.

    The source is opened read-only on its own connection, so a serving node's writer is not
    blocked for the whole copy; a write during the copy restarts the step that saw it.
    """
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=1024)
        finally:
            dst.close()
    finally:
        src.close()
    target.chmod(0o600)


def _database_facts(path: Path) -> tuple[int, int]:
    """(current records, newest log position) of a database file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        records = conn.execute("SELECT COUNT(*) FROM current WHERE type != 'Tombstone'").fetchone()
        head = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()
    finally:
        conn.close()
    return int(records[0]), int(head[0])


def write_backup(home: Path, destination: Path) -> Manifest:
    """Write the node at `home` to a new archive `destination` (blocking: run in a thread)."""
    config = load_config(home)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".citynode-backup-") as tmp:
        staging = Path(tmp)
        snapshot_database(config.database_path, staging / DATABASE_FILE)
        members: dict[str, Path] = {
            CONFIG_FILE: config.home_path / CONFIG_FILE,
            DATABASE_FILE: staging / DATABASE_FILE,
        }
        for key in sorted(config.keys_path.glob("key-*.pem")):
            members[f"{KEYS_DIR}/{key.name}"] = key
        records, head = _database_facts(staging / DATABASE_FILE)
        manifest = Manifest(
            format=FORMAT,
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            did=did_from_base_url(config.base_url),
            base_url=config.base_url,
            records=records,
            head=head,
            files={name: _sha256(path) for name, path in members.items()},
        )
        # O_EXCL and 0600 from the start: the archive holds private keys, and an existing
        # file (an older backup) is never overwritten.
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            body = msgspec.json.format(msgspec.json.encode(manifest), indent=2)
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(body), 0o600, int(time.time())
            archive.addfile(info, io.BytesIO(body))
            for name, path in members.items():
                info = archive.gettarinfo(str(path), arcname=name)
                info.mode = 0o644 if name == CONFIG_FILE else 0o600
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with path.open("rb") as handle:
                    archive.addfile(info, handle)
            raw.flush()
            os.fsync(raw.fileno())
    return manifest


def _extract(archive_path: Path, into: Path) -> Manifest:
    """Unpack the expected members only (regular files, known names), checking each digest."""
    try:
        archive = tarfile.open(archive_path, mode="r:gz")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive_path} is not a citynode backup: {exc}") from None
    with archive:
        try:
            members = archive.getmembers()
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise BackupError(f"{archive_path} is damaged: {exc}") from None
        names = [member.name for member in members]
        if len(set(names)) != len(names):
            raise BackupError(f"{archive_path} holds a member twice")
        for member in members:
            allowed = member.name in (MANIFEST, CONFIG_FILE, DATABASE_FILE) or bool(
                _KEY_MEMBER.match(member.name)
            )
            if not allowed or not member.isfile():
                raise BackupError(
                    f"{archive_path} holds {member.name!r}, which a citynode backup never has"
                )
        if MANIFEST not in names:
            raise BackupError(f"{archive_path} has no {MANIFEST}")
        (into / KEYS_DIR).mkdir(mode=0o700)
        for member in members:
            source = archive.extractfile(member)
            assert source is not None  # a regular file, checked above
            target = into / member.name
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as handle:
                    shutil.copyfileobj(source, handle)
            except (OSError, tarfile.TarError, EOFError) as exc:
                raise BackupError(f"{archive_path} is damaged at {member.name}: {exc}") from None
    try:
        manifest = msgspec.json.decode((into / MANIFEST).read_bytes(), type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BackupError(f"{archive_path}: the manifest is unreadable: {exc}") from None
    if manifest.format != FORMAT:
        raise BackupError(f"{archive_path} is a {manifest.format!r} archive, not {FORMAT}")
    present = set(names) - {MANIFEST}
    if present != set(manifest.files):
        raise BackupError(
            f"{archive_path}: the members do not match the manifest "
            f"(missing {sorted(set(manifest.files) - present)}, "
            f"unlisted {sorted(present - set(manifest.files))})"
        )
    for name, expected in manifest.files.items():
        if _sha256(into / name) != expected:
            raise BackupError(f"{archive_path}: {name} does not match its checksum")
    return manifest


def _check_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            raise BackupError(f"the archived database fails integrity_check: {verdict[:5]}")
        if conn.execute("PRAGMA foreign_key_check").fetchall():
            raise BackupError("the archived database fails foreign_key_check")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the archived database cannot be read: {exc}") from None
    finally:
        conn.close()


async def _check_identity(staging: Path, manifest: Manifest, rng: random.Random) -> tuple[int, int]:
    """Keys match the DID document and sign the records; (keys, signatures checked)."""
    config = load_config(staging, environ={})
    did = did_from_base_url(config.base_url)
    if did != manifest.did:
        raise BackupError(f"the config's base URL means {did}, the manifest says {manifest.did}")
    async with aiosqlite.connect(f"file:{staging / DATABASE_FILE}?mode=ro", uri=True) as conn:
        # The DID document exactly as the serving node builds it (citynode/identity.py).
        identity = await load_identity(conn, staging / KEYS_DIR, config.base_url)
        async with conn.execute("SELECT key_id, revoked FROM keys") as cursor:
            key_rows = list(await cursor.fetchall())
        async with conn.execute(
            "SELECT r.body FROM current c JOIN records r ON r.seq = c.seq WHERE c.origin = ?",
            (did,),
        ) as cursor:
            own = [bytes(row[0]) for row in await cursor.fetchall()]
    listed = keys_from_document(parse_did_document(identity.did_document()))
    if identity.verification_method not in listed:
        raise BackupError(
            f"the DID document does not list the signing key {identity.active.key_id}"
        )
    for key_id, revoked in key_rows:
        path = staging / KEYS_DIR / f"{key_id}.pem"
        if not path.exists():
            if revoked is None:
                raise BackupError(f"the archive lacks the private key {key_id}")
            continue
        private = read_private_key(staging / KEYS_DIR, key_id)
        raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        entry = listed.get(f"{did}#{key_id}")
        if entry is None or entry.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw) != raw:
            raise BackupError(
                f"the private key {key_id} is not the key the DID document lists as {key_id}"
            )
    sample = own if len(own) <= SAMPLE else rng.sample(own, SAMPLE)
    resolve = key_resolver(listed)
    for body in sample:
        try:
            record = msgspec.json.decode(body)
            verify_record(record, resolve, allow_http=config.base_url.startswith("http:"))
        except msgspec.DecodeError:
            raise BackupError("an archived record is not readable JSON") from None
        except ProtocolError as exc:
            raise BackupError(
                f"the archived record {record.get('id')} does not verify: {exc.message}"
            ) from None
    return len(key_rows), len(sample)


def _restart_the_log(path: Path) -> None:
    """Derived views rebuild from the store after a restore: forget where they stood; and move
    the next log position past anything peers may have pulled before the machine died."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'log_positions'").fetchone():
                conn.execute("DELETE FROM log_positions")
            # AUTOINCREMENT takes max(sqlite_sequence, MAX(seq)) + 1 for the next row.
            conn.execute(
                "UPDATE sqlite_sequence SET seq = seq + ? WHERE name = 'records'", (SEQUENCE_GAP,)
            )
    finally:
        conn.close()


def _staging_for(home: Path) -> Path:
    """A hidden folder beside the new home (same filesystem: the final step is a rename)."""
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise BackupError(f"{home} is not empty: restore into a new folder")
    home.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=home.parent, prefix=f".{home.name}.restore-"))


def _install(staging: Path, home: Path) -> None:
    _restart_the_log(staging / DATABASE_FILE)
    (staging / MANIFEST).unlink()
    staging.chmod(0o700)
    if home.exists():
        home.rmdir()
    staging.rename(home)


async def restore(
    archive_path: Path, home: Path, rng: random.Random | None = None
) -> RestoreReport:
    """Check `archive_path` fully, then make `home` (new or empty) the node it holds."""
    staging = await asyncio.to_thread(_staging_for, home)
    try:
        manifest = await asyncio.to_thread(_extract, archive_path, staging)
        await asyncio.to_thread(_check_database, staging / DATABASE_FILE)
        keys, checked = await _check_identity(staging, manifest, rng or random.Random())
        await asyncio.to_thread(_install, staging, home)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, staging, True)
        raise
    return RestoreReport(
        home=str(home),
        did=manifest.did,
        records=manifest.records,
        keys=keys,
        signatures_checked=checked,
    )
