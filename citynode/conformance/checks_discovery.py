"""docs/protocol.md 2.2 and 6.1: the DID document and the node descriptor."""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

from citynode.conformance.checks import check
from citynode.conformance.context import Context, Failed
from protocol.did import (
    DidError,
    did_document_url,
    did_from_base_url,
    keys_from_document,
    parse_did_document,
)
from protocol.errors import ProtocolError
from protocol.messages import NodeDescriptor, check_descriptor, decode_as


@check("descriptor")
async def descriptor(ctx: Context) -> str | None:
    answer = await ctx.client.get(f"{ctx.url}/.well-known/citynode", "the descriptor")
    if answer.status != 200:
        raise Failed(f"GET /.well-known/citynode: {answer.describe()}")
    if answer.content_type != "application/json":
        raise Failed(f"the descriptor is served as {answer.content_type!r}, not application/json")
    try:
        found = decode_as(answer.body, NodeDescriptor)
        check_descriptor(found)
    except ProtocolError as exc:
        raise Failed(exc.message) from None
    if found.base_url.rstrip("/") != ctx.url:
        raise Failed(f"baseUrl is {found.base_url!r}, but the kit asked {ctx.url!r}")
    try:
        expected = did_from_base_url(found.base_url.rstrip("/"))
    except DidError as exc:
        raise Failed(exc.message) from None
    if found.did != expected:
        raise Failed(f"did is {found.did!r}; the did:web of {found.base_url} is {expected!r}")
    ctx.descriptor = found
    return f"{found.name} ({found.country}), {found.protocol}, relays={found.relays}"


@check("did-document")
async def did_document(ctx: Context) -> str | None:
    url = ctx.endpoint("did_document")
    where = did_document_url(ctx.did, urlsplit(ctx.url).scheme)
    if url != where:
        raise Failed(f"endpoints.didDocument is {url}, but did:web puts it at {where}")
    answer = await ctx.client.get(url, "the DID document")
    if answer.status != 200:
        raise Failed(f"GET {url}: {answer.describe()}")
    if answer.content_type not in ("application/did+json", "application/json"):
        raise Failed(f"the DID document is served as {answer.content_type!r}")
    try:
        document = parse_did_document(answer.body)
        assertion = keys_from_document(document, "assertionMethod")
        authentication = keys_from_document(document, "authentication")
    except ProtocolError as exc:
        raise Failed(exc.message) from None
    if document.id != ctx.did:
        raise Failed(f"the DID document is for {document.id}, not {ctx.did}")
    if not assertion or not authentication:
        raise Failed(
            "the DID document needs an Ed25519 Multikey under assertionMethod and one under "
            f"authentication (found {len(assertion)} and {len(authentication)})"
        )
    services = [s for s in document.service if s.type == "CityNode" or "CityNode" in s.type]
    ctx.did_document = msgspec.json.decode(answer.body)
    note = f"{len(assertion)} assertion key(s), {len(authentication)} authentication key(s)"
    if not services:
        note += "; no CityNode service (SHOULD link the descriptor)"
    return note
