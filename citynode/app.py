"""The app factory: `create_app(config)` builds the node's aiohttp application.

The node (database, identity, publisher) opens in a cleanup context, so its lifetime is the
application's and a test can run several nodes in one process (STYLE.md point 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from citynode.config import NodeConfig
from citynode.federation.service import Federation
from citynode.node import Node
from citynode.search.cache import SearchCache
from citynode.search.service import SearchService
from citynode.storage.facts import FactsFollower
from citynode.storage.log import Following
from citynode.web import (
    assets,
    comparisons,
    editor,
    federation,
    openapi,
    peers,
    records,
    search,
    vocabulary,
    wellknown,
)
from citynode.web.browser import browser_headers
from citynode.web.contract import Routes
from citynode.web.errors import error_middleware
from citynode.web.keys import (
    CONFIG,
    FACTS,
    FEDERATION,
    FOLLOWINGS,
    NODE,
    OPERATIONS,
    SEARCH,
    SEARCH_CACHE,
)

log = logging.getLogger("citynode.app")
REJECTION_FLUSH_SECONDS = 1.0
#: Every web module's routes; each operation declares its contract (citynode/web/contract.py).
ROUTES: tuple[Routes, ...] = (
    wellknown.routes,
    records.routes,
    editor.routes,
    openapi.routes,
    federation.routes,
    peers.routes,
    search.routes,
    vocabulary.routes,
    comparisons.routes,
    assets.routes,
)


def create_app(config: NodeConfig) -> web.Application:
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=config.server.max_body_bytes,
    )
    app[CONFIG] = config
    app[FOLLOWINGS] = []
    app[OPERATIONS] = []
    for group in ROUTES:
        group.add_to(app.router)
        app[OPERATIONS].extend(group.operations)
    app[SEARCH_CACHE] = SearchCache()
    app.on_response_prepare.append(browser_headers)
    app.cleanup_ctx.append(_node_context)
    app.cleanup_ctx.append(_search_context)
    # Before the federation worker: the views are following when the first pull lands.
    app.cleanup_ctx.append(_facts_context)
    app.cleanup_ctx.append(_federation_context)
    return app


async def _node_context(app: web.Application) -> AsyncIterator[None]:
    async with Node.opened(app[CONFIG].home_path) as node:
        app[NODE] = node
        flusher = asyncio.create_task(_flush_rejections(node))
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher


async def _flush_rejections(node: Node) -> None:
    """Write the refusals counted in memory once a second (Node.close writes the rest)."""
    while True:
        await asyncio.sleep(REJECTION_FLUSH_SECONDS)
        try:
            await node.rejections.flush(node.db)
        except Exception:  # a failed flush must not stop the node; the next one retries
            log.exception("could not write the refusal counters")


async def _search_context(app: web.Application) -> AsyncIterator[None]:
    # The index and its indexer, a follower of the change log (search/service.py).
    service = await SearchService.for_serving(app[NODE])
    await service.start()
    app[SEARCH] = service
    if service.following is not None:
        app[FOLLOWINGS].append(service.following)
    try:
        yield
    finally:
        await service.close()


async def _federation_context(app: web.Application) -> AsyncIterator[None]:
    # After the node (cleanup contexts nest): the worker stops before the database closes.
    service = Federation(app[NODE])
    await service.start()
    app[FEDERATION] = service
    app[FOLLOWINGS].append(service.notices)
    try:
        yield
    finally:
        await service.close()


async def _facts_context(app: web.Application) -> AsyncIterator[None]:
    """The facts follower (links and indicator values, storage/facts.py) follows the log."""
    following = Following(app[NODE].db, FactsFollower(app[NODE].db))
    await following.start()
    app[FACTS] = following
    app[FOLLOWINGS].append(following)
    try:
        yield
    finally:
        await following.close()
