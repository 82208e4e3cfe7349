"""Typed application state (aiohttp `AppKey`s), shared by the handlers."""

from __future__ import annotations

from aiohttp import web

from citynode.config import NodeConfig
from citynode.node import Node

CONFIG = web.AppKey("config", NodeConfig)
NODE = web.AppKey("node", Node)
