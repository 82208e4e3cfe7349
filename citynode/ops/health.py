"""Liveness, readiness and the state behind the metrics, read from one node's pieces.

`/healthz` says the process answers (its event loop runs). `/readyz` says the node can do its
job: the database answers, every change-log follower (the search index, push notices, the
SPARQL store...: the app's FOLLOWINGS) is caught up within `ops.ready_max_lag_seconds` and
still running, and the federation worker runs. A load balancer stops sending searches to a node
whose index is minutes behind; an orchestrator restarts one whose `/healthz` stops answering.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from citynode.federation.service import Federation, peer_view
from citynode.node import Node
from citynode.ops.metrics import FollowerState, PeerState, Snapshot, split_counters
from citynode.storage import peers as peer_store
from citynode.storage import records as store
from citynode.storage.log import Following, Lag

#: How long the database may take to answer `SELECT 1` before the node counts as not ready.
DATABASE_DEADLINE = 2.0


class Check(msgspec.Struct, kw_only=True):
    ok: bool
    detail: str


def _fresh(lag: Lag, newest: int) -> Lag:
    """A follower's lag against the log's head now (its own view of the head is from its last
    step, which may still be applying a batch)."""
    head = max(lag.head, newest)
    return msgspec.structs.replace(lag, head=head, entries=max(0, head - lag.position))


async def readiness(
    node: Node,
    followings: list[Following],
    federation: Federation | None,
    max_lag: float,
    max_entries: int,
) -> dict[str, Check]:
    """Every readiness check by name; the node is ready when all hold."""
    checks: dict[str, Check] = {}
    try:
        async with node.db.reader.execute("SELECT 1") as cursor:
            await cursor.fetchone()
        checks["database"] = Check(ok=True, detail=str(node.db.path.name))
    except Exception as exc:  # a closed or broken database is exactly what this reports
        checks["database"] = Check(ok=False, detail=f"{type(exc).__name__}: {exc}")
    newest = await store.last_seq(node.db.reader) if followings else 0
    for following in followings:
        lag = _fresh(following.lag(), newest)
        running = following.running
        ok = running and (lag.seconds <= max_lag and lag.entries <= max_entries)
        checks[f"follower:{lag.follower}"] = Check(
            ok=ok,
            detail=(
                f"{lag.entries} entries behind for {lag.seconds} s "
                f"(bounds {max_entries} entries, {max_lag} s)"
                if running
                else "its task is not running"
            ),
        )
    if federation is not None:
        alive = federation.running()
        wanted = node.config.federation.worker
        checks["federation_worker"] = Check(
            ok=alive or not wanted,
            detail="running" if alive else ("stopped" if wanted else "off in the config"),
        )
    return checks


async def snapshot(
    node: Node, followings: list[Following], federation: Federation | None
) -> Snapshot:
    """The node's state for one scrape of /metrics."""
    now = time.time()
    counters = await node.counters()
    rejected, refused = split_counters(counters)
    peers: list[PeerState] = []
    queue = 0
    if federation is not None:
        for peer in await peer_store.list_peers(node.db.reader):
            view: dict[str, Any] = peer_view(peer, now)
            peers.append(
                PeerState(
                    did=peer.did,
                    city=peer.name,
                    state=peer.sync.state,
                    lag_records=view["lag_records"],
                    lag_seconds=view["lag_seconds"],
                    last_success=peer.sync.last_success_at,
                    failures=peer.sync.failures,
                )
            )
            if peer.sync.state == "due" and peer.sync.next_attempt_at <= now:
                queue += 1
    followers = []
    newest = await store.last_seq(node.db.reader) if followings else 0
    for following in followings:
        lag = _fresh(following.lag(), newest)
        followers.append(
            FollowerState(
                name=lag.follower, entries=lag.entries, seconds=lag.seconds,
                running=following.running,
            )
        )  # fmt: skip
    return Snapshot(
        records_by_origin=await store.count_by_origin(node.db.reader),
        peers=peers,
        rejected_records=rejected,
        refused_requests=refused,
        followers=followers,
        sync_queue=queue,
        push_notices=dict(federation.notifier.stats) if federation else {},
        outbound=dict(federation.client.stats) if federation else {},
    )
