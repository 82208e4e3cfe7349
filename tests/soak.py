"""`make soak`: three nodes in their own processes under concurrent publish, sync, search and
page views for ten minutes (`--minutes`), then the checks:

- every acknowledged write is held by every node at its version or newer (zero lost);
- resident memory and open files stay bounded: the second half's peak is within 25% (plus a
  small allowance) of the first half's, read from each node's own /metrics;
- no ERROR line in any node's JSON log, and no 5xx answered to the load.

Exits non-zero when a check fails and prints the figures either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.crash_support import Served, check_store, cli
from tests.drafts import practice

WORDS = ("wifi", "parques", "internet", "public", "free", "gratis", "conectividad", "parks")


class Load:
    def __init__(self, nodes: list[Served]) -> None:
        self.nodes = nodes
        self.acked: dict[str, int] = {}  # record id -> version acknowledged
        self.status: Counter[str] = Counter()
        self.rng = random.Random(5)
        self.stop = asyncio.Event()

    async def publisher(self, session: aiohttp.ClientSession, n: int) -> None:
        count = 0
        while not self.stop.is_set():
            node = self.nodes[n % len(self.nodes)]
            count += 1
            if self.acked and self.rng.random() < 0.3:  # a new version of something held
                record_id = self.rng.choice(
                    [r for r in self.acked if r.startswith(node.url)] or [None]
                )
                if record_id:
                    slug = record_id.rsplit("/", 1)[1]
                    draft = practice(slug, summary={"en": f"revision {count}", "es": "revisión"})
                    async with session.put(
                        f"{node.url}/api/records/{slug}", json=draft, headers=node.auth()
                    ) as response:
                        self.status[str(response.status)] += 1
                        if response.status == 200:
                            body = await response.json()
                            for outcome in body["records"]:
                                self.acked[outcome["id"]] = outcome["version"]
                    continue
            drafts = [practice(f"soak-{n}-{count:06}-{i}") for i in range(5)]
            async with session.post(
                f"{node.url}/api/records", json=drafts, headers=node.auth()
            ) as response:
                self.status[str(response.status)] += 1
                if response.status == 201:
                    for outcome in (await response.json())["records"]:
                        self.acked[outcome["id"]] = outcome["version"]
            await asyncio.sleep(0.2)

    async def reader(self, session: aiohttp.ClientSession) -> None:
        while not self.stop.is_set():
            node = self.rng.choice(self.nodes)
            pick = self.rng.random()
            if pick < 0.5:
                query = "+".join(self.rng.sample(WORDS, self.rng.randint(1, 3)))
                url, accept = f"{node.url}/api/search?q={query}", "application/json"
            elif pick < 0.8 and self.acked:
                # A record's page at its own node (its id is its address there).
                url, accept = self.rng.choice(list(self.acked)), "text/html"
            else:
                url, accept = f"{node.url}/records?origin=all&limit=50", "application/json"
            async with session.get(url, headers={"Accept": accept}) as response:
                await response.read()
                self.status[str(response.status)] += 1


async def sample(node: Served, session: aiohttp.ClientSession) -> tuple[float, float]:
    """(resident MB, open files) of a node's process, from its /metrics."""
    async with session.get(f"{node.url}/metrics") as response:
        text = await response.text()
    values = {
        s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
    }
    return values["process_resident_memory_bytes"] / 2**20, values["process_open_fds"]


async def soak(minutes: float, folder: Path) -> int:
    env = {
        "CITYNODE_FEDERATION_SYNC_INTERVAL_SECONDS": "1",
        "CITYNODE_FEDERATION_RETRY_CAP_SECONDS": "2",
        "CITYNODE_OPS_LOG_FORMAT": "json",
    }
    nodes = [
        await Served.create(folder / name, name, **env)
        for name in ("Medellín", "Lisboa", "Montevideo")
    ]
    for node in nodes:
        await node.start()
    try:
        for node in nodes:
            for other in nodes:
                if other is not node:
                    done = await cli("peer", "add", "--home", str(node.home), other.url)
                    assert done.returncode == 0, done.stdout + done.stderr
        load = Load(nodes)
        series: dict[str, list[tuple[float, float, float]]] = {n.url: [] for n in nodes}
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            workers = [asyncio.create_task(load.publisher(session, n)) for n in range(3)]
            workers += [asyncio.create_task(load.reader(session)) for _ in range(6)]
            while time.monotonic() - started < minutes * 60:
                await asyncio.sleep(5)
                for node in nodes:
                    rss, files = await sample(node, session)
                    series[node.url].append((time.monotonic() - started, rss, files))
                print(
                    f"{time.monotonic() - started:6.0f} s  acked {len(load.acked):6}  "
                    + "  ".join(f"{s[-1][1]:5.0f} MB {s[-1][2]:4.0f} fds" for s in series.values()),
                    flush=True,
                )
            load.stop.set()
            await asyncio.gather(*workers)
        # Let federation finish what the load left in flight, then compare.
        deadline = time.monotonic() + 120
        while True:
            missing = {}
            for node in nodes:
                held = check_store(node.home)
                missing[node.url] = sum(
                    1
                    for record_id, version in load.acked.items()
                    if held.get(record_id, 0) < version
                )
            if not any(missing.values()) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
    finally:
        for node in nodes:
            await node.stop()

    failures = []
    if any(missing.values()):
        failures.append(f"acknowledged writes missing: {missing}")
    for url, points in series.items():
        half = len(points) // 2
        first, second = points[:half] or points, points[half:] or points
        rss_bound = max(p[1] for p in first) * 1.25 + 20
        fds_bound = max(p[2] for p in first) + 32
        print(
            f"{url}: RSS first half max {max(p[1] for p in first):.0f} MB, second half max "
            f"{max(p[1] for p in second):.0f} MB; open files {max(p[2] for p in first):.0f} / "
            f"{max(p[2] for p in second):.0f}"
        )
        if max(p[1] for p in second) > rss_bound:
            failures.append(f"{url}: memory grew past {rss_bound:.0f} MB")
        if max(p[2] for p in second) > fds_bound:
            failures.append(f"{url}: open files grew past {fds_bound:.0f}")
    for node in nodes:
        errors = [
            line
            for line in (node.home / "serve.log").read_text(errors="replace").splitlines()
            if line.startswith("{") and json.loads(line).get("level") in ("error", "critical")
        ]
        if errors:
            failures.append(f"{node.url}: {len(errors)} error lines, e.g. {errors[0][:300]}")
    server_errors = {k: v for k, v in load.status.items() if k.startswith("5")}
    if server_errors:
        failures.append(f"5xx answers: {server_errors}")
    print(f"acknowledged writes: {len(load.acked)}; answers by status: {dict(load.status)}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print("soak: " + ("failed" if failures else "passed"))
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citynode-soak-") as tmp:
        return asyncio.run(soak(args.minutes, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
