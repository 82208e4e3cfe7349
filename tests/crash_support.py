"""Real `citynode` processes for the kill -9 tests: a node in its own process on loopback, the
checks every crash must pass afterwards (SQLite integrity, no duplicate version, every
acknowledged record present, signing with a key the DID document lists)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from protocol.did import key_resolver, keys_from_document, parse_did_document
from protocol.proofs import verify_record
from tests.drafts import practice

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def cli(*args: str, within: float = 120) -> subprocess.CompletedProcess[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "citynode.cli", *args,
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), within)
    return subprocess.CompletedProcess(args, process.returncode or 0, out.decode(), err.decode())


class Served:
    """`citynode serve` in its own process group (so a kill -9 test can also clean up the
    verifier pool's children the dead parent leaves)."""

    def __init__(self, home: Path, url: str, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.url = url
        self.env = env or {}
        self.process: asyncio.subprocess.Process | None = None
        self.token = ""

    @classmethod
    async def create(cls, home: Path, name: str = "Medellín", **env: str) -> Served:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        done = await cli(
            "init", "--home", str(home), "--url", url, "--name", name, "--country", "CO",
            "--allow-private-peers",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        served = cls(home, url, env)
        token = await cli("token", "create", "--home", str(home))
        served.token = token.stdout.strip()
        return served

    async def start(self) -> None:
        log = (self.home / "serve.log").open("ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "citynode.cli", "serve", "--home", str(self.home),
                cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
                env={**os.environ, "CITYNODE_OPS_ACCESS_LOG": "false", **self.env},
            )  # fmt: skip
        finally:
            log.close()
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise AssertionError(f"{self.url} did not start:\n{self.log()}")

    def kill9(self) -> None:
        """SIGKILL the server (the fault), then its process group (the cleanup)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        self.kill9()
        if self.process is not None:
            await self.process.wait()

    def log(self) -> str:
        path = self.home / "serve.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def check_store(home: Path) -> dict[str, int]:
    """The checks after every crash; id -> current version of every record held."""
    conn = sqlite3.connect(home / "citynode.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        (rows,) = conn.execute("SELECT COUNT(*) FROM records").fetchone()
        (distinct,) = conn.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT id, version FROM records)"
        ).fetchone()
        assert rows == distinct, "a version is stored twice"
        # The node's own records: versions run 1..n with no gap. (A replica may lack versions
        # that were superseded before it pulled: the feed serves each record's newest.)
        gaps = conn.execute(
            "SELECT id FROM records WHERE origin IN (SELECT did FROM origins WHERE is_self = 1)"
            " GROUP BY id HAVING MAX(version) != COUNT(*)"
        ).fetchall()
        assert gaps == [], gaps[:5]
        stale = conn.execute(
            "SELECT c.id FROM current c JOIN (SELECT id, MAX(version) v FROM records GROUP BY id)"
            " m ON m.id = c.id WHERE c.version != m.v"
        ).fetchall()
        assert stale == [], stale[:5]
        return dict(conn.execute("SELECT id, version FROM current").fetchall())
    finally:
        conn.close()


async def signs_with_a_listed_key(served: Served, slug: str) -> str:
    """Publish one record through the API and verify it against the DID document served."""
    draft = practice(slug)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{served.url}/api/records", json=[draft], headers=served.auth()
        ) as response:
            assert response.status == 201, await response.text()
        async with session.get(f"{served.url}/records/{slug}") as response:
            record: dict[str, Any] = msgspec.json.decode(await response.read())
        async with session.get(f"{served.url}/.well-known/did.json") as response:
            document = parse_did_document(await response.read())
    keys = keys_from_document(document)
    verify_record(record, key_resolver(keys), allow_http=True)
    method: str = record["proof"]["verificationMethod"]
    return method
