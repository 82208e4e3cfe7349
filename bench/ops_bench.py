"""Operations figures (issue 12): resident memory of `citynode serve` holding N records while it
answers a steady search load.

The node is built through its own publisher (records signed and stored, the index fed the
way the serving node feeds it), then served by `citynode serve` in its own process; a load of
distinct searches and record pages runs against it while its resident memory is read from
/proc every quarter second. `python -m bench --only ops --ops-records 100000`.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bench.search_corpus import vocabulary
from citynode.config import build_config
from citynode.node import Node, create_home

ROOT = Path(__file__).resolve().parents[1]
STATUS = "https://w3id.org/citynode/status#"
THEMES = ("connectivity", "digital-skills", "open-data", "smart-mobility", "housing", "water")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _drafts(count: int, start: int, rng: random.Random) -> list[dict[str, Any]]:
    words = vocabulary()
    drafts = []
    for n in range(start, start + count):
        es = " ".join(rng.choices(words["es"][:3000], k=60))
        en = " ".join(rng.choices(words["en"][:3000], k=60))
        drafts.append(
            {
                "type": "Project",
                "id": f"records/p{n:07}",
                "title": {"es": " ".join(es.split()[:6]), "en": " ".join(en.split()[:6])},
                "summary": {"es": es, "en": en},
                "status": STATUS + rng.choice(("ongoing", "completed", "planned")),
                "themes": [f"https://w3id.org/citynode/theme#{rng.choice(THEMES)}"],
            }
        )
    return drafts


async def build(home: Path, records: int, port: int) -> float:
    """A node at `home` holding `records` of its own; records/s published."""
    config = build_config(
        node={"base_url": f"http://127.0.0.1:{port}", "name": "Medellín", "country": "CO"},
        server={"port": port},
        federation={"allow_private_peers": True},
    )
    await create_home(config, home)
    rng = random.Random(12)
    started = time.perf_counter()
    async with Node.opened(home) as node:
        for start in range(0, records, 2000):
            batch = _drafts(min(2000, records - start), start, rng)
            await node.publisher.publish(batch, shacl=False)
    return records / (time.perf_counter() - started)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _load(base: str, seconds: float, words: list[str], counts: Counter[str]) -> None:
    rng = random.Random()
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if rng.random() < 0.8:
                query = "+".join(rng.choices(words, k=rng.randint(1, 4)))
                url = f"{base}/api/search?q={query}"
            else:
                url = f"{base}/records/p{rng.randrange(counts['records']):07}"
            async with session.get(url, headers={"Accept": "text/html"}) as response:
                await response.read()
                counts["ok" if response.status == 200 else f"status {response.status}"] += 1


async def memory_under_search(
    records: int, seconds: float = 60.0, clients: int = 8
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "node"
        port = _port()
        rate = await build(home, records, port)
        # The index built before serving (as after `citynode reindex`), so the figure is the
        # memory of serving, not of a first indexing run.
        reindex = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "citynode.cli", "reindex", "--home", str(home),
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await reindex.wait()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "citynode.cli", "serve", "--home", str(home),
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "CITYNODE_OPS_ACCESS_LOG": "false"}, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(1200):
                    try:
                        async with session.get(f"{base}/readyz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)
            idle = _rss_mb(process.pid)
            words = [w for lang in ("es", "en") for w in vocabulary()[lang][:3000]]
            counts: Counter[str] = Counter(records=records)
            samples: list[float] = []

            async def sample() -> None:
                while True:
                    samples.append(_rss_mb(process.pid))
                    await asyncio.sleep(0.25)

            sampler = asyncio.create_task(sample())
            started = time.monotonic()
            await asyncio.gather(*(_load(base, seconds, words, counts) for _ in range(clients)))
            elapsed = time.monotonic() - started
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            await process.wait()
    return {
        "records": records,
        "publish_per_s": rate,
        "rss_idle_mb": idle,
        "rss_max_mb": max(samples),
        "requests_per_s": counts["ok"] / elapsed,
        "errors": {k: v for k, v in counts.items() if k.startswith("status")},
        "seconds": elapsed,
    }


def report(figures: dict[str, Any]) -> list[str]:
    return [
        f"built {figures['records']:,} records at {figures['publish_per_s']:,.0f} /s",
        f"serve RSS idle                 {figures['rss_idle_mb']:>8.0f} MB",
        f"serve RSS max under search load {figures['rss_max_mb']:>7.0f} MB   (issue: <= 300 MB "
        f"at 100k records)",
        f"load: {figures['requests_per_s']:,.0f} req/s for {figures['seconds']:.0f} s "
        f"(80% distinct searches, 20% record pages); errors {figures['errors'] or 'none'}",
    ]
