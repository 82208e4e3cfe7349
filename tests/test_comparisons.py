"""Comparable indicators and lineage across the three sample cities (issue 9, "Done when"):
`/api/indicators/people-trained/compare` lines up the three cities in one unit, and a Medellín
practice shows the Montevideo practice adapted from it, and the other way round."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.samples_federation import sample_federation
from tests.support import RunningNode, request_json

IND = "https://w3id.org/citynode/indicator#"


@pytest.fixture
async def cities(node_factory: Callable[..., Awaitable[RunningNode]]) -> dict[str, RunningNode]:
    return await sample_federation(node_factory)


async def test_people_trained_lines_up_the_three_cities_in_one_unit(
    cities: dict[str, RunningNode],
) -> None:
    medellin, lisboa = cities["medellin"], cities["lisboa"]
    status, body, _ = await request_json(
        "GET", f"{medellin.url}/api/indicators/people-trained/compare"
    )
    assert status == 200, body
    assert body["unit"] == "{person}" and body["perCapitaPer"] == 1000
    by_city = {series["city"]["name"]: series for series in body["cities"]}
    assert set(by_city) == {"Medellín", "Lisboa", "Montevideo"}
    # Lisboa reports thousands of people (10*3.{person}): converted, not copied.
    observed = by_city["Lisboa"]["observed"]
    assert [(p["reportedValue"], p["reportedUnit"], p["value"]) for p in observed] == [
        (1.5, "10*3.{person}", 1500.0)
    ]
    assert observed[0]["record"] == f"{lisboa.url}/records/seniores-formados"
    assert observed[0]["illustrative"] is True
    population = by_city["Lisboa"]["city"]["population"]["count"]
    assert observed[0]["perCapita"] == pytest.approx(1500 / population * 1000)
    medellin_points = by_city["Medellín"]["observed"] + by_city["Medellín"]["target"]
    assert {p["value"] for p in medellin_points} == {10000.0}
    assert by_city["Montevideo"]["baseline"][0]["value"] == 400.0
    # Every point links to a signed record that its origin serves.
    for series in body["cities"]:
        for point in series["observed"] + series["baseline"] + series["target"]:
            status, record, _ = await request_json("GET", point["record"])
            assert status == 200 and record["proof"]["type"] == "DataIntegrityProof"


async def test_indicators_list_the_cities_that_report_them(cities: dict[str, RunningNode]) -> None:
    status, body, _ = await request_json("GET", f"{cities['montevideo'].url}/api/indicators")
    assert status == 200
    by_id = {item["id"]: item for item in body["indicators"]}
    assert {c["name"] for c in by_id["public-wifi-points"]["cities"]} == {
        "Medellín",
        "Lisboa",
        "Montevideo",
    }
    assert by_id["fixed-broadband-subscriptions"]["sdgIndicator"] == "17.6.1"
    assert by_id["fixed-broadband-subscriptions"]["cities"] == []
    assert by_id["ict-skills-share"]["exactMatch"] == ["http://metadata.un.org/sdg/C040401"]


async def test_an_adaptation_shows_on_both_sides(cities: dict[str, RunningNode]) -> None:
    medellin, montevideo = cities["medellin"], cities["montevideo"]
    origin = f"{medellin.url}/records/wifi-parques"
    adapter = f"{montevideo.url}/records/wifi-plazas-barrios"
    # On Medellín's node, once Montevideo's record arrived: who adapted Medellín's practice.
    status, body, _ = await request_json(
        "GET", f"{medellin.url}/api/relations", params={"record": origin}
    )
    assert status == 200, body
    assert [(a["practice"]["id"], a["practice"]["city"]) for a in body["adaptations"]] == [
        (adapter, "Montevideo")
    ]
    assert body["adaptations"][0]["changes"]["es"].startswith("Plazas y espacios barriales")
    # On Montevideo's node: where its practice came from, held and named.
    status, body, _ = await request_json(
        "GET", f"{montevideo.url}/api/relations", params={"record": adapter}
    )
    assert status == 200
    assert [
        (a["adaptedFrom"]["id"], a["adaptedFrom"]["city"], a["adaptedFrom"]["held"])
        for a in body["adaptedFrom"]
    ] == [(origin, "Medellín", True)]
    # The whole map, as data, on any node.
    status, body, _ = await request_json("GET", f"{cities['lisboa'].url}/api/lineage")
    assert status == 200
    pairs = {(a["practice"]["city"], a["adaptedFrom"]["city"]) for a in body["adaptations"]}
    assert pairs == {("Montevideo", "Medellín"), ("Lisboa", "Montevideo")}


async def test_results_and_parts_show_from_the_practice(cities: dict[str, RunningNode]) -> None:
    medellin = cities["medellin"]
    record = f"{medellin.url}/records/eva-escuela-virtual"
    status, body, _ = await request_json(
        "GET", f"{medellin.url}/api/relations", params={"record": record}
    )
    assert status == 200
    assert [r["id"] for r in body["results"]] == [f"{medellin.url}/records/eva-resultados"]
