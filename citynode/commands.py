"""What each `citynode` subcommand does (the CLI parses arguments and calls these)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from citynode.config import build_config, load_config
from citynode.errors import ConfigError, ImportFailed
from citynode.identity import revoke_key, rotate_key
from citynode.imports.files import expand_paths, read_drafts
from citynode.node import Node, create_home
from citynode.opendata import dumps, sparql
from citynode.ops import logs
from citynode.ops.backup import restore as restore_archive
from citynode.ops.backup import write_backup
from citynode.progress import Progress
from citynode.resigning import resign
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.tokens import add_token, list_tokens, new_token, revoke_token
from citynode.validation import BatchInvalid
from citynode.verification import verify_source


async def init(args: argparse.Namespace) -> int:
    home: Path = args.home
    url = args.url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--url {args.url} must be an http(s) URL like https://medellin.example")
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    default_port = parts.port or (443 if parts.scheme == "https" else 80)
    config = build_config(
        node={
            "base_url": url,
            "name": args.name,
            "country": args.country.upper(),
            "wikidata": args.wikidata,
            "languages": languages,
            "illustrative": args.illustrative,
        },
        server={"host": args.host or "127.0.0.1", "port": args.port or default_port},
        federation={"allow_private_peers": args.allow_private_peers},
    )
    await create_home(config, home)
    async with Node.opened(home) as node:
        print(f"created the node for {args.name} in {home}")
        print(f"  DID:         {node.identity.did}")
        print(f"  signing key: {node.identity.verification_method}")
        print(f"  next:        citynode serve --home {home}")
    return 0


async def serve(args: argparse.Namespace) -> int:
    # Imported here, not at the top (not to dodge a cycle: citynode.server imports nothing of
    # this module): the web app (every route and the templates; aiohttp's server is imported by
    # the CLI anyway, for the conformance kit) takes ~0.2-0.3 s of CPU to import, which every
    # other command (and every worker process a command spawns, since spawn re-imports the
    # command's module) would pay for nothing.
    from citynode.server import serving

    config = load_config(args.home)
    logs.configure(config.ops.log_format, "debug" if args.verbose else config.ops.log_level)
    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    async with serving(config, host=host, port=port):
        print(
            f"citynode {config.node.name} serving {config.base_url} on http://{host}:{port}",
            flush=True,
        )
        await asyncio.Event().wait()
    return 0


async def publish(args: argparse.Namespace) -> int:
    async with Node.opened(args.home) as node:
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
            outcomes = await node.publisher.publish(
                drafts, progress=progress, shacl=not args.skip_shapes
            )
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
    return 0


def _source(sources: list[str], error: dict[str, Any]) -> str:
    position = error.get("position")
    return sources[position] if isinstance(position, int) else "the import"


async def withdraw(args: argparse.Namespace) -> int:
    async with Node.opened(args.home) as node:
        record_id = args.id if "/" in args.id else f"records/{args.id}"
        reason = {node.config.node.languages[0]: args.reason} if args.reason else None
        outcome = await node.publisher.withdraw(record_id, reason)
        print(f"{outcome.id}\tversion {outcome.version}\twithdrawn")
    return 0


#: `export --format` -> the dump it writes (opendata/dumps.py: the same bytes as /dumps/...).
EXPORT_FILES = {
    "jsonld": "records.jsonld",
    "turtle": "records.ttl",
    "nquads": "records.nq",
    "csv": "records.csv",
    "results-csv": "results.csv",
}


async def export(args: argparse.Namespace) -> int:
    file = dumps.FILES[EXPORT_FILES[args.format]]
    output = args.output.open("wb") if args.output else sys.stdout.buffer
    count = 0
    try:
        async with Node.opened(args.home) as node, node.db.snapshot() as conn:
            origin = node.identity.did if args.origin == "self" else None
            encoder = await dumps.Encoder.opened(conn, file, args.origin, origin)

            async def counted() -> AsyncIterator[list[store.StoredRecord]]:
                nonlocal count
                async for batch in store.stream_current(conn, origin):
                    count += len(batch)
                    yield batch

            async for piece in dumps.body(encoder, counted()):
                output.write(piece)
    finally:
        if args.output:
            output.close()
    if args.output:
        print(f"wrote {count} records to {args.output}", file=sys.stderr)
    return 0


async def verify(args: argparse.Namespace) -> int:
    allow_private = args.allow_private
    if args.home is not None:
        allow_private = allow_private or load_config(args.home).federation.allow_private_peers
    report = await verify_source(args.source, allow_private=allow_private)
    for line in report.lines():
        print(line)
    return 0 if report.holds else 1


_DURATION = re.compile(r"^(\d{1,5})([hdw])$")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def expiry(text: str, now: datetime) -> str:
    """`--expires`: a duration (12h, 90d, 8w) or a UTC date or time; the expiry time."""
    match = _DURATION.match(text.strip())
    if match:
        moment = now + timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    else:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"--expires {text}: give a duration (12h, 90d, 8w) or a date (2027-01-31)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        raise ConfigError(f"--expires {text} is not in the future")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def token_create(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    expires = expiry(args.expires, datetime.now(UTC)) if args.expires else None
    token_id, token = new_token()
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        await add_token(conn, token_id, token, args.label, store.now_utc(), expires)
    print(token)
    until = f", valid until {expires}" if expires else ""
    print(f"token {token_id} for '{args.label}'{until}: shown once, keep it safe", file=sys.stderr)
    return 0


async def token_list(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    async with Database.opened(config.database_path) as db:
        tokens = await list_tokens(db.reader)
    if not tokens:
        print(f"no tokens yet: create one with `citynode token create --home {args.home}`")
        return 0
    now = store.now_utc()
    header = ("TOKEN", "LABEL", "STATE", "CREATED", "EXPIRES", "REVOKED")
    rows = [
        (t.token_id, t.label, t.state(now), t.created, t.expires or "never", t.revoked or "-")
        for t in tokens
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


async def token_revoke(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        if not await revoke_token(conn, args.token_id, store.now_utc()):
            raise ConfigError(
                f"there is no active token '{args.token_id}' (see `citynode token list`)",
                token=args.token_id,
            )
    print(f"token {args.token_id} revoked: requests with it are refused from now on")
    return 0


async def key_rotate(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        key_id = await rotate_key(conn, config.keys_path, store.now_utc())
    print(f"new signing key {key_id}; the old key stays listed so old records keep verifying")
    print("a running node signs with it at once and tells its peers", file=sys.stderr)
    if args.resign:
        await _resign(args.home)
    return 0


async def _resign(home: Path) -> None:
    async with Node.opened(home) as node:
        count = await store.count_current(node.db.reader, node.identity.did)
        progress = Progress(count, "re-signing") if count >= 200 else None
        outcomes = await resign(node.publisher, progress=progress)
        if progress:
            progress.done()
    print(f"re-signed {len(outcomes)} record(s) as new versions under the new key")


async def key_revoke(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    at = args.at or store.now_utc()
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        new_key = await revoke_key(conn, config.keys_path, args.key_id, at)
    print(f"key {args.key_id} revoked from {at}: records it signed from then on show as revoked")
    if new_key:
        print(f"it was the signing key: the node signs with the new key {new_key} now")
    print(
        "re-sign this node's records under the current key with `citynode key rotate --resign`"
        if not new_key
        else "re-sign the records it signed with `citynode key resign`",
        file=sys.stderr,
    )
    return 0


async def key_resign(args: argparse.Namespace) -> int:
    await _resign(args.home)
    return 0


async def backup(args: argparse.Namespace) -> int:
    destination: Path = args.destination
    if await asyncio.to_thread(destination.exists):
        raise ConfigError(f"{destination} exists; choose a new file for the backup")
    manifest = await asyncio.to_thread(write_backup, args.home, destination)
    print(
        f"backed up {manifest.did} ({manifest.records} records, log position {manifest.head}, "
        f"{sum(1 for name in manifest.files if name.startswith('keys/'))} keys) to "
        f"{destination} (mode 0600: it holds the private keys)"
    )
    return 0


async def restore(args: argparse.Namespace) -> int:
    report = await restore_archive(args.archive, args.home)
    print(
        f"restored {report.did} into {report.home}: {report.records} records, "
        f"{report.keys} keys, {report.signatures_checked} signatures checked"
    )
    print(
        "  the search index and other derived views rebuild from the store when it starts: "
        f"citynode serve --home {report.home}"
    )
    return 0


async def sparql_rebuild(args: argparse.Namespace) -> int:
    async with Node.opened(args.home) as node:
        applied = await sparql.rebuild(node)
    print(f"rebuilt the SPARQL store from the change log: {applied} records")
    return 0
