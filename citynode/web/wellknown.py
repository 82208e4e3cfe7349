"""Discovery: the DID document, the node descriptor (the vocabulary is served by
web/vocabulary.py; the home page, which answers the descriptor as JSON too, is home_page.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from citynode.federation.directory import own_descriptor
from citynode.opendata.links import OpenDataLink, links
from citynode.storage.log import Lag
from citynode.web.contract import Reply, Routes
from citynode.web.keys import FOLLOWINGS, NODE
from citynode.web.responses import respond
from protocol.messages import Endpoints, NodeDescriptor

routes = Routes("discovery")

PROTOCOL_VERSION = "citynode/1"


class PublicEndpoints(Endpoints, kw_only=True):
    """The federation endpoints, and the ones for people and their tools."""

    records: str
    vocabulary: str
    ontology: str
    indicators: str
    lineage: str
    openapi: str
    search_api: str
    catalog: str | None = None
    sparql: str | None = None
    practices_feed: str | None = None
    replica_feed: str | None = None
    search_feed: str | None = None


class NodeInfo(NodeDescriptor, tag="NodeDescriptor", kw_only=True):
    """The `NodeDescriptor` wire message peers decode and check, plus links for people (wire
    types ignore fields they do not know)."""

    endpoints: PublicEndpoints
    illustrative: bool = False
    #: How far each view of the change log (the search index, push notices...) is behind the
    #: store: entries not yet applied, and for how many seconds.
    index_lag: dict[str, Lag] = msgspec.field(default_factory=dict, name="index_lag")
    #: Where the node's open data is (catalog, dumps, SPARQL, feeds; opendata/links.py).
    open_data: list[OpenDataLink] = msgspec.field(default_factory=list)


def descriptor(request: web.Request) -> NodeInfo:
    node = request.app[NODE]
    config = node.config
    base = config.base_url
    wire = own_descriptor(config, node.identity.did)
    fields = msgspec.structs.asdict(wire)
    fields["endpoints"] = PublicEndpoints(
        **msgspec.structs.asdict(wire.endpoints),
        records=f"{base}/records",
        vocabulary=f"{base}/vocab/v1",
        ontology=f"{base}/vocab/ontology",
        indicators=f"{base}/api/indicators",
        lineage=f"{base}/api/lineage",
        openapi=f"{base}/openapi.json",
        search_api=f"{base}/api/search",
    )
    # Open data (DCAT catalog, dumps, SPARQL, feeds): wire types ignore what they do not know.
    found = links(base, config.opendata.sparql)
    named = {link.name: link.href for link in found}
    fields["endpoints"] = msgspec.structs.replace(
        fields["endpoints"],
        catalog=named["catalog"],
        sparql=named.get("sparql"),
        practices_feed=named["practicesFeed"],
        replica_feed=named["replicaFeed"],
        search_feed=named["searchFeed"],
    )
    return NodeInfo(
        **fields,
        illustrative=config.node.illustrative,
        index_lag=followers_lag(request),
        open_data=found,
    )


def followers_lag(request: web.Request) -> dict[str, Lag]:
    """Each change-log follower of this app (search index, push notices...) and its lag."""
    return {lag.follower: lag for lag in (f.lag() for f in request.app[FOLLOWINGS])}


@routes.get(
    "/.well-known/did.json",
    summary="The node's DID document (did:web) with its Ed25519 Multikeys",
    responses={200: Reply("the DID document", {"application/did+json": dict[str, Any]})},
)
async def did_document(request: web.Request) -> web.Response:
    node = request.app[NODE]
    # Peers re-read this right after a key-change notice: serve what the keys table says now,
    # even if another process changed it since the key watch last looked.
    await node.keyring.refresh(node.db.reader)
    return respond(node.identity.did_document(), content_type="application/did+json")


@routes.get(
    "/.well-known/citynode",
    summary="The node descriptor: city, languages, protocol, limits, endpoints",
    responses={200: NodeInfo},
)
async def node_descriptor(request: web.Request) -> web.Response:
    return respond(descriptor(request))
