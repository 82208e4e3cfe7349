"""Worker processes die with their parent, even on kill -9 (citynode/workers.py).

Each test runs a real `citynode` command, waits until its worker pool has started (the
verifier pool of `serve` and `sync` pulling a big page), kills the command with SIGKILL (no
cleanup runs) and then finds none of its children alive after 5 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from protocol.cursor import encode_cursor
from protocol.records import RECORD_CONTEXT
from tests.drafts import practice
from tests.federation_support import Hostile

ROOT = Path(__file__).resolve().parents[1]
GRACE = 5.0


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def children(pid: int) -> dict[int, int]:
    """Direct children of `pid`: child pid -> start time (to tell a reused pid apart)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == pid:
                found[int(entry)] = stat[2]
    return found


def is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def ready(pid: int) -> bool:
    """A worker past its initializer: it runs the parent-watch thread beside its main one."""
    try:
        return len(os.listdir(f"/proc/{pid}/task")) >= 2
    except OSError:
        return False


def alive(pid: int, started: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and stat[2] == started


def wait_for_workers(process: subprocess.Popen[Any], within: float = 60.0) -> dict[int, int]:
    """The children of `process` once its worker pool is up (every worker past its guards).

    A worker still starting (importing, before its initializer) when its parent dies exits as
    soon as it reaches the initializer (citynode/workers.py); on a loaded machine that can take
    longer than the grace period, so the test kills a pool that is up.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = children(process.pid)
        workers = [pid for pid in found if is_worker(pid)]
        if workers and all(ready(pid) for pid in workers):
            return children(process.pid)
        if process.poll() is not None:
            raise AssertionError(f"the command ended before its workers were seen: {found}")
        time.sleep(0.01)
    raise AssertionError("no worker process started")


def kill_and_check(process: subprocess.Popen[Any], found: dict[int, int]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        left = [pid for pid, started in found.items() if alive(pid, started)]
        if not left:
            return
        time.sleep(0.05)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in left}
    for pid in left:  # do not leave them behind for the next test either
        os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"children alive {GRACE} s after kill -9 of their parent: {left}")


def _drafts(count: int) -> list[dict[str, Any]]:
    return [practice(f"p{n}") for n in range(count)]


def test_publish_leaves_no_process_behind(home: Path, tmp_path: Path) -> None:
    """`publish` runs no worker pool today (the search index follows the log in `serve`), so
    this guards the rule for whatever it may start: killed mid-way, nothing of it lives on."""
    drafts = tmp_path / "many.jsonld"
    drafts.write_text(json.dumps(_drafts(8000)))
    skip = ("--skip-shapes", str(drafts))
    process = subprocess.Popen(
        [sys.executable, "-m", "citynode.cli", "publish", "--home", str(home), "--quiet", *skip],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        # Mid-way: the records are being read and signed (the store is written at the end).
        time.sleep(1.5)
        assert process.poll() is None, "publish ended before it could be killed"
        kill_and_check(process, children(process.pid))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
async def stalling_peer() -> AsyncIterator[tuple[Hostile, asyncio.Event]]:
    """A peer whose first page holds enough records for the verifier pool, and whose second
    page never comes (until the test releases it): the sync is caught mid-pull."""
    peer = await Hostile().start()
    items = []
    for n in range(120):
        document = {
            "@context": RECORD_CONTEXT,
            **practice(f"r{n}"),
            "id": f"{peer.url}/records/r{n}",
            "version": 1,
            "issued": "2024-01-01T00:00:00Z",
            "modified": "2024-01-01T00:00:00Z",
            "publisher": peer.did,
        }
        items.append(peer.sign_record(document, peer.key, peer.keyid))
    release = asyncio.Event()

    async def feed(request: web.Request) -> web.StreamResponse:
        if request.query.get("after", "") not in ("", encode_cursor(0)):
            await release.wait()
        return web.json_response(
            {
                "type": "ChangesPage",
                "node": peer.did,
                "items": items,
                "next": encode_cursor(len(items)),
                "hasMore": True,
            }
        )

    peer.feed = feed
    yield peer, release
    release.set()
    await peer.stop()


async def _cli(*args: str) -> subprocess.Popen[bytes]:
    return await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-m", "citynode.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


async def test_serve_workers_die_with_it(
    home: Path, stalling_peer: tuple[Hostile, asyncio.Event]
) -> None:
    peer, _ = stalling_peer
    adding = await _cli("peer", "add", "--home", str(home), peer.url)
    assert await asyncio.to_thread(adding.wait, 60) == 0
    # The running node pulls the peer's big first page: its verifier pool starts.
    process = await _cli("serve", "--home", str(home))
    try:
        found = await asyncio.to_thread(wait_for_workers, process)
        await asyncio.to_thread(kill_and_check, process, found)
    finally:
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)


async def test_sync_workers_die_with_it(
    home: Path, stalling_peer: tuple[Hostile, asyncio.Event]
) -> None:
    peer, _ = stalling_peer
    adding = await _cli("peer", "add", "--home", str(home), peer.url)
    assert await asyncio.to_thread(adding.wait, 60) == 0
    process = await _cli("sync", "--home", str(home))
    try:
        found = await asyncio.to_thread(wait_for_workers, process)
        await asyncio.to_thread(kill_and_check, process, found)
    finally:
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)
