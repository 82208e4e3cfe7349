"""Discovery: the DID document, the node descriptor, the vocabulary context, the home page."""

from __future__ import annotations

from aiohttp import web

import vocab
from citynode.storage import records as store
from citynode.web.keys import NODE
from citynode.web.records import json_response
from protocol.records import CONTEXT_URL

routes = web.RouteTableDef()

PROTOCOL_VERSION = "citynode/1"


@routes.get("/.well-known/did.json")
async def did_document(request: web.Request) -> web.Response:
    node = request.app[NODE]
    return json_response(node.identity.did_document(), content_type="application/did+json")


def descriptor(request: web.Request) -> dict[str, object]:
    node = request.app[NODE]
    config = node.config
    base = config.base_url
    return {
        "did": node.identity.did,
        "base_url": base,
        "name": config.node.name,
        "country": config.node.country,
        "wikidata": config.node.wikidata,
        "languages": list(config.node.languages),
        "illustrative": config.node.illustrative,
        "protocol": PROTOCOL_VERSION,
        "vocabulary": CONTEXT_URL,
        "limits": {
            "max_body_bytes": config.server.max_body_bytes,
            "max_page_size": config.server.max_page_size,
        },
        "endpoints": {
            "did": f"{base}/.well-known/did.json",
            "records": f"{base}/records",
            "vocabulary": f"{base}/vocab/v1",
            "openapi": f"{base}/openapi.json",
            "changes": f"{base}/fed/v1/changes",
            "inbox": f"{base}/fed/v1/inbox",
            "search": f"{base}/api/search",
        },
    }


@routes.get("/.well-known/citynode")
async def node_descriptor(request: web.Request) -> web.Response:
    return json_response(descriptor(request))


@routes.get("/vocab/v1")
async def context(request: web.Request) -> web.Response:
    return json_response(vocab.context_document(CONTEXT_URL), content_type="application/ld+json")


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    node = request.app[NODE]
    count = await store.count_current(node.db.reader, node.identity.did)
    info = descriptor(request)
    info["records_published"] = count
    return json_response(info)
