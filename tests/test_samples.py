"""The sample records `make demo` loads: Medellín (from two public texts cited in
citynode/samples/README.md) and two illustrative peers, Lisboa and Montevideo.

Drafts leave out what the node fills in; `complete_draft` adds it the way a node would, so every
draft can be checked against the record model exactly as it will be published.

Sourcing of the Medellín records: they keep only what the two texts say. Every text in them was
written by the project, not by the city, so every text field is marked `editorial`; a status,
responsible body or period the texts do not give is marked `illustrative` (field by field), and
no record carries lessons learned or transferability the city never wrote.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import citynode
import vocab
from citynode.imports.csv_terms import THEME_SLUGS
from protocol.records import RECORD_CONTEXT, parse_record, record_to_builtins

SAMPLES = Path(citynode.__file__).parent / "samples"
#: The figures the two cited texts state (IEEE Smart Cities profile: 33 parks, 200+ schools,
#: 10,000 people a year, 2% of GDP; Cities Coalition for Digital Rights page: ApropiaTIC 10,000+,
#: EVA 13,700 / 7,800 / 10,600, 13 of 16 comunas, 50% rural disconnection). A Medellín
#: measurement may state no other figure.
SOURCE_FIGURES = {33, 200, 10_000, 2, 13_700, 7_800, 10_600, 13, 50}
#: Dates the texts give: Medellín Ciudad Inteligente since 2007, EVA created in 2020, Medellín
#: Digital created by Agreement 05 of 2008.
SOURCE_START_DATES = {
    "records/medellin-ciudad-inteligente": "2007",
    "records/eva-escuela-virtual": "2020",
    "records/medellin-digital": "2008",
}
#: Statuses and responsible bodies the texts state (the plan "is at the proposal stage", the
#: guide "was co-created"; Ruta N leads, MedeINN runs its lab and centre, the district
#: administration complies with Law 1712, the pact is between university, business, government
#: and society).
SOURCE_STATUSES = {"records/plan-distrital-conectividad", "records/guia-derechos-digitales-latam"}
SOURCE_RESPONSIBLE = {
    "records/ruta-n",
    "records/medeinn",
    "records/centro-diseno-regulatorio",
    "records/transparencia-acceso-informacion",
    "records/gran-pacto-innovacion",
}
TEXT_FIELDS = ("title", "summary", "description", "problem", "approach", "responsible", "keywords")

#: city directory -> (base URL of its demo node, languages every record is written in, Wikidata)
CITIES = {
    "medellin": ("https://medellin.example/", ("es", "en"), "Q48278"),
    "lisboa": ("https://lisboa.example/", ("pt", "en"), "Q597"),
    "montevideo": ("https://montevideo.example/", ("es", "en"), "Q1335"),
}
#: The urban practice theme slugs agreed for the project scheme (theme#<slug>).
THEMES = {
    "digital-inclusion",
    "connectivity",
    "digital-skills",
    "open-data",
    "e-government",
    "innovation-ecosystem",
    "smart-mobility",
    "public-safety",
    "education",
    "health",
    "environment",
    "energy",
    "housing",
    "participation",
    "transparency",
    "accessibility",
    "entrepreneurship",
    "culture",
    "water",
    "waste",
    "public-space",
    "regulation",
}
NODE_METADATA = ("version", "previousVersion", "issued", "modified", "publisher", "proof")
PRACTICE_TYPES = {"Project", "Policy", "Programme"}
STATUS = "https://w3id.org/citynode/status#"


def complete_draft(
    draft: dict[str, Any], base: str = "https://medellin.example/", publisher: str | None = None
) -> dict[str, Any]:
    """The draft as the node would publish it, minus the proof: context, absolute ids, metadata."""
    host = base.split("//", 1)[1].rstrip("/")
    document = {
        "@context": list(RECORD_CONTEXT),
        **draft,
        "id": base + draft["id"],
        "version": 1,
        "issued": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "publisher": publisher or f"did:web:{host}",
    }
    if "resultOf" in draft and not draft["resultOf"].startswith(("http://", "https://")):
        document["resultOf"] = base + draft["resultOf"]
    return document


def load(city: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SAMPLES / city / "records.jsonld").read_text("utf-8"))
    return document


def drafts(city: str) -> list[dict[str, Any]]:
    graph: list[dict[str, Any]] = load(city)["@graph"]
    return graph


def practices(city: str) -> list[dict[str, Any]]:
    return [d for d in drafts(city) if d["type"] in PRACTICE_TYPES]


def results(city: str) -> list[dict[str, Any]]:
    return [d for d in drafts(city) if d["type"] == "Result"]


ALL_DRAFTS = [
    pytest.param(city, draft, id=f"{city}/{draft['id']}")
    for city in CITIES
    for draft in drafts(city)
]


def test_each_file_is_one_graph_with_the_bundled_context() -> None:
    for city in CITIES:
        document = load(city)
        assert set(document) == {"@context", "@graph"}
        assert document["@context"] == RECORD_CONTEXT


@pytest.mark.parametrize(("city", "draft"), ALL_DRAFTS)
def test_draft_parses_once_the_node_metadata_is_filled(city: str, draft: dict[str, Any]) -> None:
    base = CITIES[city][0]
    document = complete_draft(draft, base)
    record = parse_record(document)
    # Canonical: nothing the model would drop or rewrite (defaults spelled out, for instance), so
    # the document signed is the document stored.
    assert record_to_builtins(record) == document


@pytest.mark.parametrize(("city", "draft"), ALL_DRAFTS)
def test_draft_has_a_relative_id_and_no_node_metadata(city: str, draft: dict[str, Any]) -> None:
    assert re.fullmatch(r"records/[a-z0-9]+(-[a-z0-9]+)*", draft["id"])
    assert "@context" not in draft
    assert not set(NODE_METADATA) & set(draft)


@pytest.mark.parametrize(("city", "draft"), ALL_DRAFTS)
def test_title_and_summary_in_the_city_languages(city: str, draft: dict[str, Any]) -> None:
    languages = CITIES[city][1]
    for field in ("title", "summary"):
        assert set(languages) <= set(draft.get(field, {})), f"{draft['id']} {field}"


@pytest.mark.parametrize(("city", "draft"), ALL_DRAFTS)
def test_themes_sdgs_and_place(city: str, draft: dict[str, Any]) -> None:
    for theme in draft.get("themes", []):
        slug = theme.removeprefix("https://w3id.org/citynode/theme#")
        eu = theme.startswith("http://publications.europa.eu/resource/authority/data-theme/")
        assert eu or slug in THEMES, theme
    if draft["type"] in PRACTICE_TYPES:
        assert draft["themes"] and draft["sdgs"], draft["id"]
        assert draft["spatial"] == f"http://www.wikidata.org/entity/{CITIES[city][2]}"
    for sdg in draft.get("sdgs", []):
        assert sdg.removeprefix("http://metadata.un.org/sdg/") in _sdg_codes(), sdg


def test_agreed_themes_are_in_the_theme_scheme() -> None:
    assert THEMES <= THEME_SLUGS


@pytest.mark.parametrize("city", CITIES)
def test_slugs_unique_and_results_point_at_practices_in_the_same_file(city: str) -> None:
    ids = [draft["id"] for draft in drafts(city)]
    assert len(ids) == len(set(ids))
    practice_ids = {draft["id"] for draft in practices(city)}
    for result in results(city):
        assert result["resultOf"] in practice_ids, result["id"]
        assert result["measurements"], result["id"]


def test_medellin_counts_and_mix() -> None:
    assert len(practices("medellin")) >= 12
    assert {draft["type"] for draft in practices("medellin")} == PRACTICE_TYPES
    assert len(results("medellin")) >= 6
    assert not any(draft.get("illustrative") is True for draft in drafts("medellin"))


def test_medellin_policies_name_their_legal_basis() -> None:
    by_slug = {draft["id"].removeprefix("records/"): draft for draft in drafts("medellin")}
    identifiers = {
        slug: {act.get("identifier", "") for act in draft.get("legalBasis", [])}
        for slug, draft in by_slug.items()
    }
    assert "Acuerdo Distrital 057 de 2022" in identifiers["minimo-vital-internet"]
    assert {"Ley 1712 de 2014", "Resolución 1519 de 2020"} <= identifiers[
        "transparencia-acceso-informacion"
    ]
    assert "Resolución 1519 de 2020" in identifiers["accesibilidad-web"]
    # Dates only where the sources give them (Law 1712: 6 March 2014; Res. 1519: 24 August 2020).
    dated = {
        act["identifier"]: act["dateDocument"]
        for draft in drafts("medellin")
        for act in draft.get("legalBasis", [])
        if "dateDocument" in act
    }
    assert dated == {"Ley 1712 de 2014": "2014-03-06", "Resolución 1519 de 2020": "2020-08-24"}


def test_medellin_has_no_dates_the_sources_do_not_give() -> None:
    given = {d["id"]: d["startDate"] for d in drafts("medellin") if "startDate" in d}
    assert given == SOURCE_START_DATES
    assert not any("endDate" in draft for draft in drafts("medellin"))


def test_medellin_figures_are_the_sources_figures() -> None:
    for result in results("medellin"):
        for measurement in result["measurements"]:
            assert measurement["value"] in SOURCE_FIGURES, (result["id"], measurement["value"])
            # The figure is the source's; only the period may be inferred, and then says so.
            assert measurement.get("illustrative", []) in ([], ["period"]), result["id"]


@pytest.mark.parametrize("draft", drafts("medellin"), ids=lambda d: d["id"])
def test_medellin_text_is_marked_editorial_and_inferences_illustrative(
    draft: dict[str, Any],
) -> None:
    assert set(draft["editorial"]) == {field for field in TEXT_FIELDS if field in draft}
    assert "lessonsLearned" not in draft and "transferability" not in draft
    marked = draft.get("illustrative", [])
    assert isinstance(marked, list), "Medellín records are real: only fields are marked"
    if draft["id"] not in SOURCE_STATUSES:
        assert "status" in marked
    if "responsible" in draft and draft["id"] not in SOURCE_RESPONSIBLE:
        assert "responsible" in marked
    for act in draft.get("legalBasis", []):
        assert act["editorial"] == ["title"]
    for measurement in draft.get("measurements", []):
        assert measurement["editorial"] == ["indicator"]
        if measurement["period"] != "2018":  # the Great Pact's target year is in the source
            assert measurement["illustrative"] == ["period"], draft["id"]


def _indicators(city: str) -> set[str]:
    return {
        m["measures"] for result in results(city) for m in result["measurements"] if "measures" in m
    }


@pytest.mark.parametrize("city", ["lisboa", "montevideo"])
def test_peers_report_three_indicators_medellin_reports(city: str) -> None:
    shared = _indicators(city) & _indicators("medellin")
    assert len(shared) >= 3, shared
    assert "https://w3id.org/citynode/indicator#people-trained" in shared


def test_adaptations_link_the_sample_cities() -> None:
    links = {
        (city, draft["id"], item["practice"])
        for city in CITIES
        for draft in practices(city)
        for item in draft.get("adaptedFrom", [])
    }
    assert (
        "montevideo",
        "records/wifi-plazas-barrios",
        "https://medellin.example/records/wifi-parques",
    ) in links
    medellin_ids = {CITIES["medellin"][0] + d["id"] for d in practices("medellin")}
    montevideo_ids = {CITIES["montevideo"][0] + d["id"] for d in practices("montevideo")}
    for city, _, target in links:
        assert target in medellin_ids | montevideo_ids
        assert not target.startswith(CITIES[city][0])


@pytest.mark.parametrize("city", ["lisboa", "montevideo"])
def test_peers_are_marked_illustrative_everywhere(city: str) -> None:
    assert 6 <= len(practices(city)) <= 8
    assert len(results(city)) == 3
    for draft in drafts(city):
        assert draft["illustrative"] is True, draft["id"]
        for text in draft["summary"].values():
            assert re.search(r"ilustrativ|illustrative", text, re.IGNORECASE), draft["id"]
        for measurement in draft.get("measurements", []):
            assert measurement["illustrative"] is True


@pytest.mark.parametrize(
    ("city", "own_language", "own_words"),
    [
        ("lisboa", "pt", ("competências digitais", "pessoas idosas")),
        ("montevideo", "es", ("habilidades digitales", "personas mayores")),
    ],
)
def test_peers_answer_digital_skills_for_older_people(
    city: str, own_language: str, own_words: tuple[str, ...]
) -> None:
    def matches(draft: dict[str, Any], language: str, words: tuple[str, ...]) -> bool:
        keywords = draft.get("keywords", {}).get(language, [])
        text = " ".join([draft["title"][language], draft["summary"][language], *keywords]).lower()
        return all(word in text for word in words)

    assert any(matches(d, "en", ("digital skills", "older people")) for d in practices(city))
    assert any(matches(d, own_language, own_words) for d in practices(city))


def test_node_descriptors() -> None:
    ports = set()
    for city, (_, languages, qid) in CITIES.items():
        node = json.loads((SAMPLES / city / "node.json").read_text("utf-8"))
        assert set(node) == {"name", "country", "wikidata", "languages", "port", "population"}
        assert node["population"]["count"] > 0 and node["population"]["source"]
        assert node["wikidata"] == f"http://www.wikidata.org/entity/{qid}"
        assert node["languages"] == list(languages)
        ports.add(node["port"])
    assert ports == {8701, 8702, 8703}
    medellin = json.loads((SAMPLES / "medellin" / "node.json").read_text("utf-8"))
    # The IEEE profile gives 2.4 million residents and no year: the year is marked illustrative.
    assert medellin["population"]["count"] == 2_400_000
    assert medellin["population"]["illustrative"] is True
    assert {k: v for k, v in medellin.items() if k != "population"} == {
        "name": "Medellín",
        "country": "CO",
        "wikidata": "http://www.wikidata.org/entity/Q48278",
        "languages": ["es", "en"],
        "port": 8701,
    }


def _sdg_codes() -> set[str]:
    """Goal and target codes of the UN SDG file shipped in vocab/."""
    files = sorted(Path(vocab.__file__).parent.glob("taxonomies/un-sdg-goals-targets*.ttl"))
    if not files:
        pytest.skip("vocab/taxonomies has no SDG goals and targets file")
    text = files[0].read_text("utf-8")
    return set(re.findall(r"^sdg:(\d+(?:\.\w+)?) a ", text, re.MULTILINE))
