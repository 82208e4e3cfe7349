"""Live search: ask peers' `/fed/v1/search` under one deadline, and answer peers that ask us.

docs/DESIGN.md "Search": the default scope is the local replica and the query never leaves the node.
Live search is opt-in on both sides: the reader asks for `scope=live`, and a node answers
`/fed/v1/search` only when its operator set `live_search = true` (an answer tells the asker
nothing new, but a question tells the answering node what someone is looking for).
"""

from __future__ import annotations

import time
from typing import Any, Final

import msgspec

from citynode.errors import Forbidden
from citynode.node import Node
from citynode.outbound import GuardedClient
from citynode.search.fanout import fan_out, rrf_merge
from citynode.search.query import Hit, SearchQuery, SearchResult, search
from citynode.storage import peers as peer_store
from citynode.storage.origins import all_origins
from protocol.messages import (
    SearchFilters,
    SearchHit,
    SearchRequest,
    SearchResponse,
    decode_as,
    encode_message,
)

#: The whole fan-out, all peers together, stops after this (docs/DESIGN.md: one overall deadline).
DEFAULT_DEADLINE: Final = 0.8
#: What one peer's answer may weigh.
MAX_ANSWER_BYTES: Final = 512 * 1024

# Facet names of the local search <-> filter fields of the wire message.
_FILTERS: Final = {
    "type": "types",
    "status": "statuses",
    "theme": "themes",
    "sdg_target": "sdgs",
    "country": "countries",
    "city": "cities",
    "year": "years",
    "language": "languages",
}


class LiveResult(msgspec.Struct, kw_only=True):
    """A merged answer: local hits and peers' hits fused by rank, and who did not answer."""

    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, Any]
    notices: list[str]
    answered: list[str]
    missing: list[str]
    elapsed_ms: float


def filters_of(query: SearchQuery) -> SearchFilters:
    values: dict[str, Any] = {}
    for facet, field in _FILTERS.items():
        chosen = query.facets.get(facet, [])
        if field == "years":
            values[field] = [int(v) for v in chosen if v.isdigit()]
        else:
            values[field] = list(chosen)
    return SearchFilters(**values)


def query_of(request: SearchRequest) -> SearchQuery:
    facets: dict[str, list[str]] = {}
    for facet, field in _FILTERS.items():
        chosen = getattr(request.filters, field)
        if chosen:
            facets[facet] = [str(v) for v in chosen]
    lang = request.language if request.language in ("es", "en", "pt") else "en"
    return SearchQuery(text=request.query[:300], facets=facets, lang=lang, limit=request.limit)


async def answer(node: Node, body: bytes) -> bytes:
    """This node's answer to a peer's live search (only when the operator opted in)."""
    if not node.config.federation.live_search:
        raise Forbidden(
            "this node does not answer live searches (its operator has not set live_search)"
        )
    request = decode_as(body, SearchRequest)
    result = await search(node.db.reader, query_of(request), keys=node.known_keys)
    hits = [
        SearchHit(
            id=hit.id,
            origin=hit.origin,
            title={hit.title_lang: hit.title},
            score=1.0 / rank,
            type=hit.type,
            version=hit.version,
            snippet=hit.snippet,
        )
        for rank, hit in enumerate(result.hits, start=1)
    ]
    return encode_message(SearchResponse(node=node.identity.did, hits=hits, total=result.total))


def _local_hit(hit: Hit) -> dict[str, Any]:
    return {**msgspec.to_builtins(hit), "source": "local"}


def _peer_hit(hit: SearchHit, origins: dict[str, Any], peer_url: str) -> dict[str, Any]:
    origin = next((o for o in origins.values() if o.base_url == hit.origin), None)
    lang, title = next(iter(hit.title.items()), ("", ""))
    return {
        "id": hit.id,
        "type": hit.type or "",
        "city": origin.city if origin else "",
        "country": origin.country if origin else "",
        "origin": hit.origin,
        "title": title,
        "title_lang": lang,
        "snippet": hit.snippet or "",
        # Not verified here: a live hit is a pointer to fetch and verify, not a held record.
        "signature": "not checked (live answer)",
        "version": hit.version or 0,
        "modified": "",
        "why": [f"answered live by {peer_url}"],
        "source": peer_url,
    }


async def live(
    node: Node, client: GuardedClient, query: SearchQuery, deadline: float = DEFAULT_DEADLINE
) -> LiveResult:
    """Local results plus every approved peer's, fused by reciprocal rank under one deadline."""
    started = time.monotonic()
    local = await search(node.db.reader, query, keys=node.known_keys)
    peers = [
        p
        for p in await peer_store.list_peers(node.db.reader)
        if p.sync.state != "blocked" and p.sync.state not in ("pending_approval", "removed")
    ]
    origins = await all_origins(node.db.reader)
    body = encode_message(
        SearchRequest(
            query=query.text[:300],
            filters=filters_of(query),
            limit=query.limit,
            language=query.lang,
        )
    )
    remaining = max(0.0, deadline - (time.monotonic() - started))

    async def ask(base_url: str) -> list[dict[str, Any]]:
        response = await client.post_json(
            f"{base_url}/fed/v1/search", body, max_bytes=MAX_ANSWER_BYTES, deadline=remaining
        )
        answer = decode_as(response.body, SearchResponse)
        return [_peer_hit(hit, origins, base_url) for hit in answer.hits]

    merged, answered, missing = await fan_out([p.base_url for p in peers], ask, remaining)
    hits = rrf_merge({"local": [_local_hit(h) for h in local.hits], "peers": merged})
    notices = list(local.notices)
    if missing:
        notices.append(f"{len(missing)} peer(s) did not answer in time: " + ", ".join(missing))
    return LiveResult(
        total=local.total + len(merged),
        hits=hits[: query.limit],
        facets=msgspec.to_builtins(local.facets),
        notices=notices,
        answered=answered,
        missing=missing,
        elapsed_ms=(time.monotonic() - started) * 1000,
    )


__all__ = ["LiveResult", "SearchResult", "answer", "live"]
