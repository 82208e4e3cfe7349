"""The change log and its followers (citynode/storage/log.py), on real SQLite files.

A follower sees every write: those of its own process at once, those of another process (the
CLI beside `serve`) by the poll; it gets each record once, at its newest version, and its lag
says how far behind it is.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from citynode.storage import log
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.records import NewVersion, StoredRecord


def _version(record_id: str, version: int) -> NewVersion:
    return NewVersion(
        id=record_id,
        version=version,
        type="Project",
        origin="did:web:example.org",
        modified="2026-01-01T00:00:00Z",
        status=None,
        body=b'{"id": "%s", "version": %d}' % (record_id.encode(), version),
    )


class Recorder:
    """A follower that remembers what it was given (the position lives in `Positions`)."""

    name = "recorder"

    def __init__(self, positions: log.Positions) -> None:
        self.positions = positions
        self.seen: list[tuple[str, int]] = []
        self.fail_next = False

    async def position(self) -> int:
        return await self.positions.load(self.name)

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the view is down")
        self.seen.extend((e.id, e.version) for e in entries)
        await self.positions.save(self.name, upto)


async def _append(db: Database, *items: NewVersion) -> None:
    async with db.transaction() as conn:
        await store.append(conn, list(items))


async def test_follower_gets_each_record_once_at_its_newest_version(tmp_path: Path) -> None:
    async with Database.opened(tmp_path / "node.db") as db:
        recorder = Recorder(log.Positions(db))
        following = log.Following(db, recorder, batch=2)
        await _append(db, _version("https://a.example/records/x", 1))
        await _append(db, _version("https://a.example/records/y", 1))
        await _append(db, _version("https://a.example/records/x", 2))
        await _append(db, _version("https://a.example/records/z", 1))
        assert following.lag().entries == 0  # not read yet: nothing known
        applied = await following.step()
        assert applied == 3
        assert recorder.seen == [
            ("https://a.example/records/y", 1),
            ("https://a.example/records/x", 2),
            ("https://a.example/records/z", 1),
        ]
        assert following.lag().entries == 0
        assert await following.step() == 0
        # The position survives: a new follower over the same database starts where it was.
        again = Recorder(log.Positions(db))
        assert await again.position() == await log.head(db.reader)


async def test_follower_wakes_on_commit_and_reports_lag(tmp_path: Path) -> None:
    async with Database.opened(tmp_path / "node.db") as db:
        recorder = Recorder(log.Positions(db))
        # A long poll: only the commit listener can wake it in time.
        following = log.Following(db, recorder, poll_interval=30.0)
        await following.start()
        try:
            await _append(db, _version("https://a.example/records/x", 1))
            seq = await log.head(db.reader)
            assert await following.caught_up(seq, within=5.0)
            assert recorder.seen == [("https://a.example/records/x", 1)]
            assert following.lag().entries == 0
        finally:
            await following.close()


async def test_failed_batch_is_retried_and_lag_shows_meanwhile(tmp_path: Path) -> None:
    async with Database.opened(tmp_path / "node.db") as db:
        recorder = Recorder(log.Positions(db))
        recorder.fail_next = True
        following = log.Following(db, recorder)
        await _append(db, _version("https://a.example/records/x", 1))
        with pytest.raises(RuntimeError):
            await following.step()
        lag = following.lag()
        assert lag.entries == 1
        assert lag.head == await log.head(db.reader)
        assert await following.step() == 1
        assert following.lag().entries == 0


_OTHER_PROCESS = """
import asyncio, sys
from pathlib import Path
from citynode.storage.db import Database
from citynode.storage import records as store
from citynode.storage.records import NewVersion

async def main():
    async with Database.opened(Path(sys.argv[1])) as db, db.transaction() as conn:
        await store.append(conn, [NewVersion(id="https://a.example/records/cli", version=1,
            type="Project", origin="did:web:example.org", modified="2026-01-01T00:00:00Z",
            status=None, body=b"{}")])

