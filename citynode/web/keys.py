"""Typed application state (aiohttp `AppKey`s), shared by the handlers: every key lives here."""

from __future__ import annotations

from aiohttp import web

from citynode.config import NodeConfig
from citynode.federation.service import Federation
from citynode.node import Node
from citynode.opendata.catalog import CatalogCache
from citynode.opendata.dumps import DumpSlots
from citynode.opendata.sparql import Sparql
from citynode.ops.metrics import Metrics
from citynode.search.cache import SearchCache
from citynode.search.service import SearchService
from citynode.storage.log import Following
from citynode.web.contract import Operation
from citynode.web.csv_jobs import ImportJobs

CONFIG = web.AppKey("config", NodeConfig)
NODE = web.AppKey("node", Node)
FEDERATION = web.AppKey("federation", Federation)
SEARCH_CACHE = web.AppKey("search_cache", SearchCache)
#: Every declared operation of the app (citynode/web/contract.py): `/openapi.json` is built from
#: them, and tests check that every route the router serves is among them.
OPERATIONS = web.AppKey("operations", list[Operation])
#: Every follower of the change log running in this app (search index, push notices, SPARQL
#: store...): each owner starts its `Following` in its cleanup context and lists it here, so
#: status, readiness and metrics report every view's lag from one place.
FOLLOWINGS = web.AppKey("followings", list[Following])
#: This app's Prometheus registry and request-path metrics (one per app: tests run several).
METRICS = web.AppKey("metrics", Metrics)
#: The node's search: index, indexer (a follower of the change log) and searches
#: (search/service.py); `app[SEARCH].searching.search(query)` is the search service function.
SEARCH = web.AppKey("search", SearchService)
#: CSV uploads being published from the editor page (web/csv_jobs.py), by job id.
IMPORT_JOBS = web.AppKey("import_jobs", ImportJobs)
#: The facts follower (record links and indicator observations, storage/facts.py): the
#: comparison and lineage routes wait on it to see their own writes.
FACTS = web.AppKey("facts", Following)
#: The SPARQL store and its query processes (absent when `[opendata] sparql = false`).
SPARQL = web.AppKey("sparql", Sparql)
#: The serialized DCAT catalog, until the store changes (web/catalog.py).
CATALOG_CACHE = web.AppKey("catalog_cache", CatalogCache)
#: Dumps streaming now (web/dumps.py).
DUMP_SLOTS = web.AppKey("dump_slots", DumpSlots)
