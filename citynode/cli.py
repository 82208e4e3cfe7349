"""The `citynode` command: the only place that parses arguments, sets up logging and starts uvloop.

Each subcommand is a thin call into the node's services (STYLE.md point 7). Errors are printed
in plain words (naming the file, row or field) with exit status 1; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvloop

from citynode import commands, commands_peers, commands_search
from citynode.errors import NodeError
from citynode.ops import logs
from protocol.errors import ProtocolError
from vocab import VocabError

Runner = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", required=True, type=Path, help="the node's home folder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citynode", description="A city's node: signed practice records, federated."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="create a node: config, signing key, database")
    _home(init)
    init.add_argument("--url", required=True, help="public base URL, e.g. https://medellin.example")
    init.add_argument("--name", required=True, help="city name, e.g. Medellín")
    init.add_argument("--country", required=True, help="ISO 3166 country code, e.g. CO")
    init.add_argument("--wikidata", help="Wikidata IRI of the city")
    init.add_argument(
        "--languages", default="es,en", help="comma-separated BCP 47 tags: es,en,pt,fr,pt-BR..."
    )
    init.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    init.add_argument("--port", type=int, help="port to listen on (default: the URL's port)")
    init.add_argument(
        "--allow-private-peers",
        action="store_true",
        help="allow peers on loopback or private addresses (tests, demo)",
    )
    init.add_argument(
        "--illustrative",
        action="store_true",
        help="mark this node's pages as illustrative sample data",
    )
    init.set_defaults(run=commands.init)

    serve = sub.add_parser("serve", help="run the node's HTTP server")
    _home(serve)
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=commands.serve)

    publish = sub.add_parser("publish", help="publish records from JSON-LD, Turtle or CSV files")
    _home(publish)
    publish.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    publish.add_argument("--quiet", action="store_true", help="no progress bar")
    publish.add_argument(
        "--skip-shapes",
        action="store_true",
        help="bulk imports: check the record model only, not the SHACL shapes (~5 ms a record)",
    )
    publish.set_defaults(run=commands.publish)

    withdraw = sub.add_parser("withdraw", help="withdraw a record (publishes a signed tombstone)")
    _home(withdraw)
    withdraw.add_argument("id", help="record id (URL) or slug")
    withdraw.add_argument("--reason", help="why, in the node's first language")
    withdraw.set_defaults(run=commands.withdraw)

    export = sub.add_parser("export", help="write every record in one format")
    _home(export)
    export.add_argument(
        "--format",
        required=True,
        choices=list(commands.EXPORT_FILES),
        help="csv: the practices import template; results-csv: the results template",
    )
    export.add_argument(
        "--origin",
        choices=["self", "all"],
        default="self",
        help="self: this node's records; all: the whole replica, each record with its origin",
    )
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.set_defaults(run=commands.export)

    verify = sub.add_parser("verify", help="check a record's signature: who signed, with which key")
    verify.add_argument("source", help="a record file or URL")
    verify.add_argument(
        "--home", type=Path, help="use this node's address rules (its allow_private_peers)"
    )
    verify.add_argument(
        "--allow-private",
        action="store_true",
        help="allow loopback and private addresses (refused by default, as the node does)",
    )
    verify.set_defaults(run=commands.verify)

    token = sub.add_parser("token", help="editor API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create a bearer token for the editor API")
    _home(create)
    create.add_argument("--label", default="editor", help="who or what the token is for")
    create.add_argument(
        "--expires", help="valid for a time (12h, 90d, 8w) or until a UTC date (2027-01-31)"
    )
    create.set_defaults(run=commands.token_create)
    listing = token_sub.add_parser("list", help="tokens: label, state, created, expiry")
    _home(listing)
    listing.set_defaults(run=commands.token_list)
    revoke_token = token_sub.add_parser("revoke", help="refuse a token from now on")
    _home(revoke_token)
    revoke_token.add_argument("token_id", help="the id `token list` shows")
    revoke_token.set_defaults(run=commands.token_revoke)

    key = sub.add_parser("key", help="signing keys")
    key_sub = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    rotate = key_sub.add_parser("rotate", help="retire the signing key and start a new one")
    _home(rotate)
    rotate.add_argument(
        "--resign",
        action="store_true",
        help="also re-sign this node's records under the new key (as new versions)",
    )
    rotate.set_defaults(run=commands.key_rotate)
    resign = key_sub.add_parser(
        "resign", help="re-sign records signed by older keys under the current key"
    )
    _home(resign)
    resign.set_defaults(run=commands.key_resign)
    revoke = key_sub.add_parser("revoke", help="mark a key compromised (from a time on)")
    _home(revoke)
    revoke.add_argument("key_id", help="e.g. key-1")
    revoke.add_argument("--at", help="compromise time (UTC, default now)")
    revoke.set_defaults(run=commands.key_revoke)

    backup = sub.add_parser(
        "backup", help="write one archive of the node (database, keys, config) while it runs"
    )
    _home(backup)
    backup.add_argument("destination", type=Path, help="the archive to create (.tar.gz)")
    backup.set_defaults(run=commands.backup)
    restore = sub.add_parser(
        "restore", help="check a backup archive, then make a new home folder from it"
    )
    restore.add_argument("archive", type=Path)
    _home(restore)
    restore.set_defaults(run=commands.restore)

    sparql = sub.add_parser("sparql", help="the SPARQL store (a view of the records)")
    sparql_sub = sparql.add_subparsers(dest="sparql_command", required=True, metavar="ACTION")
    rebuild = sparql_sub.add_parser("rebuild", help="rebuild the store from the change log")
    _home(rebuild)
    rebuild.set_defaults(run=commands.sparql_rebuild)

    _federation_commands(sub)
    _search_command(sub)
    return parser


def _federation_commands(sub: Any) -> None:
    """`peer add|list|approve|block|remove` and `sync`."""
    peer = sub.add_parser("peer", help="peer nodes: add, list, approve, block, remove")
    actions = peer.add_subparsers(dest="peer_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="peer with the node at URL (asks it to peer back)")
    add.add_argument("url", help="the peer's base URL, e.g. https://lisboa.example")
    add.set_defaults(run=commands_peers.peer_add)
    listing = actions.add_parser("list", help="peers: state, cursor, lag, errors, rejections")
    listing.set_defaults(run=commands_peers.peer_list)
    for name, run, text in (
        (
            "approve",
            commands_peers.peer_approve,
            "approve a peer that asked to peer (or unblock one)",
        ),
        ("block", commands_peers.peer_block, "stop exchanging records with a peer"),
        ("remove", commands_peers.peer_remove, "forget a peer"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("peer", help="the peer's URL or DID")
        if name == "block":
            action.add_argument("--reason", help="why, for the peer list")
        action.set_defaults(run=run)
    sync = sub.add_parser("sync", help="pull from peers now and print what arrived")
    sync.add_argument("--peer", help="only this peer (URL or DID)")
    sync.set_defaults(run=commands_peers.sync_now)
    for parser in (*actions.choices.values(), sync):
        parser.add_argument("--home", required=True, type=Path, help="the node's home folder")


def _search_command(sub: Any) -> None:
    search = sub.add_parser("search", help="search the records this node holds (every city)")
    _home(search)
    search.add_argument("query", nargs="*", help='words, or "a phrase"; empty lists recent')
    search.add_argument(
        "--facet",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="narrow: city=Lisboa, type=project, theme=connectivity, sdg_goal=11, "
        "sdg_target=11.2, status=ongoing, year=2021, published=2026 "
        "(repeat; the same name twice means either)",
    )
    search.add_argument("--lang", help="the language you read (es, en, pt, fr, pt-BR...)")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--sort", choices=["relevance", "date"], default="relevance")
    search.set_defaults(run=commands_search.search)
    reindex = sub.add_parser(
        "reindex", help="rebuild the search index from the store (stop `serve` first)"
    )
    _home(reindex)
    reindex.set_defaults(run=commands_search.reindex)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Text for commands a person runs; `serve` switches to the config's format (JSON by default).
    logs.configure("text", "debug" if args.verbose else "info")
    run: Runner = args.run
    try:
        return uvloop.run(run(args))
    except (NodeError, ProtocolError, VocabError) as exc:
        print(f"citynode: {exc.message if hasattr(exc, 'message') else exc}", file=sys.stderr)
        _print_detail(getattr(exc, "detail", {}))
        return 1
    except KeyboardInterrupt:
        return 130


def _print_detail(detail: dict[str, Any]) -> None:
    for item in detail.get("errors", [])[1:]:
        print(f"  - {item.get('message')}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
