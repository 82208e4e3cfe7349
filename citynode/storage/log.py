"""The change log: the store's one sequence, and the followers that keep derived views in step.

docs/DESIGN.md "The store is the log": every accepted version and tombstone gets the next
`records.seq` in its write transaction (storage/records.py), and `/fed/v1/changes` serves that
sequence to peers. Everything derived from the store (the search index, push notices to peers,
the SPARQL store, per-origin metrics) is a *follower*: it holds its own position in the sequence
and asks "what came after N?". Writers only verify, append and commit; a slow view costs lag, not
write throughput.

A write by any process is picked up the same way. Commits through this process's `Database` wake
the followers at once (`Database.commit_listeners`); commits by another process on the same home
(a CLI `publish` beside `serve`) are seen by polling the head of the log every `poll_interval`
seconds (one indexed MAX, a few microseconds), so they reach every view within a second.

Rules for a follower:
- `apply` must be idempotent: a batch may be applied again after a crash (the position is saved
  after the view, never before), and an entry is always the *current* version of its record
  (`records.changes`: a record changed twice since N comes once, at its newest position).
- The follower persists its position where it persists its view, atomically with it when the
  view allows it; `Positions` (a table in the node's database) is there for views that have no
  better place.

Bulk writes come first. While a peer's pull has more pages to come (`bulk_writing`, held by
the federation worker), the followers' loops wait instead of applying, for at most
`MAX_DEFER_SECONDS` behind the head: the views (search index, SPARQL store, facts) cost more
CPU per record than verifying and storing it, and on two cores applying them during a cold
sync made ingest 5x slower (bench/RESULTS.md "Ingest"). They then catch up in big batches, which
is also cheaper per record. A reader waiting for its own write (`caught_up`, an API publish
waiting to be searchable) is never kept waiting by this: a follower with a waiter applies at
once. `step()` (tests, one-shot commands) never waits.

Views people wait for come before the others. A `Following(..., leads=True)` (the search index,
whose lag bounds "published to searchable", and push notices to peers) never waits for the
other followers; those (SPARQL store, facts) wait while a leading one of the same database is
catching up, for at most `MAX_DEFER_SECONDS` from the end of the bulk writes that put them
behind: after a cold sync, the index catches up first instead of sharing two cores with views
several times costlier per record (bench/RESULTS.md "Search engine", "Ingest").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Final, Protocol

import aiosqlite
import msgspec

from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.records import StoredRecord

log = logging.getLogger("citynode.log")

#: How often the head of the log is read, to see commits made by other processes.
POLL_INTERVAL: Final = 0.25
#: Entries handed to a follower at once.
BATCH: Final = 1000
#: After a failed batch, wait this long before trying it again (the failure is logged).
RETRY_SECONDS: Final = 1.0
#: The longest a follower waits for bulk writes while behind the head (then it applies anyway:
#: a long sync must not leave search minutes stale).
MAX_DEFER_SECONDS: Final = 30.0
#: Bulk writes are taken as going on for this long after the last one ended (the worker starts
#: a pull's next turn a moment later).
BULK_GRACE_SECONDS: Final = 0.5


async def head(conn: aiosqlite.Connection) -> int:
    """The newest position in the log (0 for an empty store)."""
    return await store.last_seq(conn)


async def after(conn: aiosqlite.Connection, position: int, limit: int) -> list[StoredRecord]:
    """The current version of every record stored after `position`, in log order."""
    return await store.changes(conn, position, limit)


@contextlib.contextmanager
def bulk_writing(db: Database) -> Iterator[None]:
    """Mark a bulk write under way (a multi-page pull): followers wait for it (module docstring)."""
    db.bulk_writers += 1
    try:
        yield
    finally:
        db.bulk_writers -= 1
        db.bulk_ended_at = time.monotonic()


def bulk_writes_under_way(db: Database) -> bool:
    return db.bulk_writers > 0 or time.monotonic() - db.bulk_ended_at < BULK_GRACE_SECONDS


#: The running leading followings of each database (module docstring).
_LEADING: weakref.WeakKeyDictionary[Database, set[Following]] = weakref.WeakKeyDictionary()


class Follower(Protocol):
    """A view that follows the log (the search index, push notices, the SPARQL store...)."""

    name: str

    async def position(self) -> int:
        """Where the view stands: every entry up to here is applied."""
        ...

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        """Apply entries (in log order) and persist the new position `upto`."""
        ...


class Lag(msgspec.Struct, frozen=True, kw_only=True):
    """How far a follower is behind the head: positions not yet applied, and for how long."""

    follower: str
    position: int
    head: int
    entries: int
    seconds: float


class Following:
    """Runs one follower: wakes on commits and on the poll, applies batches, reports lag."""

    def __init__(
        self,
        db: Database,
        follower: Follower,
        *,
        batch: int = BATCH,
        poll_interval: float = POLL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        leads: bool = False,
    ) -> None:
        self.db = db
        self.leads = leads
        self.follower = follower
        self.batch = batch
        self.poll_interval = poll_interval
        self.clock = clock
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._position = 0
        self._head = 0
        self._behind_since: float | None = None
        #: The same moment on the monotonic clock the bulk-write marks use (`clock` may be a
        #: test's own).
        self._behind_mono: float | None = None
        self._task: asyncio.Task[None] | None = None
        #: Readers waiting in `caught_up`: while any waits, bulk writes do not hold this back.
        self._waiters = 0

    def wake(self) -> None:
        """Something was committed: look at the log now (cheap, never blocks)."""
        self._wake.set()

    async def start(self) -> None:
        self._position = await self.follower.position()
        self.db.commit_listeners.append(self.wake)
        if self.leads:
            _LEADING.setdefault(self.db, set()).add(self)
        self._task = asyncio.create_task(self._run(), name=f"follow-{self.follower.name}")

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.db.commit_listeners.remove(self.wake)
        _LEADING.get(self.db, set()).discard(self)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def step(self, *, yielding: bool = False) -> int:
        """Apply everything up to the head as it is now; the number of entries applied.

        Tests and one-shot commands call this instead of running the loop. `yielding` (the
        loop): stop between batches while bulk writes go on (`deferring`).
        """
        applied = 0
        while True:
            self._head = await head(self.db.reader)
            if self._head <= self._position:
                self._behind_since = self._behind_mono = None
                return applied
            if self._behind_since is None:
                self._behind_since = self.clock()
                self._behind_mono = time.monotonic()
            if yielding and self.deferring():
                return applied
            entries = await after(self.db.reader, self._position, self.batch)
            upto = entries[-1].seq if len(entries) == self.batch else self._head
            await self.follower.apply(entries, upto)
            applied += len(entries)
            async with self._progress:
                self._position = upto
                self._progress.notify_all()

    async def caught_up(self, position: int, within: float) -> bool:
        """Wait until the follower has applied `position` (a write's own seq); False on timeout.

        "Searches see their own writes": an API publish waits here for the indexer.
        """
        self._waiters += 1
        self.wake()
        try:
            async with asyncio.timeout(within), self._progress:
                await self._progress.wait_for(lambda: self._position >= position)
        except TimeoutError:
            return False
        finally:
            self._waiters -= 1
        return True

    def deferring(self) -> bool:
        """Wait for bulk writes, or for a leading follower to catch up, now? (Not with a reader
        waiting, nor when too far behind.)"""
        if self._waiters:
            return False
        behind = self._behind_mono
        now = time.monotonic()
        if bulk_writes_under_way(self.db):
            return behind is None or now - behind < MAX_DEFER_SECONDS
        if self.leads or not self._leader_behind():
            return False
        # Waiting for a leader: the bound runs from the end of the bulk writes that put both
        # behind (a cold sync), not from its start, so the index gets its catch-up alone.
        since = max(behind or now, self.db.bulk_ended_at)
        return now - since < MAX_DEFER_SECONDS

    def _leader_behind(self) -> bool:
        return any(
            f.running and f._head > f._position for f in _LEADING.get(self.db, ()) if f is not self
        )

    @property
    def running(self) -> bool:
        """The follower's task is alive (started and neither stopped nor crashed)."""
        return self._task is not None and not self._task.done()

    def lag(self) -> Lag:
        seconds = 0.0
        if self._behind_since is not None and self._head > self._position:
            seconds = round(self.clock() - self._behind_since, 3)
        return Lag(
            follower=self.follower.name,
            position=self._position,
            head=self._head,
            entries=max(0, self._head - self._position),
            seconds=seconds,
        )

    async def _run(self) -> None:
        while True:
            try:
                await self.step(yielding=True)
            except Exception:  # a failing view must not stop the node; the batch is retried
                log.exception("follower %s could not apply the log", self.follower.name)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that
            # lands as the wake does, and `close` would then wait for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()


class Positions:
    """Follower positions in the node's own database, for views with no better place.

    Each `save` is its own small write transaction: a follower that can store its position
    atomically with its view (in the same file or transaction) should do that instead.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self, name: str) -> int:
        async with self.db.reader.execute(
            "SELECT position FROM log_positions WHERE follower = ?", (name,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def save(self, name: str, position: int) -> None:
        async with self.db.transaction(notify=False) as conn:
            await conn.execute(
                "INSERT INTO log_positions (follower, position) VALUES (?, ?)"
                " ON CONFLICT (follower) DO UPDATE SET position = excluded.position",
                (name, position),
            )
