"""Node descriptors: ours (served at `/.well-known/citynode`) and other nodes' (fetched).

Records show their city through the `origins` table; for a record relayed from a city we do not
peer with, the city's name and country come from its own descriptor, read once and cached.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from citynode.addresses import did_scheme
from citynode.config import NodeConfig
from citynode.errors import OutboundBadUrl, OutboundError, OutboundRefused
from citynode.federation.errors import PeerAddressRefused, PeerUnreachable, PeerUrlInvalid
from citynode.origins import Origin
from citynode.outbound import GuardedClient
from protocol.did import base_url_from_did, descriptor_url, did_document_url, did_from_base_url
from protocol.errors import ProtocolError
from protocol.messages import Endpoints, Limits, NodeDescriptor, check_descriptor, decode_as

log = logging.getLogger("citynode.federation")

MAX_DESCRIPTOR_BYTES = 64 * 1024


def own_descriptor(config: NodeConfig, did: str) -> NodeDescriptor:
    """This node's descriptor (the wire message; `wellknown.py` serves it)."""
    base = config.base_url
    fed = config.federation
    return NodeDescriptor(
        did=did,
        base_url=base,
        name=config.node.name,
        country=config.node.country,
        wikidata=config.node.wikidata,
        languages=list(config.node.languages),
        endpoints=Endpoints(
            changes=f"{base}/fed/v1/changes",
            inbox=f"{base}/fed/v1/inbox",
            did_document=f"{base}/.well-known/did.json",
            search=f"{base}/fed/v1/search" if fed.live_search else None,
            digest=f"{base}/fed/v1/digest",
            peers=f"{base}/fed/v1/peers",
        ),
        limits=Limits(
            max_body_bytes=config.server.max_body_bytes,
            max_page_size=min(config.server.max_page_size, 5000),
        ),
        relays=fed.relay,
        population=config.node.population_profile,
    )


async def fetch_descriptor(client: GuardedClient, url: str) -> NodeDescriptor:
    """Read and check a node's descriptor from its base URL (or any URL on it)."""
    parts = urlsplit(url.strip())
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if base.endswith("/.well-known/citynode"):
        base = base.removesuffix("/.well-known/citynode")
    try:
        body = await client.get_json(
            descriptor_url(base), sign=False, max_bytes=MAX_DESCRIPTOR_BYTES
        )
        descriptor = decode_as(body, NodeDescriptor)
        check_descriptor(descriptor)
        if did_from_base_url(descriptor.base_url) != descriptor.did:
            raise PeerUnreachable(
                f"{base} describes itself as {descriptor.did}, which is not the DID of its base "
                f"URL {descriptor.base_url}",
                url=base,
            )
    except OutboundRefused as exc:
        raise PeerAddressRefused(
            f"{base} is not contacted by this node: {exc.message} (peers on private addresses "
            "need allow_private_peers in the node's configuration)",
            url=base,
            reason=exc.detail.get("reason"),
        ) from None
    except OutboundBadUrl as exc:
        raise PeerUrlInvalid(f"{base} cannot be a peer's URL: {exc.message}", url=base) from None
    except OutboundError as exc:
        raise PeerUnreachable(
            f"{base} does not answer as a citynode node: {exc.message}", url=base, code=exc.code
        ) from None
    except ProtocolError as exc:
        raise PeerUnreachable(
            f"{base} did not send a usable node descriptor: {exc.message}", url=base
        ) from None
    if descriptor.base_url.rstrip("/") != base:
        raise PeerUnreachable(
            f"{base} says its base URL is {descriptor.base_url}; add the peer by that URL",
            url=base,
        )
    return descriptor


def origin_of(descriptor: NodeDescriptor) -> Origin:
    return Origin(
        did=descriptor.did,
        base_url=descriptor.base_url.rstrip("/"),
        city=descriptor.name,
        country=descriptor.country,
        wikidata=descriptor.wikidata,
        population=descriptor.population,
    )


class OriginDirectory:
    """DID -> Origin for the records we hold; unknown cities are looked up once."""

    def __init__(self, client: GuardedClient) -> None:
        self.client = client
        self.known: dict[str, Origin] = {}

    async def resolve(self, did: str) -> Origin:
        known = self.known.get(did)
        if known is not None:
            return known
        base = base_url_from_did(did, did_scheme(did))
        try:
            origin = origin_of(await fetch_descriptor(self.client, base))
            if origin.did != did:
                raise PeerUnreachable(f"{base} is {origin.did}, not {did}")
        except PeerUnreachable as exc:
            # The record is verified (its DID document answered); only the city's name is
            # missing, so show the host rather than refuse the record.
            log.warning("no descriptor for %s (%s); showing its host name", did, exc.message)
            origin = Origin(did=did, base_url=base, city=urlsplit(base).netloc, country="")
        self.known[did] = origin
        return origin


__all__ = [
    "OriginDirectory",
    "did_document_url",
    "fetch_descriptor",
    "origin_of",
    "own_descriptor",
]
