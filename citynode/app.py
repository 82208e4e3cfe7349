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
from citynode.web import (
    assets,
    city_page,
    compare_page,
    editor,
    editor_pages,
    federation,
    home_page,
    ontology_page,
    openapi,
    operator_page,
    peers,
    practice_page,
    records,
    render,
    search,
    search_page,
    wellknown,
)
from citynode.web.browser import browser_headers
from citynode.web.contract import Routes
from citynode.web.csv_jobs import ImportJobs
from citynode.web.error_pages import page_errors
from citynode.web.errors import error_middleware
from citynode.web.keys import (
    CONFIG,
    FEDERATION,
    FOLLOWINGS,
    IMPORT_JOBS,
    NODE,
    OPERATIONS,
    SEARCH,
    SEARCH_CACHE,
)
from citynode.web.sessions import session_middleware

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
    assets.routes,
    # Pages for people (HTML, and the same data as JSON): one module per resource.
    home_page.routes,
    search_page.routes,
    practice_page.routes,
    city_page.routes,
    compare_page.routes,
    ontology_page.routes,
    editor_pages.routes,
    operator_page.routes,
)


def create_app(config: NodeConfig) -> web.Application:
    app = web.Application(
        # page_errors outside error_middleware: it re-renders the JSON error for browsers.
        middlewares=[page_errors, error_middleware, session_middleware],
        client_max_size=config.server.max_body_bytes,
    )
    app[CONFIG] = config
    app[FOLLOWINGS] = []
    app[OPERATIONS] = []
    for group in ROUTES:
        group.add_to(app.router)
        app[OPERATIONS].extend(group.operations)
    app[SEARCH_CACHE] = SearchCache()
    render.setup(app)
    app[IMPORT_JOBS] = ImportJobs()
    app.on_cleanup.append(_close_imports)
    app.on_response_prepare.append(browser_headers)
    app.cleanup_ctx.append(_node_context)
    app.cleanup_ctx.append(_search_context)
    app.cleanup_ctx.append(_federation_context)
    return app


async def _close_imports(app: web.Application) -> None:
    await app[IMPORT_JOBS].close()


async def _node_context(app: web.Application) -> AsyncIterator[None]:
    async with Node.opened(app[CONFIG].home_path) as node:
        app[NODE] = node
        tasks = [
            asyncio.create_task(_flush_rejections(node)),
            # Key rotations and revocations by other processes take effect here at once.
            asyncio.create_task(node.watch_keys()),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


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
