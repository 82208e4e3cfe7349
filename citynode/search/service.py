"""The search service of a node: its index, the indexer that follows the log, and `Searching`.

`citynode serve` opens it writable: one indexer task follows the change log (storage/log.py) and
the searches of this process read the index it writes. Commands that run once (`citynode
search`) open it writable when no server holds the index, and then bring it up to date first;
beside a running server they open it read-only and read what the server indexed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from citynode.node import Node
from citynode.search import engine as engines
from citynode.search.engine import Engine, IndexBusy
from citynode.search.indexer import Indexer
from citynode.search.query import Searching
from citynode.storage import log as change_log
from citynode.storage.log import Following, Lag

log = logging.getLogger("citynode.search")

INDEX_DIR: Final = "search-index"
#: How long an API write waits for its record to be searchable before answering without it.
SEARCHABLE_WITHIN: Final = 5.0
#: Log entries per index commit while catching up: a tantivy commit writes and syncs a segment,
#: so fewer, bigger commits build faster and leave fewer segments to merge. The indexer streams
#: a batch (indexer.py): its memory is the stored bytes of the batch, ~25 MB.
INDEX_BATCH: Final = 10_000
#: How long `serve` waits for the index writer held by a one-shot command.
SERVE_WAIT: Final = 30.0


def index_path(node: Node) -> Path:
    return node.config.home_path / INDEX_DIR


class SearchService:
    """Index, indexer (when writable) and searches of one node."""

    def __init__(self, node: Node, engine: Engine) -> None:
        self.node = node
        self.engine = engine
        self.searching = Searching(node.db, engine, keys=node.known_keys)
        self.following: Following | None = None
        if engine.writable:
            self.following = Following(
                node.db, Indexer(node.db, engine), batch=INDEX_BATCH, leads=True
            )

    @classmethod
    def open(cls, node: Node, *, writable: bool = True) -> SearchService:
        """Writable if asked and no other process writes the index; else read-only."""
        path = index_path(node)
        if writable:
            try:
                engine = Engine.open(path, writable=True)
            except IndexBusy:
                log.info("the search index is written by another process: reading it only")
            else:
                if engine.rebuilt:
                    log.warning("the search analyser changed: rebuilding the index from the store")
                return cls(node, engine)
        return cls(node, Engine.open(path, writable=False))

    @classmethod
    async def for_serving(cls, node: Node, *, wait: float = SERVE_WAIT) -> SearchService:
        """Writable for `serve`: a one-shot command (`citynode search` catching up) may hold the
        writer for a moment, so wait for it before settling for read-only."""
        deadline = time.monotonic() + wait
        while True:
            service = cls.open(node)
            if service.engine.writable or time.monotonic() >= deadline:
                if not service.engine.writable:
                    log.warning("another process writes the search index: this node only reads it")
                return service
            await asyncio.sleep(0.2)

    async def start(self) -> None:
        """Follow the log in the background (serve)."""
        if self.following is not None:
            await self.following.start()

    async def catch_up(self) -> int:
        """Apply everything stored so far, now (one-shot commands); entries applied."""
        if self.following is None:
            self.engine.refresh()
            return 0
        return await self.following.step()

    async def searchable(self, position: int, within: float = SEARCHABLE_WITHIN) -> bool:
        """Wait until the index holds the log up to `position` (a write's own); False on timeout.

        Read-only (another process indexes): waits by re-reading the index.
        """
        if self.following is not None:
            return await self.following.caught_up(position, within)
        deadline = time.monotonic() + within
        while True:
            self.engine.refresh()
            if self.engine.position() >= position or time.monotonic() >= deadline:
                return self.engine.position() >= position
            await asyncio.sleep(0.1)

    def lag(self) -> Lag | None:
        return self.following.lag() if self.following is not None else None

    async def close(self) -> None:
        if self.following is not None:
            await self.following.close()
        # Closing waits for tantivy's segment merges: in a thread, so the loop keeps serving.
        await asyncio.to_thread(self.engine.close)

    @classmethod
    @asynccontextmanager
    async def opened(cls, node: Node, *, writable: bool = True) -> AsyncIterator[SearchService]:
        """For commands that run once: opened, caught up with the store, closed at the end."""
        service = cls.open(node, writable=writable)
        try:
            await service.catch_up()
            yield service
        finally:
            await service.close()


def rebuild(node: Node) -> Path:
    """Delete the index so the next open builds it from the store (`citynode reindex`)."""
    path = index_path(node)
    Engine.open(path, writable=True).close()  # raises IndexBusy when a server holds it
    engines.remove(path)
    return path


async def index_lag(node: Node) -> Lag:
    """How far the index on disk is behind the store, read from outside the indexing process
    (`citynode peer list`); the seconds behind are only known to the process that indexes."""
    engine = Engine.open(index_path(node), writable=False)
    head = await change_log.head(node.db.reader)
    position = engine.position()
    return Lag(
        follower="search", position=position, head=head, entries=max(0, head - position), seconds=0
    )
