"""kill -9 in the middle of a bulk import, a sync and a key rotation, with real processes.

After each crash: SQLite's integrity check passes, no version is stored twice, every record
whose write was acknowledged (a 201 to the client, a CLI that finished) is there, a batch is
stored whole or not at all, and the restarted node signs with a key its DID document lists.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.crash_support import ROOT, Served, check_store, cli, signs_with_a_listed_key
from tests.drafts import practice

BATCH = 25
#: Real processes start slowly while the rest of the suite runs.
pytestmark = pytest.mark.timeout(600)


async def import_batches(
    served: Served,
    prefix: str,
    acked: list[list[str]],
    tried: list[list[str]],
    enough: asyncio.Event,
) -> None:
    """POST batches until the server dies; `acked` gets each batch answered 201."""
    async with aiohttp.ClientSession() as session:
        for n in range(10_000):
            slugs = [f"{prefix}-{n:04}-{i:02}" for i in range(BATCH)]
            tried.append(slugs)
            try:
                async with session.post(
                    f"{served.url}/api/records",
                    json=[practice(slug) for slug in slugs],
                    headers=served.auth(),
                ) as response:
                    if response.status != 201:
                        raise AssertionError(await response.text())
                    await response.read()
            except (aiohttp.ClientError, ConnectionError):
                return
            acked.append(slugs)
            if len(acked) >= 6:
                enough.set()


async def test_kill9_during_bulk_imports(tmp_path: Path) -> None:
    served = await Served.create(tmp_path / "node")
    await served.start()
    try:
        acked: list[list[str]] = []
        tried: list[list[str]] = []
        enough = asyncio.Event()
        clients = [
            asyncio.create_task(import_batches(served, f"c{n}", acked, tried, enough))
            for n in range(2)
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(enough.wait(), 120)
        served.kill9()  # in the middle of the next batches
        await asyncio.gather(*clients)
        await served.stop()
        assert len(acked) >= 6, served.log()

        held = check_store(served.home)
        base = f"{served.url}/records/"
        for batch in acked:
            assert all(held.get(base + slug) == 1 for slug in batch)
        for batch in tried:  # acknowledged or not, a batch is one transaction
            present = [base + slug in held for slug in batch]
            assert all(present) or not any(present), batch[0]

        # A CLI import killed while it signs: nothing of it, or all of it.
        big = tmp_path / "big.json"
        big.write_text(json.dumps([practice(f"cli-{i:05}") for i in range(6000)]))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "citynode.cli", "publish", "--home", str(served.home),
            str(big), "--quiet", "--skip-shapes", cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.sleep(1.5)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        finished = await process.wait() == 0
        held = check_store(served.home)
        from_cli = sum(1 for record_id in held if "/records/cli-" in record_id)
        # One transaction: all or nothing (all, if the kill came after the commit), and all
        # when the command finished (its acknowledgement).
        assert from_cli in (0, 6000), from_cli
        assert from_cli == 6000 or not finished

        await served.start()
        method = await signs_with_a_listed_key(served, "after-crash")
        assert method.endswith("#key-1")
    finally:
        await served.stop()


async def test_kill9_during_sync_on_either_side(tmp_path: Path) -> None:
    small_pages = {
        "CITYNODE_FEDERATION_PAGE_SIZE": "40",
        "CITYNODE_FEDERATION_PAGES_PER_TURN": "1",
        "CITYNODE_FEDERATION_SYNC_INTERVAL_SECONDS": "0.2",
        "CITYNODE_FEDERATION_RETRY_CAP_SECONDS": "0.5",
        "CITYNODE_FEDERATION_VERIFY_PROCESSES": "1",
    }
    a = await Served.create(tmp_path / "a", **small_pages)
    b = await Served.create(tmp_path / "b", "Lisboa", **small_pages)
    source = tmp_path / "a.json"
    source.write_text(json.dumps([practice(f"p{i:04}") for i in range(1200)]))
    done = await cli("publish", "--home", str(a.home), str(source), "--quiet", "--skip-shapes")
    assert done.returncode == 0, done.stderr
    expected = set(check_store(a.home))
    await a.start()
    await b.start()
    try:
        done = await cli("peer", "add", "--home", str(b.home), a.url)
        assert done.returncode == 0, done.stdout + done.stderr

        async def b_holds(count: int, within: float = 120) -> None:
            started = time.monotonic()
            while sum(1 for r in check_store(b.home) if r in expected) < count:
                if time.monotonic() - started > within:
                    raise AssertionError(f"B stuck below {count}:\n{b.log()}")
                await asyncio.sleep(0.05)

        # The puller dies mid-sync, then the node it pulls from; each comes back.
        await b_holds(200)
        b.kill9()
        await b.stop()
        check_store(b.home)
        await b.start()
        await b_holds(600)
        a.kill9()
        await a.stop()
        await asyncio.sleep(0.5)
        await a.start()
        await b_holds(len(expected))
        held = check_store(b.home)
        assert expected <= set(held)
        assert all(held[record_id] == 1 for record_id in expected)
        await signs_with_a_listed_key(b, "after-sync-crash")
    finally:
        await b.stop()
        await a.stop()


async def test_kill9_during_key_rotation(tmp_path: Path) -> None:
    served = await Served.create(tmp_path / "node")
    await served.start()
    try:
        await signs_with_a_listed_key(served, "before")
        # Kill rotations at points spread over their lifetime (start-up, work, exit).
        for delay in (0.3, 0.8, 1.3, 1.8, 2.5):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "citynode.cli", "key", "rotate", "--home", str(served.home),
                cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(delay)
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            await process.wait()
            check_store(served.home)
        # The worst moment, made exact: the new key's file is written, its row never committed
        # (a rotation killed between the two). The next rotation must still work.
        keys = served.home / "keys"
        listed = len(list(keys.glob("key-*.pem")))
        orphan = keys / f"key-{listed + 1}.pem"
        orphan.write_bytes((keys / "key-1.pem").read_bytes())
        done = await cli("key", "rotate", "--home", str(served.home))
        assert done.returncode == 0, done.stderr
        check_store(served.home)

        # The running node picks up the rotation (live, or at its restart); either way it must
        # sign with a key its DID document lists, and old records keep verifying.
        served.kill9()
        await served.stop()
        await served.start()
        method = await signs_with_a_listed_key(served, "after-rotations")
        assert not method.endswith("#key-1"), method
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{served.url}/records/before") as response,
        ):
            assert response.status == 200
        await signs_with_a_listed_key(served, "again")
    finally:
        await served.stop()
