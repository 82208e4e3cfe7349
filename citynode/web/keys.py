"""Typed application state (aiohttp `AppKey`s), shared by the handlers."""

from __future__ import annotations

from aiohttp import web

from citynode.config import NodeConfig
from citynode.node import Node
from citynode.storage.log import Following

CONFIG = web.AppKey("config", NodeConfig)
NODE = web.AppKey("node", Node)
#: Every follower of the change log running in this app (search index, push notices, SPARQL
#: store...): each owner starts its `Following` in its cleanup context and lists it here, so
#: status, readiness and metrics report every view's lag from one place.
FOLLOWINGS = web.AppKey("followings", list[Following])
#: The facts follower (record links and indicator observations, storage/facts.py): the
#: comparison and lineage routes wait on it to see their own writes.
FACTS = web.AppKey("facts", Following)