asyncio.run(main())
"""


async def test_write_by_another_process_is_seen_by_the_poll(tmp_path: Path) -> None:
    path = tmp_path / "node.db"
    async with Database.opened(path) as db:
        recorder = Recorder(log.Positions(db))
        following = log.Following(db, recorder, poll_interval=0.1)
        await following.start()
        try:
            await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", _OTHER_PROCESS, str(path)], check=True
            )
            # No commit in this process: only the poll can find it.
            for _ in range(100):
                if recorder.seen:
                    break
                await asyncio.sleep(0.05)
            assert recorder.seen == [("https://a.example/records/cli", 1)]
        finally:
            await following.close()


async def test_a_write_cancelled_at_any_moment_stays_cancelled(tmp_path: Path) -> None:
    """A task cancelled inside a write transaction (a follower closed while it saves its
    position) ends cancelled, whatever step the cancellation lands on: a ROLLBACK that finds
    the transaction already committed (the COMMIT ran in the connection's thread) must not
    replace the CancelledError, or the follower's loop swallows it and `close` waits forever."""
    async with Database.opened(tmp_path / "node.db") as db:
        positions = log.Positions(db)

        async def save(n: int) -> None:
            while True:
                await positions.save("cancelled", n)

        outcomes: set[str] = set()
        for attempt in range(200):
            task = asyncio.create_task(save(attempt))
            for _ in range(attempt % 7):
                await asyncio.sleep(0)
            await asyncio.sleep(0.0002 * (attempt % 5))
            task.cancel()
            try:
                await asyncio.wait_for(task, 5)
            except asyncio.CancelledError:
                outcomes.add("cancelled")
            else:
                outcomes.add("finished")
        assert outcomes == {"cancelled"}, outcomes
        # The writer is still usable and not left inside a transaction.
        await positions.save("cancelled", 1)
        assert await positions.load("cancelled") == 1


async def test_close_stops_a_follower_just_woken(tmp_path: Path) -> None:
    """`close` as a wake lands (a commit, or `caught_up`) stops the follower: its wait for the
    next wake must not swallow the cancellation when both arrive at once (Python 3.11's
    asyncio.wait_for does), or `close`, and the node's shutdown with it, waits forever."""
    async with Database.opened(tmp_path / "node.db") as db:
        for _ in range(5):
            following = log.Following(db, Recorder(log.Positions(db)), poll_interval=30.0)
            await following.start()
            await asyncio.sleep(0.1)  # idle, waiting for a wake
            task = following._task
            closing = asyncio.create_task(following.close())
            following.wake()
            done, _ = await asyncio.wait({closing}, timeout=5.0)
            if not done:  # the cancellation was lost: stop the follower for good, then fail
                assert task is not None
                task.cancel()
                await asyncio.wait({closing}, timeout=5.0)
            assert done, "close did not stop a follower woken at the same moment"


class SlowRecorder(Recorder):
    """A recorder whose view takes a while per batch (a leader catching up)."""

    def __init__(self, positions: log.Positions, name: str, delay: float) -> None:
        super().__init__(positions)
        self.name = name
        self.delay = delay

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        await asyncio.sleep(self.delay)
        await super().apply(entries, upto)


async def _until(check: object, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


async def test_followers_wait_for_a_bulk_pull_except_for_a_reader_waiting(tmp_path: Path) -> None:
    """While bulk writes go on the loop applies nothing; a reader waiting for its own write
    gets it applied at once; when the bulk ends the follower catches up."""
    async with Database.opened(tmp_path / "node.db") as db:
        recorder = Recorder(log.Positions(db))
        following = log.Following(db, recorder, poll_interval=0.02)
        await following.start()
        try:
            with log.bulk_writing(db):
                await _append(db, _version("https://a.example/records/a", 1))
                await asyncio.sleep(0.3)
                assert recorder.seen == []  # waited for the bulk writes
                assert following.lag().entries == 1
                head = await log.head(db.reader)
                assert await following.caught_up(head, within=2.0)  # a waiter is never held
                assert recorder.seen == [("https://a.example/records/a", 1)]
                await _append(db, _version("https://a.example/records/b", 1))
                await asyncio.sleep(0.3)
                assert len(recorder.seen) == 1
            await _until(lambda: len(recorder.seen) == 2)  # the bulk ended: caught up
        finally:
            await following.close()


async def test_other_followers_wait_while_a_leading_one_catches_up(tmp_path: Path) -> None:
    async with Database.opened(tmp_path / "node.db") as db:
        positions = log.Positions(db)
        leader = SlowRecorder(positions, "leader", delay=0.4)
        other = SlowRecorder(positions, "other", delay=0.0)
        leading = log.Following(db, leader, batch=1, poll_interval=0.02, leads=True)
        following = log.Following(db, other, batch=1, poll_interval=0.02)
        for n in range(3):
            await _append(db, _version(f"https://a.example/records/{n}", 1))
        await leading.start()
        await following.start()
        try:
            await asyncio.sleep(0.6)  # the leader has applied one or two of its three
            assert len(leader.seen) < 3
            assert other.seen == []
            await _until(lambda: len(leader.seen) == 3)
            await _until(lambda: len(other.seen) == 3)
        finally:
            await following.close()
            await leading.close()
