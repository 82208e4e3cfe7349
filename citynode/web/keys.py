"""Typed application state (aiohttp `AppKey`s), shared by the handlers."""

from __future__ import annotations

from aiohttp import web

from citynode.config import NodeConfig
from citynode.node import Node
from citynode.ops.metrics import Metrics
from citynode.storage.log import Following

CONFIG = web.AppKey("config", NodeConfig)
NODE = web.AppKey("node", Node)
#: Every follower of the change log running in this app (search index, push notices, SPARQL
#: store...): each owner starts its `Following` in its cleanup context and lists it here, so
#: status, readiness and metrics report every view's lag from one place.
FOLLOWINGS = web.AppKey("followings", list[Following])
#: This app's Prometheus registry and request-path metrics (one per app: tests run several).
METRICS = web.AppKey("metrics", Metrics)
