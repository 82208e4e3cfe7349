"""What each `citynode` subcommand does (the CLI parses arguments and calls these)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from citynode import rdf
from citynode.app import create_app
from citynode.config import (
    FederationSection,
    NodeConfig,
    NodeSection,
    ServerSection,
    load_config,
)
from citynode.errors import ConfigError, ImportFailed
from citynode.exports import write_csv
from citynode.federation.peering import peer_did
from citynode.federation.service import Federation
from citynode.identity import revoke_key, rotate_key
from citynode.imports.files import expand_paths, read_drafts
from citynode.node import Node, create_home
from citynode.progress import Progress
from citynode.publishing import BatchInvalid
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.tokens import add_token, new_token
from citynode.verification import verify_source


def add_extra_commands(sub: Any) -> None:
    """Subcommands that other modules add (federation, search) register here."""
    peer = sub.add_parser("peer", help="peer nodes: add, list, approve, block, remove")
    actions = peer.add_subparsers(dest="peer_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="peer with the node at URL (asks it to peer back)")
    add.add_argument("url", help="the peer's base URL, e.g. https://lisboa.example")
    add.set_defaults(run=peer_add)
    listing = actions.add_parser("list", help="peers: state, cursor, lag, errors, rejections")
    listing.set_defaults(run=peer_list)
    for name, run, text in (
        ("approve", peer_approve, "approve a peer that asked to peer (or unblock one)"),
        ("block", peer_block, "stop exchanging records with a peer"),
        ("remove", peer_remove, "forget a peer"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("peer", help="the peer's URL or DID")
        if name == "block":
            action.add_argument("--reason", help="why, for the peer list")
        action.set_defaults(run=run)
    sync = sub.add_parser("sync", help="pull from peers now and print what arrived")
    sync.add_argument("--peer", help="only this peer (URL or DID)")
    sync.set_defaults(run=sync_now)
    for parser in (*actions.choices.values(), sync):
        parser.add_argument("--home", required=True, type=Path, help="the node's home folder")


@asynccontextmanager
async def _federation(home: Path) -> AsyncIterator[Federation]:
    # The CLI works on the node's files while `citynode serve` may run on them too: the peer
    # rows' leases keep the two from pulling the same peer at once (no background tasks here).
    node = await Node.open(home)
    federation = Federation(node)
    try:
        await federation.start(background=False)
        yield federation
    finally:
        await federation.close()
        await node.close()


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
    if not views:
        print("no peers yet: add one with `citynode peer add --home DIR URL`")
        return 0
    for line in peer_table(views):
        print(line)
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


async def init(args: argparse.Namespace) -> int:
    home: Path = args.home
    url = args.url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--url {args.url} must be an http(s) URL like https://medellin.example")
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    default_port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        config = NodeConfig(
            node=NodeSection(
                base_url=url,
                name=args.name,
                country=args.country.upper(),
                wikidata=args.wikidata,
                languages=languages,
                illustrative=args.illustrative,
            ),
            server=ServerSection(host=args.host or "127.0.0.1", port=args.port or default_port),
            federation=FederationSection(allow_private_peers=args.allow_private_peers),
        )
        config = msgspec.convert(msgspec.to_builtins(config), NodeConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"cannot create the node: {exc}") from None
    await create_home(config, home)
    node = await Node.open(home)
    try:
        print(f"created the node for {args.name} in {home}")
        print(f"  DID:         {node.identity.did}")
        print(f"  signing key: {node.identity.verification_method}")
        print(f"  next:        citynode serve --home {home}")
    finally:
        await node.close()
    return 0


async def serve(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    print(
        f"citynode {config.node.name} serving {config.base_url} on http://{host}:{port}", flush=True
    )
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0


async def publish(args: argparse.Namespace) -> int:
    node = await Node.open(args.home)
    try:
        files = expand_paths(args.paths)
        if not files:
            raise ImportFailed(
                "no .jsonld, .json, .ttl or .csv files found in "
                + ", ".join(str(p) for p in args.paths)
            )
        drafts: list[dict[str, Any]] = []
        sources: list[str] = []
        for path in files:
            found = await asyncio.to_thread(read_drafts, path, node.config.base_url)
            drafts.extend(found)
            sources.extend(f"{path} (record {n})" for n in range(1, len(found) + 1))
        progress = None if args.quiet or len(drafts) < 200 else Progress(len(drafts), "signing")
        try:
            outcomes = await node.publisher.publish(drafts, progress=progress)
        except BatchInvalid as exc:
            raise ImportFailed(
                "; ".join(
                    f"{_source(sources, e)}: {e['message']}" for e in exc.detail["errors"][:1]
                )
                + (
                    f" (and {len(exc.detail['errors']) - 1} more)"
                    if len(exc.detail["errors"]) > 1
                    else ""
                )
                + "; nothing was published",
                errors=[
                    {**e, "message": f"{_source(sources, e)}: {e['message']}"}
                    for e in exc.detail["errors"]
                ],
            ) from None
        if progress:
            progress.done()
        for outcome in outcomes:
            print(f"{outcome.id}\tversion {outcome.version}\t{outcome.outcome}")
        changed = sum(1 for o in outcomes if o.outcome != "unchanged")
        print(
            f"{changed} of {len(outcomes)} records published from {len(files)} file(s)",
            file=sys.stderr,
        )
    finally:
        await node.close()
    return 0


def _source(sources: list[str], error: dict[str, Any]) -> str:
    position = error.get("position")
    return sources[position] if isinstance(position, int) else "the import"


async def withdraw(args: argparse.Namespace) -> int:
    node = await Node.open(args.home)
    try:
        record_id = args.id if "/" in args.id else f"records/{args.id}"
        reason = {node.config.node.languages[0]: args.reason} if args.reason else None
        outcome = await node.publisher.withdraw(record_id, reason)
        print(f"{outcome.id}\tversion {outcome.version}\twithdrawn")
    finally:
        await node.close()
    return 0


async def export(args: argparse.Namespace) -> int:
    node = await Node.open(args.home)
    try:
        rows = await store.all_current(node.db.reader, node.identity.did)
        documents = [row.document() for row in rows]
    finally:
        await node.close()
    if args.format == "jsonld":
        # A JSON-LD document may be an array; each record keeps its own context and proof,
        # so every one still verifies.
        body = msgspec.json.format(msgspec.json.encode(documents), indent=2) + b"\n"
    elif args.format == "csv":
        body = write_csv(documents).encode("utf-8")
    else:
        body = await asyncio.to_thread(rdf.serialize, documents, args.format)
    if args.output:
        args.output.write_bytes(body)
        print(f"wrote {len(documents)} records to {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(body)
    return 0


async def verify(args: argparse.Namespace) -> int:
    report = await verify_source(args.source)
    for line in report.lines():
        print(line)
    return 0 if report.holds else 1


async def token_create(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    db = await Database.open(config.database_path)
    try:
        token_id, token = new_token()
        async with db.transaction() as conn:
            await add_token(conn, token_id, token, args.label, store.now_utc())
    finally:
        await db.close()
    print(token)
    print(f"token {token_id} for '{args.label}': shown once, keep it safe", file=sys.stderr)
    return 0


async def key_rotate(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    db = await Database.open(config.database_path)
    try:
        async with db.transaction() as conn:
            key_id = await rotate_key(conn, config.keys_path, store.now_utc())
    finally:
        await db.close()
    print(f"new signing key {key_id}; the old key stays listed so old records keep verifying")
    return 0


async def key_revoke(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    db = await Database.open(config.database_path)
    try:
        async with db.transaction() as conn:
            await revoke_key(conn, args.key_id, args.at or store.now_utc())
    finally:
        await db.close()
    print(
        f"key {args.key_id} revoked; records it signed after that time are rejected. "
        "Run `citynode key rotate` if it was the signing key."
    )
    return 0


async def backup(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    destination: Path = args.destination
    if await asyncio.to_thread(destination.exists):
        raise ConfigError(f"{destination} exists; choose a new file for the backup")
    db = await Database.open(config.database_path)
    try:
        await db.backup_to(destination)
    finally:
        await db.close()
    print(f"backed up {config.database_path} to {destination}")
    return 0
