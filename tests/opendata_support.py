"""The three sample cities on loopback, federated, for the open-data tests."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from citynode.imports.files import read_drafts
from tests.federation_support import FAST, fed, follow, publish, versions, wait_for
from tests.support import RunningNode

SAMPLES = Path(__file__).parent.parent / "citynode" / "samples"
CITIES = ("medellin", "lisboa", "montevideo")

Factory = Callable[..., Awaitable[RunningNode]]


def sample_drafts(city: str, base_url: str) -> list[dict[str, Any]]:
    return read_drafts(SAMPLES / city / "records.jsonld", base_url)


async def start_city(node_factory: Factory, city: str) -> RunningNode:
    info = json.loads((SAMPLES / city / "node.json").read_text(encoding="utf-8"))
    node = await node_factory(info["name"], country=info["country"], **FAST)
    await publish(node, *sample_drafts(city, node.url))
    return node


async def three_cities(node_factory: Factory) -> list[RunningNode]:
    """Medellín, Lisboa and Montevideo with their sample records; Medellín holds all three."""
    nodes = [await start_city(node_factory, city) for city in CITIES]
    medellin = nodes[0]
    expected = sum([len(await versions(n)) for n in nodes])
    for other in nodes[1:]:
        await follow(medellin, other)

    async def synced() -> bool:
        await fed(medellin).worker.sync_now()
        return len(await versions(medellin)) >= expected

    await wait_for(synced, within=30, what="Medellín to hold the three cities' records")
    return nodes
