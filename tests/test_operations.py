"""Operator endpoints on real nodes: /healthz, /readyz, /metrics, request ids, JSON logs,
trusted proxies."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from citynode.ops import logs
from citynode.storage.log import Following
from citynode.storage.records import StoredRecord
from citynode.web.keys import FOLLOWINGS
from tests.drafts import practice
from tests.federation_support import fed, follow, publish, wait_for
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]


def samples(text: str) -> Page:
    """Every sample of a Prometheus text page: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


Page = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def value(page: Page, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in page, f"{key} not in {sorted(k for k in page if k[0] == name)}"
    return page[key]


async def scrape(node: RunningNode) -> Page:
    async with aiohttp.ClientSession() as session, session.get(f"{node.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        return samples(await resp.text())


async def test_healthz_and_readyz_answer_with_their_checks(medellin: RunningNode) -> None:
    status, body, headers = await request_json("GET", f"{medellin.url}/healthz")
    assert (status, body) == (200, {"status": "alive"})
    assert len(headers["X-Request-Id"]) == 32
    status, body, _ = await request_json("GET", f"{medellin.url}/readyz")
    assert status == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["federation_worker"] == {"ok": True, "detail": "running"}


class Stuck:
    """A follower that applies nothing until released (a slow search index, say)."""

    name = "stuck-view"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.at = 0

    async def position(self) -> int:
        return self.at

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        await self.release.wait()
        self.at = upto


async def test_readyz_fails_while_a_follower_lags_past_the_bound(node_factory: Factory) -> None:
    node = await node_factory(sections={"ops": {"ready_max_lag_seconds": 0.3}})
    stuck = Stuck()
    following = Following(node.node.db, stuck, poll_interval=0.05)
    await following.start()
    node.runner.app[FOLLOWINGS].append(following)
    try:
        await publish(node, practice("lagging"))

        async def not_ready() -> bool:
            status, _, _ = await request_json("GET", f"{node.url}/readyz")
            return status == 503

        await wait_for(not_ready, what="/readyz to report the lagging follower")
        status, body, _ = await request_json("GET", f"{node.url}/readyz")
        assert body["code"] == "not_ready" and "follower:stuck-view" in body["message"]
        check = body["detail"]["checks"]["follower:stuck-view"]
        assert check["ok"] is False and "1 entries behind" in check["detail"]
        page = await scrape(node)
        assert value(page, "citynode_follower_lag_entries", follower="stuck-view") == 1
        assert value(page, "citynode_follower_lag_seconds", follower="stuck-view") > 0.3

        stuck.release.set()

        async def ready() -> bool:
            status, _, _ = await request_json("GET", f"{node.url}/readyz")
            return status == 200

        await wait_for(ready, what="/readyz once the follower caught up")
        page = await scrape(node)
        assert value(page, "citynode_follower_lag_entries", follower="stuck-view") == 0
        assert value(page, "citynode_follower_running", follower="stuck-view") == 1
    finally:
        await following.close()
    status, body, _ = await request_json("GET", f"{node.url}/readyz")
    assert status == 503 and "not running" in str(body["detail"]), body


async def test_metrics_count_records_peers_latency_and_refusals(node_factory: Factory) -> None:
    # No background workers: the test steps the sync, so the peer states it reads hold still.
    a = await node_factory("Medellín", worker=False)
    b = await node_factory("Lisboa", worker=False)
    await publish(a, practice("uno"), practice("dos"))
    await publish(b, practice("tres"))
    await follow(b, a)
    await fed(b).worker.sync_now(a.did)
    for query in ("wifi", "parques", "nothing-matches"):
        status, _, _ = await request_json("GET", f"{b.url}/api/search", params={"q": query})
        assert status == 200
    status, _, _ = await request_json(
        "POST",
        f"{b.url}/api/records",
        data=b"{not json",
        headers={"Content-Type": "application/json", **b.auth()},
    )
    assert status == 400
    status, _, _ = await request_json("GET", f"{b.url}/records/no-such-record")
    assert status == 404

    page = await scrape(b)
    assert value(page, "citynode_records", origin=a.did, city="Medellín") == 2
    assert value(page, "citynode_records", origin=b.did, city="Lisboa") == 1
    assert value(page, "citynode_peer_lag_records", peer=a.did, city="Medellín") == 0
    last = value(page, "citynode_peer_last_success_timestamp_seconds", peer=a.did, city="Medellín")
    assert last > 0
    assert value(page, "citynode_peer_state", peer=a.did, state="idle") == 1
    assert value(page, "citynode_worker_queue_depth", worker="sync") == 0
    searches = value(page, "citynode_search_duration_seconds_count", route="/api/search")
    assert searches == 3
    assert (
        value(
            page,
            "citynode_http_request_duration_seconds_count",
            route="/records/{slug}",
            method="GET",
        )
        == 1
    )
    assert value(page, "citynode_http_responses_total", route="/api/records", status="400") == 1
    refused = {k[1]: v for k, v in page.items() if k[0] == "citynode_refused_requests_total"}
    assert sum(refused.values()) >= 1, refused
    assert value(page, "process_resident_memory_bytes") > 10_000_000
    assert value(page, "process_open_fds") > 0
    # The other node's registry is its own: no requests of B counted at A.
    page_a = await scrape(a)
    with_a = [k for k in page_a if k[0] == "citynode_search_duration_seconds_count"]
    assert with_a == []


async def test_request_id_is_returned_and_logged_as_json(medellin: RunningNode) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.JsonFormatter())
    access = logging.getLogger("citynode.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        status, _, headers = await request_json(
            "GET", f"{medellin.url}/records/missing", headers={"X-Request-Id": "abcdef0123456789"}
        )
        assert status == 404 and headers["X-Request-Id"] == "abcdef0123456789"
        # An id that is not sane is replaced, never echoed.
        _, _, headers = await request_json(
            "GET", f"{medellin.url}/healthz", headers={"X-Request-Id": "bad id\twith <html>"}
        )
        generated = headers["X-Request-Id"]
        assert len(generated) == 32 and generated.isalnum()
    finally:
        access.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    first, second = lines
    assert first["request_id"] == "abcdef0123456789"
    assert first["status"] == 404 and first["route"] == "/records/{slug}"
    assert first["level"] == "info" and first["logger"] == "citynode.access"
    assert second["request_id"] == generated


async def test_forwarded_for_is_believed_only_from_trusted_proxies(node_factory: Factory) -> None:
    trusting = await node_factory(sections={"server": {"trusted_proxies": ["127.0.0.1/32"]}})
    wary = await node_factory("Lisboa")
    forged = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "Content-Type": "application/json"}
    for node in (trusting, wary):
        status, _, _ = await request_json(
            "POST", f"{node.url}/api/records", data=b"[", headers={**forged, **node.auth()}
        )
        assert status == 400
    # Behind the trusted proxy the client is the right-most address it added; elsewhere the
    # header is the client's own claim and is ignored.
    assert await refusal_sources(trusting) == {"198.51.100.7"}
    assert await refusal_sources(wary) == {"127.0.0.1"}


async def refusal_sources(node: RunningNode) -> set[str]:
    counters = await node.node.counters()
    return {
        source for name, by in counters.items() if name.startswith("rejected.") for source in by
    }


async def test_readyz_fails_while_a_view_is_too_many_entries_behind(node_factory: Factory) -> None:
    # A view rebuilding from zero is not ready however recently it started.
    node = await node_factory(
        sections={"ops": {"ready_max_lag_seconds": 3600, "ready_max_lag_entries": 2}}
    )
    stuck = Stuck()
    following = Following(node.node.db, stuck, poll_interval=0.05)
    await following.start()
    node.runner.app[FOLLOWINGS].append(following)
    try:
        await publish(node, practice("uno"), practice("dos"))
        status, body, _ = await request_json("GET", f"{node.url}/readyz")
        assert status == 200, body  # two entries behind: within the bound
        await publish(node, practice("tres"))

        async def not_ready() -> bool:
            status, _, _ = await request_json("GET", f"{node.url}/readyz")
            return status == 503

        await wait_for(not_ready, what="/readyz to count the entries behind")
        stuck.release.set()
    finally:
        await following.close()
