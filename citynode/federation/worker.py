"""The federation worker: drives each peer's persisted state machine (protocol/sync.py).

Loop (the protocol in sync.py's docstring): find peers whose time has come, `Tick` them; for
each peer then `due`, `Started` must give `syncing` (the lease: another process on the same
home, like `citynode sync` beside `citynode serve`, may have taken it); do the work (a pull of
at most `pages_per_turn` pages, or a reconcile); report `PullSucceeded`, `ReconcileFinished` or
`PullFailed`. At most `max_concurrent_peers` peers work at once.

Wake-ups: a timer (the earliest `next_attempt_at`, capped at a few seconds so peers added by the
CLI in another process are noticed), and `wake()` from inbox notices, `peer add` and approvals.
Tests and the CLI call `run_once()` / `sync_now()` instead of sleeping.

A pull saves the cursor with each page, in the same transaction as the page's records, so a node
killed mid-pull resumes from the last stored page: nothing lost (the cursor never passes a
record not stored) and nothing duplicated (ingest drops versions already held).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Container
from functools import partial
from typing import Any

import msgspec
from msgspec.structs import replace

from citynode.config import FederationSection
from citynode.errors import OutboundError
from citynode.federation.ingest import Ingest, OriginUnavailable, Prepared
from citynode.outbound import GuardedClient
from citynode.storage import log as change_log
from citynode.storage import peers as peer_store
from citynode.storage import replicas
from citynode.storage.db import Database
from citynode.storage.peers import Peer
from protocol.cursor import check_cursor, decode_cursor
from protocol.errors import InvalidCursor, InvalidMessage, ProtocolError
from protocol.messages import (
    ChangesPage,
    DigestRequest,
    DigestResponse,
    decode_as,
    encode_message,
    origin_digest,
)
from protocol.sync import (
    Event,
    PullFailed,
    PullSucceeded,
    ReconcileFinished,
    Started,
    SyncPolicy,
    SyncRequested,
    Tick,
)

log = logging.getLogger("citynode.federation")

#: The longest the background loop sleeps without looking at the peers table.
MAX_SLEEP = 5.0


class PeerOutcome(msgspec.Struct, kw_only=True):
    """What one `sync_now` did for one peer (the CLI prints it)."""

    did: str
    name: str
    state: str
    stored: int
    error: str | None


class Worker:
    def __init__(
        self,
        db: Database,
        client: GuardedClient,
        ingest: Ingest,
        config: FederationSection,
        policy: SyncPolicy,
        self_did: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.ingest = ingest
        self.config = config
        self.policy = policy
        self.self_did = self_did
        self.clock = clock
        self.rng = random.Random()
        self.stored_by_peer: dict[str, int] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(config.max_concurrent_peers)

    def wake(self) -> None:
        self._wake.set()

    async def apply(self, did: str, event: Event) -> Any:
        async with self.db.transaction() as conn:
            return await peer_store.apply(conn, did, event, self.clock(), self.rng, self.policy)

    async def recover_leases(self) -> None:
        """At start-up, peers left `syncing` by this home's previous run are due again.

        Only the server calls this: one server runs per home, so its leases died with it; waiting
        for them to expire (5 minutes) would only delay the resumed pull.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            for peer in await peer_store.list_peers(conn):
                if peer.sync.state == "syncing":
                    await peer_store.write_sync(
                        conn, peer.did, replace(peer.sync, state="due", next_attempt_at=now)
                    )

    async def run_forever(self) -> None:
        """The background loop: start every peer whose time has come, each in its own task.

        A round never waits for the peers it started: a slow peer (a pull crawling through a
        bad link) holds its own slot of `max_concurrent_peers` and nothing else, so a notice
        from another peer is acted on at once (tests/test_faults_network.py).
        """
        in_flight: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                try:
                    for did, task in await self._start_due(exclude=in_flight.keys()):
                        job = asyncio.create_task(self._work(did, task), name=f"sync-{did}")
                        in_flight[did] = job
                        job.add_done_callback(partial(self._finished, in_flight, did))
                except Exception:  # the loop must outlive any one bad round
                    log.exception("federation worker round failed")
                wake_at = await peer_store.next_wake(self.db.reader)
                delay = MAX_SLEEP if wake_at is None else wake_at - self.clock()
                delay = min(max(delay, 0.005), MAX_SLEEP)
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
                # that lands as the wake does, and closing the worker would then wait forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            for job in in_flight.values():
                job.cancel()
            await asyncio.gather(*in_flight.values(), return_exceptions=True)

    def _finished(
        self, in_flight: dict[str, asyncio.Task[None]], did: str, _: asyncio.Task[None]
    ) -> None:
        in_flight.pop(did, None)
        self.wake()  # its next state (more pages, backoff) may be due at once

    async def _start_due(self, exclude: Container[str] = ()) -> list[tuple[str, str]]:
        """Tick the runnable peers; those that start (`syncing`, our lease) with their task."""
        now = self.clock()
        started: list[tuple[str, str]] = []
        for did in await peer_store.runnable_dids(self.db.reader, now):
            if did in exclude:
                continue
            async with self.db.transaction() as conn:
                sync = await peer_store.apply(conn, did, Tick(), now, self.rng, self.policy)
                if sync is None or sync.state != "due" or sync.next_attempt_at > now:
                    continue
                sync = await peer_store.apply(conn, did, Started(), now, self.rng, self.policy)
            if sync is not None and sync.state == "syncing":
                started.append((did, sync.task))
        return started

    async def run_once(self) -> int:
        """One round, waited for: tick the runnable peers and work the ones that start.

        Tests and `sync_now` step the worker with this; the background loop does not wait.
        """
        async with self._lock:
            started = await self._start_due()
            await asyncio.gather(*(self._work(did, task) for did, task in started))
            return len(started)

    async def sync_now(self, did: str | None = None, max_rounds: int = 10_000) -> list[PeerOutcome]:
        """Pull now from one peer or every active one, until each is up to date or failed."""
        peers = await peer_store.list_peers(self.db.reader)
        targets = [p for p in peers if did is None or p.did == did]
        before = {p.did: self.stored_by_peer.get(p.did, 0) for p in targets}
        for peer in targets:
            await self.apply(peer.did, SyncRequested())
        for _ in range(max_rounds):
            await self.run_once()
            now = self.clock()
            busy = elsewhere = False
            for peer in targets:
                current = await peer_store.get_peer(self.db.reader, peer.did)
                if current is not None and current.sync.state == "due":
                    busy = busy or current.sync.next_attempt_at <= now
                # Worked by the background loop (or another process): wait for its turn.
                elsewhere = elsewhere or (current is not None and current.sync.state == "syncing")
            if elsewhere:
                await asyncio.sleep(0.01)
            elif not busy:
                break
        outcomes = []
        for peer in targets:
            current = await peer_store.get_peer(self.db.reader, peer.did)
            if current is None:
                continue
            outcomes.append(
                PeerOutcome(
                    did=peer.did,
                    name=current.name,
                    state=current.sync.state,
                    stored=self.stored_by_peer.get(peer.did, 0) - before[peer.did],
                    error=current.sync.last_error,
                )
            )
        return outcomes

    # --- one peer's turn ---

    async def _work(self, did: str, task: str) -> None:
        async with self._limit:
            peer = await peer_store.get_peer(self.db.reader, did)
            if peer is None:
                return
            event: Event
            try:
                if task == "reconcile":
                    event = await self._reconcile(peer)
                else:
                    event = await self._pull(peer)
            except OutboundError as exc:
                retry = exc.detail.get("retry_after")
                event = PullFailed(
                    kind=exc.sync_kind,  # type: ignore[arg-type]
                    message=exc.message,
                    retry_after=float(retry) if isinstance(retry, int | float) else None,
                )
            except OriginUnavailable as exc:
                event = PullFailed(kind=exc.sync_kind, message=exc.message)  # type: ignore[arg-type]
            except ProtocolError as exc:
                event = PullFailed(
                    kind="invalid", message=f"{peer.base_url} sent an invalid answer: {exc.message}"
                )
            except Exception as exc:
                log.exception("pull from %s failed", did)
                event = PullFailed(kind="invalid", message=f"internal error: {type(exc).__name__}")
            await self.apply(did, event)

    async def _fetch(self, peer: Peer, cursor: str | None) -> ChangesPage:
        # A peer's cursor is opaque (docs/protocol.md 7.1.2): sent back as it came, never read.
        # The first pull names none: "from the beginning" in every node's feed.
        after = "" if cursor is None else f"after={cursor}&"
        url = f"{peer.base_url}/fed/v1/changes?{after}limit={self.config.page_size}"
        body = await self.client.get_json(url, deadline=self.config.request_timeout_seconds)
        page = decode_as(body, ChangesPage)
        if page.node != peer.did:
            raise InvalidMessage(f"the page says it comes from {page.node}, not {peer.did}")
        check_cursor(page.next)
        # A page with items moves the feed: a peer repeating a cursor would otherwise keep us
        # pulling the same page forever.
        if page.items and page.next == cursor:
            raise InvalidCursor(f"the next cursor {page.next} does not move past {cursor}")
        return page

    async def _prepared(
        self, peer: Peer, fetching: asyncio.Future[ChangesPage], fetch_next: bool
    ) -> tuple[ChangesPage, Prepared, asyncio.Future[ChangesPage] | None]:
        """Page N verified, with the fetch of page N+1 started as soon as page N arrived."""
        page = await fetching
        following: asyncio.Future[ChangesPage] | None = None
        if fetch_next and page.has_more and page.items:
            following = asyncio.ensure_future(self._fetch(peer, page.next))
        try:
            return page, await self.ingest.prepare(page), following
        except BaseException:
            await _cancelled(following)
            raise

    async def _pull(self, peer: Peer) -> Event:
        cursor = peer.sync.cursor
        stored_total = 0
        turns = self.config.pages_per_turn
        # Pipeline, three deep: while page N is stored (this process, SQLite in its thread),
        # page N+1 is verified (the process pool) and page N+2 is on its way from the peer.
        # While more pages are to come, the change log's followers wait (storage/log.py
        # "Bulk writes come first").
        pending = asyncio.ensure_future(
            self._prepared(peer, asyncio.ensure_future(self._fetch(peer, cursor)), turns > 1)
        )
        bulk = contextlib.ExitStack()
        try:
            for turn in range(turns):
                page, prepared, following = await pending
                more = page.has_more and bool(page.items)
                if more and turn == 0:
                    bulk.enter_context(change_log.bulk_writing(self.db))
                if following is not None:
                    pending = asyncio.ensure_future(
                        self._prepared(peer, following, turn + 2 < turns)
                    )
                stored = await self._store(peer, page, prepared, caught_up=not more)
                stored_total += stored
                if not more:
                    return PullSucceeded(cursor=page.next, items=stored_total, more=False)
            return PullSucceeded(cursor=page.next, items=stored_total, more=True)
        finally:
            bulk.close()
            if not pending.done():
                await _cancelled(pending)
            elif not pending.cancelled() and pending.exception() is None:
                await _cancelled(pending.result()[2])  # a fetch started for a page not taken

    async def _store(
        self, peer: Peer, page: ChangesPage, prepared: Prepared, caught_up: bool
    ) -> int:
        now = self.clock()
        async with self.db.transaction() as conn:
            stored = await self.ingest.store(conn, prepared, peer.did)
            current = await peer_store.get_peer(conn, peer.did)
            if current is None:
                return 0
            await peer_store.write_sync(conn, peer.did, replace(current.sync, cursor=page.next))
            if _after(page.next, current.remote_cursor):
                await peer_store.note_remote_cursor(conn, peer.did, page.next)
            if caught_up:
                await peer_store.mark_caught_up(conn, peer.did, now)
        self.stored_by_peer[peer.did] = self.stored_by_peer.get(peer.did, 0) + len(stored)
        return len(stored)

    async def _reconcile(self, peer: Peer) -> Event:
        """Compare per-origin digests with the peer; a mismatch re-pulls from the start.

        The peer's own records: the digests must be equal (the peer is their authority). Records
        it relays from other cities: only a count above ours means we miss something, since we
        may hold newer versions than the relay through another path.
        """
        response = await self.client.post_json(
            f"{peer.base_url}/fed/v1/digest",
            encode_message(DigestRequest()),
            deadline=self.config.request_timeout_seconds,
        )
        digests = decode_as(response.body, DigestResponse)
        mismatch = False
        for remote in digests.origins:
            if remote.origin == self.self_did:
                continue
            pairs = [pair async for pair in replicas.origin_pairs(self.db.reader, remote.origin)]
            if remote.origin == peer.did:
                mismatch = mismatch or origin_digest(pairs) != remote.digest
            else:
                mismatch = mismatch or len(pairs) < remote.count
        if mismatch:
            log.info("reconcile with %s found a difference; pulling again from the start", peer.did)
        return ReconcileFinished(mismatch=mismatch)


async def _cancelled(future: asyncio.Future[Any] | None) -> None:
    """Cancel a pipeline stage and wait for it to end (whatever it ends with)."""
    if future is None:
        return
    future.cancel()
    with contextlib.suppress(BaseException):
        await future


def _after(cursor: str, other: str | None) -> bool:
    if other is None:
        return True
    try:
        return decode_cursor(cursor) > decode_cursor(other)
    except InvalidCursor:
        return True
