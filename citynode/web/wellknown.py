"""Discovery: the DID document, the node descriptor, the vocabulary context (the home page,
which also answers the descriptor as JSON, is in home_page.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

import vocab
from citynode.federation.directory import own_descriptor
from citynode.web.keys import NODE
from citynode.web.records import json_response
from protocol.records import CONTEXT_URL

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
            "openapi": f"{base}/openapi.json",
            "searchApi": f"{base}/api/search",
        }
    )
    return info


@routes.get("/.well-known/citynode")
async def node_descriptor(request: web.Request) -> web.Response:
    return json_response(descriptor(request))


@routes.get("/vocab/v1")
async def context(request: web.Request) -> web.Response:
    return json_response(vocab.context_document(CONTEXT_URL), content_type="application/ld+json")
