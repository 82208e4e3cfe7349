"""What each `citynode` subcommand does (the CLI parses arguments and calls these)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from citynode import rdf
from citynode.config import build_config, load_config
from citynode.errors import ConfigError, ImportFailed
from citynode.exports import write_csv
from citynode.identity import revoke_key, rotate_key
from citynode.imports.files import expand_paths, read_drafts
from citynode.node import Node, create_home
from citynode.progress import Progress
from citynode.publishing import BatchInvalid
from citynode.server import serving
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.tokens import add_token, new_token
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
    config = load_config(args.home)
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


async def export(args: argparse.Namespace) -> int:
    async with Node.opened(args.home) as node:
        rows = await store.all_current(node.db.reader, node.identity.did)
        documents = [row.document() for row in rows]
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
    token_id, token = new_token()
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        await add_token(conn, token_id, token, args.label, store.now_utc())
    print(token)
    print(f"token {token_id} for '{args.label}': shown once, keep it safe", file=sys.stderr)
    return 0


async def key_rotate(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        key_id = await rotate_key(conn, config.keys_path, store.now_utc())
    print(f"new signing key {key_id}; the old key stays listed so old records keep verifying")
    return 0


async def key_revoke(args: argparse.Namespace) -> int:
    config = load_config(args.home)
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        await revoke_key(conn, args.key_id, args.at or store.now_utc())
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
    async with Database.opened(config.database_path) as db:
        await db.backup_to(destination)
    print(f"backed up {config.database_path} to {destination}")
    return 0
