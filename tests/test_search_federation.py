"""Cross-city search over a real three-node federation loaded with the shipped sample records.

Medellín (es/en), Lisboa (pt/en) and Montevideo (es/en) peer and sync as in `make demo`; then
searches typed in Spanish and in English must find the right practices of all three cities at
any node, facets must narrow correctly, and live search must survive a dead peer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from citynode.demo import SAMPLES
from citynode.imports.files import read_drafts
from citynode.publishing import Publisher
from citynode.storage import log as change_log
from citynode.storage.db import Database
from tests.federation_support import FAST, fed, follow, wait_for
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]
CITIES = (
    ("medellin", "Medellín", "CO"),
    ("lisboa", "Lisboa", "PT"),
    ("montevideo", "Montevideo", "UY"),
)


async def load_samples(node: RunningNode, slug: str) -> int:
    drafts = read_drafts(SAMPLES / slug / "records.jsonld", node.node.config.base_url)
    await node.node.publisher.publish(drafts)
    return len(drafts)


@pytest.fixture
async def federation(node_factory: Factory) -> list[RunningNode]:
    nodes = []
    total = 0
    for slug, name, country in CITIES:
        node = await node_factory(name, country=country, live_search=True, **FAST)
        total += await load_samples(node, slug)
        nodes.append(node)
    for follower in nodes:
        for followed in nodes:
            if follower is not followed:
                await follow(follower, followed)
    for follower in nodes:
        for followed in nodes:
            if follower is not followed:
                await fed(follower).worker.sync_now(followed.did)

    async def everywhere() -> bool:
        for node in nodes:
            _, body, _ = await request_json("GET", f"{node.url}/api/search?limit=1")
            if body["total"] < total:
                return False
        return True

    await wait_for(everywhere, what="every node to hold every city's records")
    return nodes


async def search(node: RunningNode, **params: Any) -> dict[str, Any]:
    status, body, _ = await request_json("GET", f"{node.url}/api/search", params=params)
    assert status == 200, body
    return body


def cities(body: dict[str, Any]) -> set[str]:
    return {hit["city"] for hit in body["hits"]}


async def test_spanish_and_english_queries_find_all_three_cities(
    federation: list[RunningNode],
) -> None:
    medellin, lisboa, montevideo = federation
    for node in federation:
        english = await search(node, q="digital skills older people", limit=50)
        assert cities(english) == {"Medellín", "Lisboa", "Montevideo"}, english["hits"]
        spanish = await search(node, q="conectividad", limit=50, lang="es")
        assert {"Medellín", "Lisboa", "Montevideo"} <= cities(spanish), spanish["hits"]
    # Lisboa writes in Portuguese and English: a Spanish word for the same concept finds it.
    cross = await search(medellin, q="datos abiertos", limit=50)
    lisbon_hits = [h for h in cross["hits"] if h["city"] == "Lisboa"]
    assert lisbon_hits, cross["hits"]
    assert all(h["origin"] == lisboa.url for h in lisbon_hits)
    assert any(any(w.startswith("concept") for w in h["why"]) for h in cross["hits"])
    hit = lisbon_hits[0]
    assert hit["signature"] == "verified" and hit["version"] >= 1 and hit["modified"]
    assert montevideo.url  # all three are live


async def test_facets_narrow_and_count(federation: list[RunningNode]) -> None:
    node = federation[0]
    everything = await search(node, q="digital", limit=100)
    by_city = {v["value"]: v["count"] for v in everything["facets"]["city"]}
    assert set(by_city) >= {"Lisboa", "Montevideo", "Medellín"}
    only_lisboa = await search(node, q="digital", city="Lisboa", limit=100)
    assert cities(only_lisboa) == {"Lisboa"}
    assert only_lisboa["total"] == by_city["Lisboa"]
    two = await search(node, q="digital", city=["Lisboa", "Montevideo"], limit=100)
    assert cities(two) == {"Lisboa", "Montevideo"}
    assert two["total"] == by_city["Lisboa"] + by_city["Montevideo"]
    projects = await search(node, q="digital", city="Lisboa", type="Project", limit=100)
    assert {h["type"] for h in projects["hits"]} <= {"Project"}
    assert projects["total"] <= only_lisboa["total"]
    # Facets people type, any case; a value that names nothing is a 400 listing the valid ones.
    typed = await search(node, q="digital", city="lisboa", type="project", limit=100)
    assert typed["total"] == projects["total"]
    status, refused, _ = await request_json(
        "GET", f"{node.url}/api/search", params={"q": "digital", "city": "Atlantis"}
    )
    assert status == 400 and "Lisboa" in refused["detail"]["valid"], refused
    status, refused, _ = await request_json(
        "GET", f"{node.url}/api/search", params={"theme": "nowhere"}
    )
    assert status == 400 and "connectivity" in refused["detail"]["valid"], refused
    goal = await search(node, sdg_goal="4", limit=100)
    assert goal["total"] > 0 and goal["total"] == await _count(node, "sdg_goal", "4")


async def _count(node: RunningNode, facet: str, value: str) -> int:
    """A facet value's count on the landing page (every record)."""
    landing = await search(node)
    values = {v["value"].rsplit("/", 1)[-1]: v["count"] for v in landing["facets"][facet]}
    return values[value]


