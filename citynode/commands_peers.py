"""`citynode peer ...` and `citynode sync`: peering and pulling from the command line."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from citynode.federation.peering import peer_did
from citynode.federation.service import Federation
from citynode.node import Node
from citynode.search.service import index_lag


@asynccontextmanager
async def _federation(home: Path) -> AsyncIterator[Federation]:
    # The CLI works on the node's files while `citynode serve` may run on them too: the peer
    # rows' leases keep the two from pulling the same peer at once (no background tasks here).
    async with Node.opened(home) as node:
        federation = Federation(node)
        try:
            await federation.start(background=False)
            yield federation
        finally:
            await federation.close()


async def peer_add(args: argparse.Namespace) -> int:
    async with _federation(args.home) as federation:
        peer = await federation.peering.add(args.url)
    print(f"added {peer.name} ({peer.country}) {peer.base_url}")
    print(f"  DID:          {peer.did}")
    print(f"  their answer: {_answer(peer.remote_status)}")
    print("  records arrive with the next sync (the running node pulls on its own)")
    return 0


def _answer(status: str | None) -> str:
    return {
        "accepted": "accepted: they pull from us too",
        "pending": "waiting for their operator to approve us (we pull from them meanwhile)",
        "refused": "refused: they do not pull from us (we still pull their public records)",
    }.get(status or "", status or "none yet")


async def peer_list(args: argparse.Namespace) -> int:
    async with _federation(args.home) as federation:
        views = await federation.peer_views()
        lag = await index_lag(federation.node)
    if not views:
        print("no peers yet: add one with `citynode peer add --home DIR URL`")
    else:
        for line in peer_table(views):
            print(line)
    behind = f"{lag.entries:,} change(s) behind" if lag.entries else "up to date"
    print(f"search index: {behind} (log position {lag.position:,} of {lag.head:,})")
    return 0


def peer_table(views: list[dict[str, Any]]) -> list[str]:
    """The operator's table: one line per peer, then its last error in words, if any."""
    header = ("PEER", "CITY", "STATE", "CURSOR", "LAG", "LAST SUCCESS", "REJECTED")
    rows = [
        (
            v["url"],
            f"{v['city']} ({v['country']})",
            v["state"],
            v["cursor"] or "-",
            f"{v['lag_records']} rec / {v['lag_seconds']:.0f} s",
            v["last_success"] or "never",
            str(v["rejected"]),
        )
        for v in views
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths, strict=True)).rstrip()]
    for view, row in zip(views, rows, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if view["last_error"]:
            lines.append(f"    last error: {view['last_error']}")
    return lines


async def peer_approve(args: argparse.Namespace) -> int:
    async with _federation(args.home) as federation:
        peer = await federation.peering.approve(args.peer)
    print(f"approved {peer.name} {peer.base_url}: records flow both ways now")
    return 0


async def peer_block(args: argparse.Namespace) -> int:
    async with _federation(args.home) as federation:
        peer = await federation.peering.block(args.peer, args.reason)
    print(f"blocked {peer.name} {peer.base_url}: no pulls, its requests are refused")
    return 0


async def peer_remove(args: argparse.Namespace) -> int:
    async with _federation(args.home) as federation:
        did = await federation.peering.remove(args.peer)
    print(f"removed {did}; records already received stay (they are signed by their cities)")
    return 0


async def sync_now(args: argparse.Namespace) -> int:
    async with _federation(args.home) as federation:
        did = peer_did(args.peer) if args.peer else None
        outcomes = await federation.worker.sync_now(did)
    if not outcomes:
        print("no peers to sync with" if did is None else f"{args.peer} is not a peer")
        return 1 if did else 0
    failed = 0
    for outcome in outcomes:
        line = f"{outcome.name}: {outcome.stored} new record version(s), now {outcome.state}"
        if outcome.error:
            failed += 1
            line += f"; last error: {outcome.error}"
        print(line)
    return 1 if failed else 0
