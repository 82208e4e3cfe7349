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
from citynode.web import (
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
from citynode.web.csv_jobs import IMPORT_JOBS, ImportJobs
from citynode.web.error_pages import page_errors
from citynode.web.errors import error_middleware
from citynode.web.keys import CONFIG, FOLLOWINGS, NODE
from citynode.web.sessions import session_middleware

log = logging.getLogger("citynode.app")
REJECTION_FLUSH_SECONDS = 1.0


def create_app(config: NodeConfig) -> web.Application:
    app = web.Application(
        middlewares=[page_errors, error_middleware, session_middleware],
        client_max_size=config.server.max_body_bytes,
    )
    app[CONFIG] = config
    app[FOLLOWINGS] = []
    app.add_routes(wellknown.routes)
    app.add_routes(records.routes)
    app.add_routes(editor.routes)
    app.add_routes(openapi.routes)
    app.add_routes(federation.routes)
    app.add_routes(peers.routes)
    app.add_routes(search.routes)
    render.setup(app)
    app.add_routes(home_page.routes)
    app.add_routes(search_page.routes)
    app.add_routes(practice_page.routes)
    app.add_routes(city_page.routes)
    app.add_routes(compare_page.routes)
    app.add_routes(editor_pages.routes)
    app.add_routes(operator_page.routes)
    app.add_routes(ontology_page.routes)
    app[IMPORT_JOBS] = ImportJobs()
    app.on_cleanup.append(_close_imports)
    app[search.SEARCH_CACHE] = SearchCache()
    app.cleanup_ctx.append(_node_context)
    app.cleanup_ctx.append(_federation_context)
    return app


async def _close_imports(app: web.Application) -> None:
    await app[IMPORT_JOBS].close()


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


async def _federation_context(app: web.Application) -> AsyncIterator[None]:
    # After the node (cleanup contexts nest): the worker stops before the database closes.
    service = Federation(app[NODE])
    await service.start()
    app[federation.FEDERATION] = service
    try:
        yield
    finally:
        await service.close()