async def test_people_typed_syntax_never_fails(federation: list[RunningNode]) -> None:
    node = federation[0]
    for text in ['"wifi', "wifi AND (parques", "NEAR(a b)", "-", "*", "title:wifi", "^x", "))"]:
        body = await search(node, q=text)
        assert isinstance(body["hits"], list)
    long = await search(node, q="wifi " * 200)
    assert long["notices"], long


async def test_similar_practices_come_from_other_cities(federation: list[RunningNode]) -> None:
    medellin = federation[0]
    _, page, _ = await request_json("GET", f"{medellin.url}/records?type=Programme&limit=50")
    found = False
    for item in page["items"]:
        slug = item["id"].rsplit("/", 1)[1]
        _, body, _ = await request_json("GET", f"{medellin.url}/records/{slug}/similar")
        assert all(hit["city"] != "Medellín" for hit in body["similar"])
        found = found or bool(body["similar"])
    assert found


async def test_live_search_lists_the_peers_that_did_not_answer(
    federation: list[RunningNode], tmp_path: Path
) -> None:
    medellin, lisboa, montevideo = federation
    await montevideo.stop()
    body = await search(medellin, q="digital skills", scope="live", limit=20)
    assert montevideo.url in body["missing"]
    assert lisboa.url in body["answered"]
    # The stopped peer refuses connections; what the deadline does against a hanging peer is
    # tested in test_search_fanout.py and measured in bench/search_http.py.
    assert body["hits"]
    # Lisboa's answers are records Medellín also holds: fused once each, not listed twice.
    ids = [hit["id"] for hit in body["hits"]]
    assert len(ids) == len(set(ids))
    assert any(hit["city"] == "Lisboa" for hit in body["hits"])


async def test_cached_answers_never_outlive_a_write(node_factory: Factory) -> None:
    node = await node_factory("Medellín")
    first = await search(node, q="bicicletas")
    assert first["total"] == 0
    await node.node.publisher.publish(
        [
            {
                "type": "Project",
                "id": "records/bici",
                "title": {"es": "Bicicletas públicas"},
                "summary": {"es": "Préstamo de bicicletas."},
                "status": "https://w3id.org/citynode/status#ongoing",
            }
        ]
    )
    # A write through the publisher (not the API): the search waits for it with `wait_for`.
    head = await change_log.head(node.node.db.reader)
    again = await search(node, q="bicicletas", wait_for=head)
    assert again["total"] == 1
    await node.node.publisher.withdraw("records/bici")
    head = await change_log.head(node.node.db.reader)
    assert (await search(node, q="bicicletas", wait_for=head))["total"] == 0


async def test_a_write_by_another_process_shows_in_search(node_factory: Factory) -> None:
    """`citynode publish` writes the database from another process: the server's indexer sees
    it in the change log within a second (it polls the log's head), and the search cache,
    keyed by the index position, never serves the older answer after that."""
    node = await node_factory("Medellín")
    assert (await search(node, q="tranvía"))["total"] == 0
    other = await Database.open(node.node.db.path)  # a second writer, like another process
    try:
        publisher = Publisher(other, node.node.keyring, node.node.origin)
        await publisher.publish(
            [
                {
                    "type": "Project",
                    "id": "records/tranvia",
                    "title": {"es": "Tranvía de Ayacucho"},
                    "summary": {"es": "Tranvía."},
                    "status": "https://w3id.org/citynode/status#ongoing",
                }
            ]
        )
    finally:
        await other.close()

    async def found() -> bool:
        return bool((await search(node, q="tranvía"))["total"] == 1)

    took = await wait_for(found, within=5.0, what="the CLI-like write in search")
    assert took < 2.0, took


async def test_an_api_publish_answers_once_searchable(node_factory: Factory) -> None:
    node = await node_factory("Medellín")
    draft = {
        "type": "Project",
        "id": "records/huertas",
        "title": {"es": "Huertas urbanas comunitarias"},
        "summary": {"es": "Huertas en terrazas."},
        "status": "https://w3id.org/citynode/status#ongoing",
    }
    status, body, _ = await request_json(
        "POST", f"{node.url}/api/records", json=[draft], headers=node.auth()
    )
    assert status == 201 and body["searchable"] is True and body["position"] > 0, body
    found = await search(node, q="huertas")
    assert [hit["id"] for hit in found["hits"]] == [f"{node.url}/records/huertas"]
    assert found["position"] >= body["position"]
    status, body, _ = await request_json(
        "DELETE", f"{node.url}/api/records/huertas", headers=node.auth()
    )
    assert status == 200 and body["searchable"] is True, body
    assert (await search(node, q="huertas"))["total"] == 0
