"""Backup while serving, restore on "another machine" (a fresh home, another port behind the same
public address), and the node federates on; damaged or foreign archives are refused before
anything is written."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import sqlite3
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.drafts import practice
from tests.federation_support import (
    bound_socket,
    current,
    fed,
    follow,
    publish,
    stored_rows,
    wait_for,
)
from tests.support import RunningNode, request_json, start_node
from tests.tcp_proxy import Relay

ROOT = Path(__file__).resolve().parents[1]
FAST = {"sync_interval_seconds": 0.2, "retry_cap_seconds": 0.5}


async def citynode(*args: str) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "citynode.cli", *args,
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(), err.decode())


async def has(node: RunningNode, record_id: str) -> bool:
    return await current(node, record_id) is not None


def members(archive: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tar:
        return {member.name: member for member in tar.getmembers()}


async def test_backup_while_serving_then_restore_elsewhere_federates_on(tmp_path: Path) -> None:
    relay = Relay(("127.0.0.1", 1))
    public_port = await relay.start()
    public = f"http://127.0.0.1:{public_port}"
    first_sock = bound_socket()
    relay.target = ("127.0.0.1", first_sock.getsockname()[1])
    a = await start_node(tmp_path / "a", sock=first_sock, public_url=public, **FAST)
    b = await start_node(tmp_path / "b", name="Lisboa", **FAST)
    restored = None
    try:
        await publish(a, *(practice(f"p{i:03}") for i in range(60)))
        await follow(b, a)
        await follow(a, b)
        await publish(b, practice("lisboa-1"))
        await fed(b).worker.sync_now(a.did)
        await fed(a).worker.sync_now(b.did)

        # Writes keep coming while the backup runs: the snapshot is consistent anyway.
        archive = tmp_path / "backups" / "a.tar.gz"
        archive.parent.mkdir()

        async def keep_writing() -> None:
            for i in range(10):
                await publish(a, practice(f"during-{i}"))

        writes = keep_writing()
        done, _ = await asyncio.gather(
            citynode("backup", "--home", str(a.home), str(archive)), writes
        )
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        found = members(archive)
        assert set(found) == {
            "manifest.json", "citynode.toml", "citynode.db", "keys/key-1.pem",
        }  # fmt: skip
        assert stat.S_IMODE(found["keys/key-1.pem"].mode) == 0o600
        assert stat.S_IMODE(found["citynode.db"].mode) == 0o600
        with tarfile.open(archive, "r:gz") as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        # 60 + B's record before, and the racing writes that had landed when the snapshot began.
        assert manifest["did"] == a.did and 61 <= manifest["records"] <= 71
        held_at_backup = manifest["records"]

        # Writes after the backup reach B, then the machine dies: the restored node lacks them
        # and B's cursor into its feed lies past the restored head.
        late = [f"{public}/records/late-{i}" for i in range(3)]
        await publish(a, *(practice(f"late-{i}") for i in range(3)))
        for record_id in late:
            await wait_for(lambda r=record_id: has(b, r), what="B to pull the late records")

        # The machine dies. The new one: a fresh home, another port, the same public address.
        await a.stop()
        home = tmp_path / "new-machine" / "a"
        done = await citynode("restore", str(archive), "--home", str(home))
        assert done.returncode == 0, done.stderr
        assert f"restored {a.did}" in done.stdout and "signatures checked" in done.stdout
        assert stat.S_IMODE((home / "keys" / "key-1.pem").stat().st_mode) == 0o600
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        second_sock = bound_socket()
        relay.target = ("127.0.0.1", second_sock.getsockname()[1])
        restored = await start_node(home, sock=second_sock, public_url=public, **FAST)
        assert restored.did == a.did
        count = await restored.node.db.reader.execute_fetchall(
            "SELECT COUNT(*) FROM current WHERE type != 'Tombstone'"
        )
        assert next(iter(count))[0] == held_at_backup

        # It federates on: its new record reaches B, B's new record reaches it.
        # (B's retries of the dead address back off at most retry_cap_seconds; the restored
        # log numbers new records past B's cursor, so they are news to B.)
        assert not [r for r in late if await current(restored, r)]
        await publish(restored, practice("after-restore"))
        await wait_for(
            lambda: has(b, f"{public}/records/after-restore"), what="B to pull the new record"
        )
        await publish(b, practice("lisboa-2"))
        await wait_for(lambda: has(restored, f"{b.url}/records/lisboa-2"), what="the pull back")
        rows = await stored_rows(b)
        assert len(rows) == len(set(rows))
        status, body, _ = await request_json("GET", f"{public}/.well-known/did.json")
        assert status == 200 and body["id"] == a.did
    finally:
        if restored is not None:
            await restored.stop()
        await b.stop()
        await relay.close()


@pytest.fixture
async def archive(tmp_path: Path) -> Path:
    node = await start_node(tmp_path / "origin")
    try:
        await publish(node, practice("uno"), practice("dos"))
    finally:
        await node.stop()
    path = tmp_path / "origin.tar.gz"
    done = await citynode("backup", "--home", str(node.home), str(path))
    assert done.returncode == 0, done.stderr
    return path


def rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> None:
    """Copy an archive with some members replaced, added, or dropped (None)."""
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            if member.name in change:
                body = change[member.name]
                if body is None:
                    continue
            else:
                body = old.extractfile(member).read()  # type: ignore[union-attr]
            info = tarfile.TarInfo(member.name)
            info.size, info.mode = len(body), member.mode
            new.addfile(info, io.BytesIO(body))
        for name, body in change.items():
            if body is not None and name not in old.getnames():
                info = tarfile.TarInfo(name)
                info.size = len(body)
                new.addfile(info, io.BytesIO(body))


def manifest_with(source: Path, files: dict[str, bytes]) -> bytes:
    """The archive's manifest with checksums fixed for `files`, as a careful forger would."""
    with tarfile.open(source, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    for name, body in files.items():
        manifest["files"][name] = hashlib.sha256(body).hexdigest()
    return json.dumps(manifest).encode()


def database_of(source: Path) -> bytes:
    with tarfile.open(source, "r:gz") as tar:
        return tar.extractfile("citynode.db").read()  # type: ignore[union-attr]


async def refused(archive: Path, home: Path, words: str) -> None:
    done = await citynode("restore", str(archive), "--home", str(home))
    assert done.returncode == 1, done.stdout
    assert words in done.stderr, done.stderr
    assert not written(home), "a refused restore wrote the home"


def written(home: Path) -> bool:
    return home.exists() or any(".restore-" in p.name for p in home.parent.iterdir())


async def test_damaged_or_forged_archives_are_refused_before_writing(
    archive: Path, tmp_path: Path
) -> None:
    home = tmp_path / "target" / "node"
    home.parent.mkdir()
    bad = tmp_path / "bad.tar.gz"

    body = bytearray(database_of(archive))
    body[len(body) // 2] ^= 0xFF
    rewrite(archive, bad, {"citynode.db": bytes(body)})
    await refused(bad, home, "does not match its checksum")

    # A forger who fixes the checksum still fails SQLite's checks (a cut-off database here).
    cut = database_of(archive)[: len(body) // 2]
    rewrite(
        archive,
        bad,
        {"citynode.db": cut, "manifest.json": manifest_with(archive, {"citynode.db": cut})},
    )
    await refused(bad, home, "database")

    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    rewrite(
        archive,
        bad,
        {
            "keys/key-1.pem": other,
            "manifest.json": manifest_with(archive, {"keys/key-1.pem": other}),
        },
    )
    await refused(bad, home, "is not the key the DID document lists")

    # A record changed after signing, checksums fixed: the sample's signature check sees it.
    tampered = tmp_path / "tampered.db"
    tampered.write_bytes(database_of(archive))
    conn = sqlite3.connect(tampered)
    with conn:
        conn.execute(
            "UPDATE records SET body = CAST(replace(CAST(body AS TEXT), 'Parques', 'Parkes')"
            " AS BLOB)"
            " WHERE id LIKE '%uno'"
        )
    conn.close()  # closing checkpoints the WAL into the file
    body2 = tampered.read_bytes()
    rewrite(
        archive,
        bad,
        {"citynode.db": body2, "manifest.json": manifest_with(archive, {"citynode.db": body2})},
    )
    await refused(bad, home, "does not verify")

    rewrite(archive, bad, {"../escape": b"x"})
    await refused(bad, home, "which a citynode backup never has")
    rewrite(archive, bad, {"keys/key-1.pem": None})
    await refused(bad, home, "do not match the manifest")
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    await refused(tmp_path / "junk.tar.gz", home, "not a citynode backup")

    home.mkdir()
    (home / "something").write_text("x")
    done = await citynode("restore", str(archive), "--home", str(home))
    assert done.returncode == 1 and "is not empty" in done.stderr
    assert sorted(p.name for p in home.iterdir()) == ["something"]


async def test_backup_never_overwrites(archive: Path) -> None:
    before = await asyncio.to_thread(archive.read_bytes)
    done = await citynode("backup", "--home", str(archive.parent / "origin"), str(archive))
    assert done.returncode == 1 and "exists" in done.stderr
    assert await asyncio.to_thread(archive.read_bytes) == before
