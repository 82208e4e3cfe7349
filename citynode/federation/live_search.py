"""Live search: ask peers' `/fed/v1/search` under one deadline, and answer peers that ask us.

docs/DESIGN.md "Search": the default scope is the local replica and the query never leaves the node.
Live search is opt-in on both sides: the reader asks for `scope=live`, and a node answers
`/fed/v1/search` only when its operator set `live_search = true` (an answer tells the asker
nothing new, but a question tells the answering node what someone is looking for).

Every filter is forwarded. A record held by several nodes (our replica and a peer, or two peers
that relay it) appears once: the local copy when we hold it (we verified it), else the highest
version a peer named; the total counts each record once (our exact total plus the records only
peers returned).
"""

from __future__ import annotations

import time
from typing import Any, Final

import msgspec

from citynode.errors import BadRequest, Forbidden
from citynode.node import Node
from citynode.outbound import GuardedClient
from citynode.search.fanout import fan_out, rrf_merge
from citynode.search.query import Hit, Searching, SearchQuery
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
    "sdg_goal": "sdg_goals",
    "sdg_target": "sdgs",
    "country": "countries",
    "city": "cities",
    "year": "years",
    "published": "published",
    "language": "languages",
}
_NUMERIC: Final = ("years", "published")


class LiveResult(msgspec.Struct, kw_only=True):
    """A merged answer: local hits and peers' hits fused by rank, and who did not answer."""

    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, Any]
    notices: list[str]
    answered: list[str]
    missing: list[str]
    elapsed_ms: float


def filters_of(facets: dict[str, list[str]]) -> SearchFilters:
    """Resolved facet filters (as indexed) -> the wire message's filters."""
    values: dict[str, Any] = {}
    for facet, field in _FILTERS.items():
        chosen = facets.get(facet, [])
        values[field] = [int(v) for v in chosen if v.isdigit()] if field in _NUMERIC else chosen
    return SearchFilters(**values)


def query_of(request: SearchRequest) -> SearchQuery:
    facets: dict[str, list[str]] = {}
    for facet, field in _FILTERS.items():
        chosen = getattr(request.filters, field)
        if chosen:
            facets[facet] = [str(v) for v in chosen]
    return SearchQuery(
        text=request.query[:1000], facets=facets, lang=request.language or "", limit=request.limit
    )


async def answer(node: Node, searching: Searching, body: bytes) -> bytes:
    """This node's answer to a peer's live search (only when the operator opted in)."""
    if not node.config.federation.live_search:
        raise Forbidden(
            "this node does not answer live searches (its operator has not set live_search)"
        )
    request = decode_as(body, SearchRequest)
    query = query_of(request)
    try:
        result = await searching.search(query)
    except BadRequest:
        # A filter value this node does not hold (a city it never heard of): nothing matches.
        return encode_message(SearchResponse(node=node.identity.did, hits=[], total=0))
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


def _newest(hits: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per record id, the copy to show: local (verified) first, else the highest version."""
    chosen: dict[str, dict[str, Any]] = {}
    for hit in hits:
        held = chosen.get(hit["id"])
        if held is None or (
            held["source"] != "local"
            and (hit["source"] == "local" or hit["version"] > held["version"])
        ):
            chosen[hit["id"]] = hit
    return chosen


async def live(
    node: Node,
    searching: Searching,
    client: GuardedClient,
    query: SearchQuery,
    deadline: float = DEFAULT_DEADLINE,
) -> LiveResult:
    """Local results plus every approved peer's, fused by reciprocal rank under one deadline."""
    started = time.monotonic()
    local = await searching.search(query)
    filters = searching.resolve(query.facets)
    peers = [
        p
        for p in await peer_store.list_peers(node.db.reader)
        if p.sync.state != "blocked" and p.sync.state not in ("pending_approval", "removed")
    ]
    origins = await all_origins(node.db.reader)
    body = encode_message(
        SearchRequest(
            query=query.text[:1000],
            filters=filters_of(filters),
            limit=query.limit,
            language=local.lang,
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
    local_hits = [_local_hit(h) for h in local.hits]
    fused = rrf_merge({"local": local_hits, "peers": merged})
    chosen = _newest([*local_hits, *merged])
    hits = [chosen[hit["id"]] for hit in fused if chosen.get(hit["id"]) is not None]
    hits = list({hit["id"]: hit for hit in hits}.values())
    local_ids = {hit["id"] for hit in local_hits}
    # Records only peers returned that we do not hold: our exact total already counts the rest.
    held = await _held(searching, {hit["id"] for hit in merged} - local_ids)
    only_peers = {hit["id"] for hit in merged} - local_ids - held
    notices = list(local.notices)
    if missing:
        notices.append(f"{len(missing)} peer(s) did not answer in time: " + ", ".join(missing))
    return LiveResult(
        total=local.total + len(only_peers),
        hits=hits[: query.limit],
        facets=msgspec.to_builtins(local.facets),
        notices=notices,
        answered=answered,
        missing=missing,
        elapsed_ms=(time.monotonic() - started) * 1000,
    )


async def _held(searching: Searching, ids: set[str]) -> set[str]:
    """Which of these ids the local index holds (they are in our total already)."""
    searcher = searching.engine.searcher
    return {record_id for record_id in ids if searcher.doc_freq("id", record_id)}


__all__ = ["LiveResult", "answer", "live"]
