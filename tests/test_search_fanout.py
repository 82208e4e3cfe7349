"""Fan-out to peers under one deadline, and reciprocal rank fusion."""

from __future__ import annotations

import asyncio
import time

from citynode.federation.live_search import filters_of, query_of
from citynode.search.fanout import fan_out, rrf_merge
from citynode.search.schema import FACETS
from protocol.messages import SearchRequest, decode_as, encode_message


def test_rrf_merge_orders_by_summed_reciprocal_rank() -> None:
    lists = {
        "a": [{"id": "x"}, {"id": "y"}, {"id": "z"}],
        "b": [{"id": "y"}, {"id": "w"}],
        "c": [{"id": "y"}, {"id": "x"}],
    }
    merged = rrf_merge(lists, k=60)
    # y: 1/62 + 1/61 + 1/61; x: 1/61 + 1/62; w: 1/62; z: 1/63.
    assert [hit["id"] for hit in merged] == ["y", "x", "w", "z"]
    assert merged[0] is lists["a"][1]  # the first copy seen is kept


def test_rrf_merge_ties_keep_first_seen_order_and_empty_lists() -> None:
    assert [h["id"] for h in rrf_merge({"a": [{"id": "p"}], "b": [{"id": "q"}]})] == ["p", "q"]
    assert rrf_merge({}) == []
    assert rrf_merge({"a": []}) == []


async def test_fan_out_returns_by_the_deadline_with_hanging_peer_missing() -> None:
    cancelled = asyncio.Event()

    async def ask(peer: str) -> list[dict[str, str]]:
        if peer == "hangs":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise
        if peer == "fails":
            raise ConnectionError("refused")
        await asyncio.sleep(0.01)
        return [{"id": f"{peer}-1"}, {"id": "shared"}]

    started = time.monotonic()
    merged, answered, missing = await fan_out(["fast", "hangs", "slow", "fails"], ask, 0.3)
    elapsed = time.monotonic() - started
    # Not a speed check (that is bench/search_http.py): the hanging peer would hold the call an
    # hour; returning within seconds shows the deadline, not the slowest peer, ended it.
    assert elapsed < 10
    assert answered == ["fast", "slow"]
    assert missing == ["hangs", "fails"]
    assert [hit["id"] for hit in merged] == ["shared", "fast-1", "slow-1"]
    await asyncio.sleep(0)
    assert cancelled.is_set()


async def test_fan_out_no_peers() -> None:
    assert await fan_out([], lambda peer: asyncio.sleep(0), 1.0) == ([], [], [])


def test_live_search_forwards_every_filter() -> None:
    chosen = {facet: [f"{facet}-value"] for facet in FACETS}
    chosen["year"] = ["2021"]
    chosen["published"] = ["2026"]
    request = SearchRequest(query="agua", filters=filters_of(chosen), language="pt-BR")
    back = query_of(decode_as(encode_message(request), SearchRequest))
    assert back.facets == chosen
    assert back.lang == "pt-BR" and back.text == "agua"
