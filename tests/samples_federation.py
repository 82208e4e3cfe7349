"""The three sample cities as real nodes on loopback, published and federated as `make demo`
does, for the tests that need the whole federation (comparisons, lineage)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from citynode.demo import SAMPLES, rewrite_addresses, sample_city, stand_in_base
from citynode.imports.files import read_drafts
from tests.federation_support import FAST, fed, follow, publish
from tests.support import RunningNode

CITIES = ("medellin", "lisboa", "montevideo")


def profile(slug: str) -> dict[str, Any]:
    city = sample_city(slug)
    people = city.population
    assert people is not None
    return {
        "languages": city.languages,
        "population": people.count,
        "population_year": people.year,
        "population_source": people.source,
        "population_illustrative": people.illustrative,
    }


async def sample_federation(
    node_factory: Callable[..., Awaitable[RunningNode]],
) -> dict[str, RunningNode]:
    """Start the three cities, publish their samples through the API, peer every city with
    every other one and pull once."""
    nodes = {
        slug: await node_factory(sample_city(slug).name, profile=profile(slug), **FAST)
        for slug in CITIES
    }
    bases = {stand_in_base(slug): f"{node.url}/" for slug, node in nodes.items()}
    for slug, node in nodes.items():
        drafts = read_drafts(SAMPLES / slug / "records.jsonld", node.url)
        await publish(node, *rewrite_addresses(drafts, bases))
    for node in nodes.values():
        for other in nodes.values():
            if other is not node:
                await follow(node, other)
    for node in nodes.values():
        for outcome in await fed(node).worker.sync_now():
            assert not outcome.error, outcome
    return nodes


def decode(body: Any) -> Any:
    return msgspec.json.decode(body) if isinstance(body, bytes) else body
