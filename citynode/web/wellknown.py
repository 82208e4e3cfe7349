"""Discovery: the DID document, the node descriptor, the vocabulary context, the home page."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from citynode.federation.directory import own_descriptor
from citynode.storage import records as store
from citynode.web.keys import NODE
from citynode.web.records import json_response

routes = web.RouteTableDef()

PROTOCOL_VERSION = "citynode/1"


@routes.get("/.well-known/did.json")
async def did_document(request: web.Request) -> web.Response:
    node = request.app[NODE]
    return json_response(node.identity.did_document(), content_type="application/did+json")


def descriptor(request: web.Request) -> dict[str, Any]:
    """The node descriptor: the `NodeDescriptor` wire message (protocol/messages.py) that peers
    decode and check, plus a few links for people (wire types ignore fields they do not know)."""
    node = request.app[NODE]
    config = node.config
    base = config.base_url
    info: dict[str, Any] = msgspec.to_builtins(own_descriptor(config, node.identity.did))
    info["illustrative"] = config.node.illustrative
    info["endpoints"].update(
        {
            "records": f"{base}/records",
            "vocabulary": f"{base}/vocab/v1",
            "ontology": f"{base}/vocab/ontology",
            "indicators": f"{base}/api/indicators",
            "lineage": f"{base}/api/lineage",
            "openapi": f"{base}/openapi.json",
            "searchApi": f"{base}/api/search",
        }
    )
    return info


@routes.get("/.well-known/citynode")
async def node_descriptor(request: web.Request) -> web.Response:
    return json_response(descriptor(request))


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    node = request.app[NODE]
    count = await store.count_current(node.db.reader, node.identity.did)
    info = descriptor(request)
    info["records_published"] = count
    return json_response(info)
