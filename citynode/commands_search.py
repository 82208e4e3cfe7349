"""`citynode search` and `citynode reindex`: the node's search from the command line."""

from __future__ import annotations

import argparse
import html
import re
import shutil
import time

from citynode.errors import BadRequest, Conflict
from citynode.node import Node
from citynode.search.engine import IndexBusy
from citynode.search.query import SearchQuery, SearchResult
from citynode.search.schema import FACETS
from citynode.search.service import SearchService, rebuild

_MARK = re.compile(r"</?mark>")


def read_facets(pairs: list[str]) -> dict[str, list[str]]:
    facets: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not value:
            raise BadRequest(f"--facet {pair}: write it as NAME=VALUE, e.g. city=Lisboa")
        if name not in FACETS:
            raise BadRequest(
                f"--facet {pair}: '{name}' is not a facet; use one of " + ", ".join(FACETS)
            )
        facets.setdefault(name, []).append(value)
    return facets


def table(result: SearchResult, width: int) -> list[str]:
    lines = [f"{result.total} records"]
    lines += [f"note: {notice}" for notice in result.notices]
    for n, hit in enumerate(result.hits, start=1):
        lines.append(f"{n:>3}. {hit.title}  [{hit.type}, {hit.city} {hit.country}]")
        snippet = html.unescape(_MARK.sub("*", hit.snippet))
        if snippet:
            lines.append(f"     {snippet[: width - 5]}")
        lines.append(
            f"     {hit.id}  v{hit.version}  {hit.modified[:10]}  signature "
            f"{hit.signature}  matched: {', '.join(hit.why) or 'listing'}"
        )
    for facet, values in result.facets.items():
        if values:
            shown = ", ".join(f"{v.label} ({v.count})" for v in values[:8])
            lines.append(f"{facet}: {shown}")
    return lines


async def search(args: argparse.Namespace) -> int:
    async with Node.opened(args.home) as node, SearchService.opened(node) as service:
        query = SearchQuery(
            text=" ".join(args.query),
            facets=read_facets(args.facet),
            lang=args.lang or "",
            sort=args.sort,
            limit=max(1, min(args.limit, 100)),
        )
        result = await service.searching.search(query)
    for line in table(result, shutil.get_terminal_size((100, 20)).columns):
        print(line)
    return 0


async def reindex(args: argparse.Namespace) -> int:
    """Delete the index and build it again from the store (the change log from position 0)."""
    started = time.monotonic()
    async with Node.opened(args.home) as node:
        try:
            path = rebuild(node)
        except IndexBusy:
            raise Conflict(
                "the search index is in use by a running `citynode serve` on this home: stop it "
                "first (a running node rebuilds by itself when the analyser changes)"
            ) from None
        async with SearchService.opened(node) as service:
            indexed = service.engine.searcher.num_docs
    elapsed = time.monotonic() - started
    print(f"indexed {indexed:,} records in {elapsed:.1f} s ({path})")
    return 0
