"""Network faults between three cities on hosts in network namespaces (tests/netns.py): each a
real `citynode serve` behind the shipped nginx with TLS.

- a partition: one city cut off, writes on both sides, heal, everyone converges, nothing lost;
- a slow peer: a delaying relay in front of one city (this kernel has no netem) does not hold
  back federation between the others.

Sizes here keep `make test` short; `make soak` runs the partition with 10,000 records
(CITYNODE_FAULT_RECORDS) and prints the heal-to-convergence time.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.drafts import practice
from tests.netns import City, cities, converged, peer_all, publish, write_drafts

__all__ = ["cities"]  # the fixture

Cities = Callable[[list[str]], Awaitable[list[City]]]
#: Records written on each side of the partition.
PER_SIDE = int(os.environ.get("CITYNODE_FAULT_RECORDS", "600")) // 2


async def start_all(group: list[City]) -> None:
    for city in group:
        await city.start()
    for city in group:
        await city.wait_ready()
    await peer_all(group)


async def write(city: City, prefix: str, count: int) -> list[str]:
    drafts = [practice(f"{prefix}-{i:05}") for i in range(count)]
    return await publish(city, write_drafts(city.folder / f"{prefix}.json", drafts))


def holds(city: City, ids: list[str]) -> int:
    held = city.held()
    return sum(1 for record_id in ids if record_id in held)


async def wait_holding(city: City, ids: list[str], within: float) -> float:
    started = time.monotonic()
    while holds(city, ids) < len(ids):
        if time.monotonic() - started > within:
            raise AssertionError(
                f"{city.name} holds {holds(city, ids)} of {len(ids)} after {within} s\n"
                + city.tail()
            )
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.mark.timeout(600)  # processes start slowly while the rest of the suite runs
async def test_partition_then_heal_converges_with_nothing_lost(cities: Cities) -> None:
    medellin, lisboa, montevideo = group = await cities(["Medellin", "Lisboa", "Montevideo"])
    await start_all(group)
    before = [await write(city, f"{city.name.lower()}-before", 3) for city in group]
    await converged(group, within=60)

    medellin.host.cut()  # Medellín alone | Lisboa and Montevideo
    cut_off = await write(medellin, "medellin-alone", PER_SIDE)
    mainland = await write(lisboa, "lisboa-mainland", PER_SIDE)
    # The connected side keeps federating; the cut-off side hears nothing.
    await wait_holding(montevideo, mainland, within=120)
    assert holds(medellin, mainland) == 0 and holds(lisboa, cut_off) == 0

    medellin.host.heal()
    healed = time.monotonic()
    first = await wait_holding(medellin, mainland[:1], within=60)  # the sides found each other
    await converged(group, within=180)
    healed_in = time.monotonic() - healed
    print(
        f"\npartition heal: {2 * PER_SIDE} records written apart; first record across "
        f"{first:.1f} s, all three converged {healed_in:.1f} s after the link came back",
        file=sys.stderr,
    )
    every = [record_id for ids in (*before, cut_off, mainland) for record_id in ids]
    assert len(every) == len(set(every)) == 9 + 2 * PER_SIDE
    for city in group:
        held = city.held()
        assert all(held.get(record_id) == 1 for record_id in every), city.name
        assert len(held) == len(every), (city.name, len(held))
        assert city.duplicates() == 0
        assert city.log_errors() == [], city.name


@pytest.mark.timeout(600)
async def test_a_slow_peer_does_not_hold_back_the_others(cities: Cities) -> None:
    medellin, lisboa, montevideo = group = await cities(["Medellin", "Lisboa", "Montevideo"])
    # Montevideo's nginx forwards to a relay that holds every chunk for DELAY seconds each way.
    delay = 2.0
    # Every request to Montevideo takes several relay delays (one per chunk each way): the
    # pullers' deadline must outlast that, or the slow peer would just be a dead one.
    for city in group:
        city.env["CITYNODE_FEDERATION_REQUEST_TIMEOUT_SECONDS"] = "60"
    await montevideo.host.spawn(
        sys.executable, "-m", "tests.tcp_proxy", "127.0.0.1", "8701", "127.0.0.1", "8700",
        "--delay", str(delay), log=montevideo.folder / "relay.log",
    )  # fmt: skip
    await medellin.start()
    await lisboa.start()
    await montevideo.start(upstream_port=8701)
    for city in group:
        await city.wait_ready(within=120)
    await peer_all(group)
    await converged(group, within=120)

    # Montevideo publishes: the others now pull from it through the slow relay.
    slow = await write(montevideo, "montevideo-slow", 50)
    # Meanwhile Medellín publishes twice; Lisboa must get both batches while every request to
    # Montevideo still takes at least two relay delays (request and answer).
    for batch in range(2):
        fresh = await write(medellin, f"medellin-{batch}", 50)
        took = await wait_holding(lisboa, fresh, within=60)
        assert took < 2 * delay, f"Lisboa waited {took:.1f} s for Medellín behind a slow peer"
    await wait_holding(medellin, slow, within=120)
    await wait_holding(lisboa, slow, within=120)
    await converged(group, within=120)
    for city in group:
        assert city.duplicates() == 0
        assert city.log_errors() == [], city.name
