"""The SQLite database: one writer connection, one reader connection, WAL, migrations.

Why this shape (docs/DESIGN.md "Storage"): SQLite allows one writer at a time, so every write goes
through one connection under an asyncio lock and one transaction per batch; WAL lets the reader
connection answer queries while a write is in progress. `synchronous=FULL` makes a committed
transaction survive power loss, so a write acknowledged to a user or a peer is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from citynode.errors import StorageFull
from citynode.storage.migrations import migrate

log = logging.getLogger("citynode.storage")

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


class Database:
    """The node's database file, opened with a writer and a reader connection."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self.reader = reader
        self._write_lock = asyncio.Lock()
        #: Bumped after every committed write: caches of read results compare it (search).
        self.generation = 0
        #: Called after every committed write (the change log's followers wake here; see
        #: storage/log.py). A listener must be cheap and must not block.
        self.commit_listeners: list[Callable[[], None]] = []
        #: Bulk writes under way in this process (a peer's pull with more pages to come) and
        #: when the last one ended: followers wait for them (storage/log.py `bulk_writing`).
        self.bulk_writers = 0
        self.bulk_ended_at = 0.0

    @classmethod
    async def open(cls, path: Path) -> Database:
        writer = await _connect(path)
        try:
            await migrate(writer)
            reader = await _connect(path)
        except BaseException:
            await writer.close()
            raise
        await reader.execute("PRAGMA query_only=ON")
        return cls(path, writer, reader)

    @classmethod
    @asynccontextmanager
    async def opened(cls, path: Path) -> AsyncIterator[Database]:
        """The database, open for the block (commands that run once and exit)."""
        db = await cls.open(path)
        try:
            yield db
        finally:
            await db.close()

    async def close(self) -> None:
        async with self._write_lock:
            await self._writer.close()
        await self.reader.close()

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read-only connection of its own inside one read transaction, for long reads.

        In WAL mode a read transaction sees the database as of its first read, whatever is
        committed meanwhile (SQLite "Isolation In SQLite"): a dump paged over many queries is
        one consistent state, and the shared reader stays free for everyone else.
        """
        conn = await _connect(self.path)
        try:
            await conn.execute("PRAGMA query_only=ON")
            await conn.execute("BEGIN")
            yield conn
        finally:
            await conn.close()

    @asynccontextmanager
    async def transaction(self, *, notify: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed when the block ends, rolled back on any error.

        `notify=False` for bookkeeping writes (a follower saving its position) that must not
        wake the followers again.
        """
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except BaseException:
                # Cancelled while BEGIN ran in the connection's thread: it may have begun, and
                # the next writer must not find the connection inside a transaction.
                await self._rollback()
                raise
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException as exc:
                await self._rollback()
                if is_full(exc):
                    raise StorageFull(
                        "the node's storage is full: nothing was written. Reads go on; writes "
                        "succeed again once the operator frees disk space",
                        database=str(self.path),
                    ) from exc
                raise
            self.generation += 1
        if notify:
            for listener in self.commit_listeners:
                try:
                    listener()
                except Exception:  # one broken listener must not fail a committed write
                    log.exception("a commit listener failed")

    async def _rollback(self) -> None:
        """Roll back whatever the writer holds, never raising over the error being handled.

        SQLite rolls back by itself on some errors (SQLITE_FULL among them), and a task
        cancelled while its COMMIT ran in the connection's thread finds the transaction already
        committed: either way ROLLBACK has nothing to undo and says so, which must not replace
        the first error (a CancelledError replaced is a cancellation lost: a follower's loop
        would then never stop). The statements run in order on the connection's thread, so
        this ROLLBACK comes after whatever BEGIN or COMMIT was in flight.
        """
        with contextlib.suppress(sqlite3.OperationalError):  # no transaction was active
            await self._writer.execute("ROLLBACK")


def is_full(exc: BaseException) -> bool:
    """SQLITE_FULL: the disk is full, or the database reached `max_page_count`."""
    return isinstance(exc, sqlite3.Error) and exc.sqlite_errorcode == sqlite3.SQLITE_FULL


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: the module never opens transactions behind our back; `transaction()`
    # issues BEGIN/COMMIT itself.
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    for pragma in _PRAGMAS:
        await conn.execute(pragma)
    return conn
