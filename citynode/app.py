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
from citynode.opendata import links
from citynode.opendata.catalog import CatalogCache
from citynode.opendata.dumps import DumpSlots
from citynode.opendata.sparql import Sparql
from citynode.ops.forwarded import forwarded_middleware, parse_networks
from citynode.ops.metrics import Metrics
from citynode.ops.requests import add_request_id, body_deadline, request_middleware
from citynode.search.cache import SearchCache
from citynode.search.service import SearchService
from citynode.storage.facts import FactsFollower
from citynode.storage.log import Following
from citynode.web import (
    assets,
    catalog,
    city_page,
    compare_page,
    comparisons,
    dumps,
    editor,
    editor_pages,
    federation,
    feeds,
    home_page,
    ontology_page,
    openapi,
    operations,
    operator_page,
    peers,
    practice_page,
    records,
    render,
    search,
    search_page,
    sparql,
    vocabulary,
    wellknown,
)
from citynode.web.browser import browser_headers
from citynode.web.contract import Routes
from citynode.web.csv_jobs import ImportJobs
from citynode.web.error_pages import page_errors
from citynode.web.errors import error_middleware
from citynode.web.keys import (
    CATALOG_CACHE,
    CONFIG,
    DUMP_SLOTS,
    FACTS,
    FEDERATION,
    FOLLOWINGS,
    IMPORT_JOBS,
    METRICS,
    NODE,
    OPERATIONS,
    SEARCH,
    SEARCH_CACHE,
    SPARQL,
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
    vocabulary.routes,
    comparisons.routes,
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
    catalog.routes,
    dumps.routes,
    sparql.routes,
    feeds.routes,
    operations.routes,
)


def create_app(config: NodeConfig) -> web.Application:
    metrics = Metrics()
    proxies = parse_networks(config.server.trusted_proxies)

    def count_slow_body(request: web.Request) -> None:
        if NODE in request.app:
            request.app[NODE].rejections.add("rejected.request_timeout", request.remote or "")

    app = web.Application(
        # Outermost first: request id, log and timing see every answer, errors included;
        # page_errors outside error_middleware: it re-renders the JSON error for browsers.
        middlewares=[
            request_middleware(config, metrics, proxies),
            forwarded_middleware(proxies),
            body_deadline(config.server.body_timeout_seconds, count_slow_body),
            page_errors,
            error_middleware,
            session_middleware,
        ],
        client_max_size=config.server.max_body_bytes,
        # aiohttp's keep-alive timer runs from the moment a connection opens and closes it
        # while no request is in progress: a client dripping its headers is cut off here.
        # After an early answer (a 408, a 413) aiohttp keeps reading what the client still
        # sends for `lingering_time` so the client sees the answer; 2 s, not 10, for a dripper.
        handler_args={
            "keepalive_timeout": config.server.header_timeout_seconds,
            "lingering_time": 2.0,
        },
    )
    app[CONFIG] = config
    app[FOLLOWINGS] = []
    app[METRICS] = metrics
    app.on_response_prepare.append(add_request_id)
    app[OPERATIONS] = []
    for group in ROUTES:
        group.add_to(app.router, {"editor": editor.require_editor})
        app[OPERATIONS].extend(group.operations)
    app[SEARCH_CACHE] = SearchCache()
    render.setup(app)
    app[IMPORT_JOBS] = ImportJobs()
    app.on_cleanup.append(_close_imports)
    app[CATALOG_CACHE] = CatalogCache()
    app[DUMP_SLOTS] = DumpSlots()
    app.on_response_prepare.append(browser_headers)
    app.on_response_prepare.append(_open_data_links)
    app.cleanup_ctx.append(_node_context)
    app.cleanup_ctx.append(_search_context)
    # Before the federation worker: the views are following when the first pull lands.
    app.cleanup_ctx.append(_facts_context)
    # The SPARQL store opens before the federation worker starts, so the worker (which acts at
    # once) starts last, as the app becomes ready.
    app.cleanup_ctx.append(_sparql_context)
    app.cleanup_ctx.append(_federation_context)
    return app


async def _close_imports(app: web.Application) -> None:
    await app[IMPORT_JOBS].close()


async def _open_data_links(request: web.Request, response: web.StreamResponse) -> None:
    """A `Link` header naming the catalog, feeds, SPARQL and dumps on the node's front doors."""
    if request.path in links.FRONT_DOORS and "Link" not in response.headers:
        config = request.app[CONFIG]
        response.headers["Link"] = links.link_header(config.base_url, config.opendata.sparql)


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


async def _sparql_context(app: web.Application) -> AsyncIterator[None]:
    """The SPARQL store follows the change log while the app runs (opendata/sparql_view.py)."""
    node = app[NODE]
    if not node.config.opendata.sparql:
        yield
        return
    async with Sparql.opened(node) as service:
        app[SPARQL] = service
        app[FOLLOWINGS].append(service.following)
        try:
            yield
        finally:
            app[FOLLOWINGS].remove(service.following)
