"""Pages: server time of the search page and of a practice page at N records (issue 10:
p99 <= 30 ms at 100k).

Server time is the handler's own time (a timing middleware put first in the app, so it includes
every other middleware, the search call, the store reads and the template), measured over
loopback HTTP requests sent one at a time. The corpus is the search bench's
(bench/search_corpus.py), stored as records and indexed; every result gets three measurements so
practice pages draw charts.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec
from aiohttp import web

from bench.node_bench import _config, free_port
from bench.search_corpus import corpus, vocabulary
from citynode.app import create_app
from citynode.config import load_config
from citynode.node import Node, create_home
from citynode.search.service import SearchService
from citynode.storage import records as store
from citynode.storage.facts import FactsFollower
from citynode.storage.log import Following
from citynode.storage.origins import put_origin

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _measurements(n: int) -> list[dict[str, Any]]:
    return [
        {"type": "Measurement", "indicator": {"es": "Personas formadas", "en": "People trained"},
         "value": 100 * (n % 50) + 10 * year, "unit": "people", "period": str(2019 + year)}
        for year in range(3)
    ]  # fmt: skip


async def put_origins(conn: Any, origins: Any) -> None:
    for origin in origins:
        await put_origin(conn, origin)


async def _fill(node: Node, size: int) -> list[str]:
    """Store and index the corpus; the ids of practices that have a result."""
    with_results: list[str] = []
    batch: list[tuple[dict[str, Any], Any]] = []

    async def flush() -> None:
        items = [
            store.NewVersion(
                id=doc["id"], version=1, type=doc["type"], origin=origin.did,
                modified=doc["modified"], status=doc.get("status"), body=msgspec.json.encode(doc),
            )
            for doc, origin in batch
        ]  # fmt: skip
        async with node.db.transaction() as conn:
            await store.append(conn, items)
            await put_origins(conn, {origin.did: origin for _, origin in batch}.values())
        batch.clear()

    previous: dict[str, Any] | None = None
    for number, (doc, origin) in enumerate(corpus(size)):
        if doc["type"] == "Result":
            doc["measurements"] = _measurements(number)
            if previous is not None and previous["type"] != "Result":
                with_results.append(previous["id"])
        batch.append((doc, origin))
        previous = doc
        if len(batch) == 1000:
            await flush()
    if batch:
        await flush()
    async with SearchService.opened(node):
        pass  # indexed from the change log before the server starts
    # The facts view (a practice's results, its adaptations) caught up too, as on a running node.
    await Following(node.db, FactsFollower(node.db)).step()
    return with_results


def _search_urls(base: str, rng: random.Random) -> list[str]:
    words = vocabulary()
    urls = [f"{base}/es/search", f"{base}/en/search?sort=date"]
    for lang in ("es", "en", "pt"):
        common, rare = words[lang][:50], words[lang][2000:4000]
        urls += [f"{base}/{lang}/search?q={quote(rng.choice(common))}" for _ in range(20)]
        urls += [f"{base}/{lang}/search?q={quote(rng.choice(rare))}" for _ in range(10)]
        urls += [
            f"{base}/{lang}/search?q={quote(rng.choice(common) + ' ' + rng.choice(rare))}&page=2"
            for _ in range(10)
        ]
    urls += [
        f"{base}/es/search?q={quote(words['es'][i])}&theme="
        + quote("https://w3id.org/citynode/theme#mobility")
        for i in range(10)
    ]
    return urls


async def run(size: int, rounds: int) -> dict[str, Any]:
    rng = random.Random(5)
    timings: dict[str, list[float]] = {"search": [], "practice": []}
    current: list[str] = []

    @web.middleware
    async def timer(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        if current:
            timings[current[0]].append((time.perf_counter() - started) * 1000)
        return response

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "node"
        port = free_port()
        await create_home(_config(home, port), home)
        node = await Node.open(home)
        built = time.perf_counter()
        practices = await _fill(node, size)
        fill_s = time.perf_counter() - built
        await node.close()
        app = create_app(load_config(home))
        app.middlewares.insert(0, timer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        headers = {"Accept": "text/html", "Accept-Language": "es"}
        try:
            async with aiohttp.ClientSession(headers=headers) as session:
                searches = _search_urls(base, rng)
                pages = [
                    f"{base}/{rng.choice(('es', 'en'))}/practice?id={quote(pid)}"
                    for pid in rng.sample(practices, min(len(practices), 200))
                ]
                for kind, urls in (("search", searches), ("practice", pages)):
                    for url in urls[:20]:  # warm the caches the way a running node has them
                        async with session.get(url) as resp:
                            await resp.read()
                    current[:] = [kind]
                    for number in range(rounds):
                        async with session.get(urls[number % len(urls)]) as resp:
                            assert resp.status == 200, (url, resp.status)
                            await resp.read()
                    current.clear()
        finally:
            await runner.cleanup()
    out: dict[str, Any] = {"records": size, "fill_s": fill_s}
    for kind, values in timings.items():
        values.sort()
        out[kind] = {
            "p50": statistics.median(values),
            "p99": values[min(len(values) - 1, int(len(values) * 0.99))],
            "n": len(values),
        }
    return out


def report(figures: dict[str, Any]) -> list[str]:
    lines = [f"{'page':<16}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}   (issue: p99 <= 30 ms)"]
    for kind in ("search", "practice"):
        f = figures[kind]
        lines.append(f"{kind + ' page':<16}{f['p50']:>9.2f}{f['p99']:>9.2f}{f['n']:>10,}")
    return lines
