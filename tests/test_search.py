"""Search over a real store and tantivy index: analysis, ranking, facets, index upkeep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from citynode.errors import BadRequest
from citynode.origins import Origin
from citynode.search.query import SearchResult
from citynode.search.similar import similar
from tests.search_support import Index, opened, signed_fields

MEDELLIN = Origin(
    did="did:web:medellin.example",
    base_url="https://medellin.example",
    city="Medellín",
    country="CO",
)
LISBOA = Origin(
    did="did:web:lisboa.example", base_url="https://lisboa.example", city="Lisboa", country="PT"
)
TORONTO = Origin(
    did="did:web:toronto.example", base_url="https://toronto.example", city="Toronto", country="CA"
)
THEME = "https://w3id.org/citynode/theme#"
SDG = "http://metadata.un.org/sdg/"
LABELS = {
    "connectivity": {THEME + "connectivity"},
    "conectividad": {THEME + "connectivity"},
    "public space": {THEME + "public-space"},
}


def record(origin: Origin, n: int, title: dict[str, str], **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        **signed_fields(origin.did),
        "type": "Project",
        "id": f"{origin.base_url}/records/{n}",
        "version": 1,
        "issued": "2022-01-01T00:00:00Z",
        # Later for a higher n (sort=date), and a valid stamp for any n.
        "modified": f"2022-01-01T{n // 60:02d}:{n % 60:02d}:00Z",
        "publisher": origin.did,
        "title": title,
        "summary": {next(iter(title)): "Una práctica de la ciudad."},
        "status": "https://w3id.org/citynode/status#ongoing",
    }
    doc.update(fields)
    return doc


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[Index]:
    async with opened(tmp_path, LABELS) as index:
        yield index


async def put(conn: Index, *docs: tuple[dict[str, Any], Origin]) -> None:
    await conn.put(*docs)


async def ask(conn: Index, text: str = "", **kwargs: Any) -> SearchResult:
    return await conn.ask(text, **kwargs)


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


async def test_diacritics_and_case_are_folded(conn: Index) -> None:
    doc = record(MEDELLIN, 1, {"es": "CONECTIVIDAD rural en Medellín"})
    await put(conn, (doc, MEDELLIN))
    assert ids(await ask(conn, "conectividad")) == [doc["id"]]
    assert ids(await ask(conn, "Medellin")) == [doc["id"]]
    assert ids(await ask(conn, "MEDELLÍN")) == [doc["id"]]


@pytest.mark.parametrize(
    ("lang", "indexed", "asked"),
    [
        ("es", "Red de parque lineal", "parques"),
        ("es", "Participación ciudadana", "participacion"),
        ("en", "Digital skills training", "trainings"),
        ("en", "Flooding of rivers", "flooded"),
        ("pt", "Políticas de inclusões sociais", "inclusão"),
        ("pt", "Educação ambiental", "educacao"),
    ],
)
async def test_stemming(conn: Index, lang: str, indexed: str, asked: str) -> None:
    doc = record(MEDELLIN, 1, {lang: indexed})
    await put(conn, (doc, MEDELLIN))
    assert ids(await ask(conn, asked)) == [doc["id"]]


async def test_title_or_summary_match_ranks_above_body_match(conn: Index) -> None:
    body = record(
        MEDELLIN,
        1,
        {"es": "Proyecto de barrio"},
        description={"es": "Una biblioteca pública para el barrio."},
    )
    title = record(MEDELLIN, 2, {"es": "Biblioteca pública del barrio"})
    summary = record(
        MEDELLIN, 3, {"es": "Proyecto de barrio"}, summary={"es": "La biblioteca abre de noche."}
    )
    await put(conn, (body, MEDELLIN), (title, MEDELLIN), (summary, MEDELLIN))
    # Title and summary (the head fields) over the rest of the text.
    found = ids(await ask(conn, "biblioteca"))
    assert set(found[:2]) == {title["id"], summary["id"]} and found[2] == body["id"]


async def test_snippet_marks_matches_and_escapes_html(conn: Index) -> None:
    doc = record(
        MEDELLIN,
        1,
        {"es": "Parques"},
        summary={"es": "Los <script>alert(1)</script> parques del río & la ciudad."},
    )
    await put(conn, (doc, MEDELLIN))
    [hit] = (await ask(conn, "parque")).hits
    assert "<mark>parques</mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet
    assert "&amp;" in hit.snippet
    assert hit.why == ["text"]
    assert (hit.city, hit.country, hit.origin) == ("Medellín", "CO", "https://medellin.example")
    assert (hit.signature, hit.version, hit.modified) == ("verified", 1, doc["modified"])


async def test_title_in_reader_language_falls_back_to_original(conn: Index) -> None:
    both = record(MEDELLIN, 1, {"es": "Parque lineal", "en": "Linear park"})
    only = record(LISBOA, 2, {"pt": "Parque urbano"})
    await put(conn, (both, MEDELLIN), (only, LISBOA))
    titles = {
        hit.id: (hit.title, hit.title_lang) for hit in (await ask(conn, "parque", lang="en")).hits
    }
    assert titles == {both["id"]: ("Linear park", "en"), only["id"]: ("Parque urbano", "pt")}


async def corpus_for_facets(conn: Index) -> dict[str, dict[str, Any]]:
    docs = {
        "a": record(
            MEDELLIN,
            1,
            {"es": "Agua para el barrio"},
            themes=[THEME + "water"],
            sdgs=[SDG + "6.1"],
            startDate="2019-03-01",
        ),
        "b": record(
            MEDELLIN,
            2,
            {"es": "Agua y parques"},
            type="Policy",
            themes=[THEME + "water", THEME + "public-space"],
            sdgs=[SDG + "11"],
            status="https://w3id.org/citynode/status#completed",
        ),
        "c": record(LISBOA, 3, {"pt": "Água para todos"}, sdgs=[SDG + "6"], startDate="2021-05-01"),
        "d": record(
            TORONTO,
            4,
            {"en": "Agua: water for all"},
            themes=[THEME + "water"],
            sdgs=[SDG + "11.2"],
            startDate="2021-01-01",
        ),
    }
    origins = {"a": MEDELLIN, "b": MEDELLIN, "c": LISBOA, "d": TORONTO}
    await put(conn, *((docs[k], origins[k]) for k in docs))
    return docs


def counts(result: SearchResult, facet: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[facet]}


async def test_facet_counts_over_matches(conn: Index) -> None:
    docs = await corpus_for_facets(conn)
    result = await ask(conn, "agua")
    assert sorted(ids(result)) == sorted(d["id"] for d in docs.values())
    assert counts(result, "city") == {"Medellín": 2, "Lisboa": 1, "Toronto": 1}
    assert counts(result, "country") == {"CO": 2, "PT": 1, "CA": 1}
    assert counts(result, "type") == {"Project": 3, "Policy": 1}
    assert counts(result, "theme") == {THEME + "water": 3, THEME + "public-space": 1}
    # A target implies its goal: 6.1 counts for goal 6, 11.2 for goal 11.
    assert counts(result, "sdg_goal") == {SDG + "6": 2, SDG + "11": 2}
    assert counts(result, "sdg_target") == {SDG + "6.1": 1, SDG + "11.2": 1}
    # The practice's own year (b has no start date and no results: no year), and separately
    # the year it was published.
    assert counts(result, "year") == {"2019": 1, "2021": 2}
    assert counts(result, "published") == {"2022": 4}
    assert counts(result, "language") == {"es": 2, "pt": 1, "en": 1}
    water = next(v for v in result.facets["theme"] if v.value == THEME + "water")
    assert water.label  # labelled from the taxonomy
    assert result.total == 4 and result.total_exact and result.facets_exact


async def test_each_facet_narrows(conn: Index) -> None:
    docs = await corpus_for_facets(conn)
    a, b, c, d = (docs[k]["id"] for k in "abcd")
    cases = {
        "city": (["Medellín"], {a, b}),
        "country": (["PT", "CA"], {c, d}),  # OR within a facet
        "type": (["Policy"], {b}),
        "status": (["https://w3id.org/citynode/status#completed"], {b}),
        "theme": ([THEME + "public-space"], {b}),
        "sdg_goal": ([SDG + "11"], {b, d}),  # d is tagged 11.2 only
        "sdg_target": ([SDG + "6.1"], {a}),
        "year": (["2021"], {c, d}),
        "published": (["2022"], {a, b, c, d}),
        "language": (["pt"], {c}),
    }
    for facet, (values, expected) in cases.items():
        for text in ("agua", ""):
            result = await ask(conn, text, facets={facet: values})
            assert set(ids(result)) == expected, (facet, text)
            assert result.total == len(expected)


async def test_facets_and_across_or_within(conn: Index) -> None:
    docs = await corpus_for_facets(conn)
    result = await ask(conn, "", facets={"city": ["Medellín", "Toronto"], "sdg_goal": [SDG + "11"]})
    assert set(ids(result)) == {docs["b"]["id"], docs["d"]["id"]}
    assert counts(result, "city") == {"Medellín": 1, "Toronto": 1}


async def test_facets_people_type(conn: Index) -> None:
    docs = await corpus_for_facets(conn)
    a, b, c, d = (docs[k]["id"] for k in "abcd")
    cases = {
        "theme": (["public-space"], {b}),
        "sdg_goal": (["11"], {b, d}),
        "sdg_target": (["6.1"], {a}),
        "status": (["COMPLETED"], {b}),
        "type": (["policy"], {b}),
        "city": (["medellin"], {a, b}),
        "country": (["pt"], {c}),
    }
    for facet, (values, expected) in cases.items():
        result = await ask(conn, "", facets={facet: values})
        assert set(ids(result)) == expected, facet


async def test_unknown_facet_value_or_name_is_a_400_listing_valid_ones(conn: Index) -> None:
    await corpus_for_facets(conn)
    with pytest.raises(BadRequest) as city:
        await ask(conn, "agua", facets={"city": ["Atlantis"]})
    assert "Lisboa" in city.value.message and "Lisboa" in city.value.detail["valid"]
    with pytest.raises(BadRequest) as theme:
        await ask(conn, "", facets={"theme": ['not an iri " OR *']})
    assert "connectivity" in theme.value.detail["valid"]
    with pytest.raises(BadRequest) as goal:
        await ask(conn, "", facets={"sdg_goal": ["18"]})
    assert "17" in goal.value.detail["valid"]
    with pytest.raises(BadRequest):
        await ask(conn, "agua", facets={"colour": ["blue"]})
    with pytest.raises(BadRequest):
        await ask(conn, "agua", facets={"year": ["last year"]})


async def test_tombstone_removes_at_once(conn: Index) -> None:
    doc = record(MEDELLIN, 1, {"es": "Parque lineal"}, themes=[THEME + "water"])
    await put(conn, (doc, MEDELLIN))
    tombstone = {
        "type": "Tombstone",
        "id": doc["id"],
        "version": 2,
        "issued": doc["issued"],
        "modified": "2023-01-01T00:00:00Z",
        "publisher": MEDELLIN.did,
    }
    await put(conn, (tombstone, MEDELLIN))
    assert (await ask(conn, "parque")).total == 0
    landing = await ask(conn)
    assert landing.total == 0 and landing.facets["theme"] == []


async def test_reput_replaces_older_version_and_ignores_stale(conn: Index) -> None:
    first = record(MEDELLIN, 1, {"es": "Parque lineal"})
    second = {**first, "version": 2, "title": {"es": "Biblioteca parque"}}
    await put(conn, (first, MEDELLIN), (second, MEDELLIN))
    assert ids(await ask(conn, "parque")) == [first["id"]]
    assert (await ask(conn, "lineal")).total == 0
    await put(conn, (first, MEDELLIN))  # a late, older delivery
    [hit] = (await ask(conn, "parque")).hits
    assert hit.version == 2 and hit.title == "Biblioteca parque"
    assert counts(await ask(conn), "city") == {"Medellín": 1}


async def test_a_batch_keeps_newest_of_duplicates(conn: Index) -> None:
    docs = [record(MEDELLIN, n, {"es": f"Parque número {n}"}) for n in range(1, 30)]
    newer = {**docs[0], "version": 3, "title": {"es": "Parque renovado"}}
    await put(conn, *((d, MEDELLIN) for d in [*docs, newer, docs[0]]))
    result = await ask(conn, "parque", limit=100)
    assert result.total == 29
    assert next(h for h in result.hits if h.id == docs[0]["id"]).title == "Parque renovado"
    gone = {**docs[1], "type": "Tombstone", "version": 2}
    await put(conn, (gone, MEDELLIN))
    assert (await ask(conn, "parque")).total == 28


async def test_cross_language_through_a_concept(conn: Index) -> None:
    spanish = record(
        MEDELLIN, 1, {"es": "Internet gratis en los barrios"}, themes=[THEME + "connectivity"]
    )
    await put(conn, (spanish, MEDELLIN))
    [hit] = (await ask(conn, "connectivity")).hits
    assert hit.id == spanish["id"]
    assert hit.why == ["concept: Connectivity (theme)"]
    [hit] = (await ask(conn, "connectivity", lang="es")).hits
    assert hit.why == ["concept: Conectividad (theme)"]
    # Words are OR-ed: the record matching more of them comes first.
    other = record(MEDELLIN, 2, {"es": "Biblioteca"})
    await put(conn, (other, MEDELLIN))
    assert ids(await ask(conn, "connectivity barrios")) == [spanish["id"]]
    both = await ask(conn, "connectivity biblioteca")
    assert set(ids(both)) == {spanish["id"], other["id"]}


async def test_cross_language_with_bundled_vocabulary(tmp_path: Path) -> None:
    spanish = record(
        MEDELLIN, 1, {"es": "Internet gratis"}, themes=[THEME + "connectivity"], sdgs=[SDG + "11.2"]
    )
    async with opened(tmp_path) as index:
        await index.put((spanish, MEDELLIN))
        for text in ("connectivity", "conectividade", "wifi", "11"):
            result = await index.ask(text, lang="en")
            assert ids(result) == [spanish["id"]], text
        why = (await index.ask("connectivity")).hits[0].why
        assert why == ["concept: Connectivity (theme)"]


async def test_empty_query_lists_recent_with_facets(conn: Index) -> None:
    docs = await corpus_for_facets(conn)
    result = await ask(conn)
    assert ids(result) == [docs[k]["id"] for k in "dcba"]  # modified descending
    assert result.total == 4 and counts(result, "city")["Medellín"] == 2
    assert all(hit.snippet and "<mark>" not in hit.snippet for hit in result.hits)
    assert ids(await ask(conn, limit=2, offset=2)) == [docs["b"]["id"], docs["a"]["id"]]
    assert ids(await ask(conn, "agua", sort="date")) == [docs[k]["id"] for k in "dcba"]


async def test_long_query_is_cut_with_a_notice(conn: Index) -> None:
    await put(conn, (record(MEDELLIN, 1, {"es": "Parque"}), MEDELLIN))
    result = await ask(conn, "parque " + "x" * 1200)
    assert result.notices and "1000" in result.notices[0]
    assert ids(result) == [f"{MEDELLIN.base_url}/records/1"]
    many = await ask(conn, " ".join(f"w{n}" for n in range(40)))
    assert any("32" in notice for notice in many.notices)


async def test_phrase_query(conn: Index) -> None:
    near = record(MEDELLIN, 1, {"es": "Plan de transporte público"})
    apart = record(MEDELLIN, 2, {"es": "Público y transporte"})
    await put(conn, (near, MEDELLIN), (apart, MEDELLIN))
    assert ids(await ask(conn, '"transporte público"')) == [near["id"]]
    assert set(ids(await ask(conn, "transporte público"))) == {near["id"], apart["id"]}


async def test_every_match_is_ranked_and_counted(conn: Index) -> None:
    # The best match is the oldest record: ranking is over every match, not the newest ones.
    best = record(
        MEDELLIN, 1, {"es": "Parque del río"}, summary={"es": "Un parque lineal, parque de todos."}
    )
    rest = [
        record(LISBOA, n, {"pt": f"Projeto {n}"}, summary={"pt": "Um parque."})
        for n in range(2, 700)
    ]
    await put(conn, (best, MEDELLIN), *((d, LISBOA) for d in rest))
    result = await ask(conn, "parque")
    assert result.total == 699 and result.total_exact and result.facets_exact
    assert ids(result)[0] == best["id"]
    assert counts(result, "city") == {"Lisboa": 698, "Medellín": 1}


async def test_similar_practices_exclude_own_city(conn: Index) -> None:
    docs = await corpus_for_facets(conn)
    found = await similar(conn.searching, docs["a"]["id"])
    assert found and all(hit.city != "Medellín" for hit in found)
    # c shares goal 6 (a's 6.1 implies it) and "agua"; d the water theme and "agua".
    assert {hit.id for hit in found} == {docs["c"]["id"], docs["d"]["id"]}
    assert all(hit.why for hit in found)
    assert await similar(conn.searching, "https://nowhere.example/records/1") == []


CN = "https://w3id.org/citynode/"


async def test_vocabulary_1_1_texts_are_searched(conn: Index) -> None:
    """Funders, partners, beneficiaries, areas, evidence and adaptations are found by their
    words; a result naming only an indicator IRI is found by the indicator's labels."""
    org = CN + "organisation-kind#"
    practice = record(
        MEDELLIN,
        1,
        {"es": "Formación digital"},
        funders=[{"type": "Organisation", "name": {"es": "Fundación Antioquia"}}],
        partners=[{"type": "Organisation", "name": {"es": "Universidad de Antioquia"}}],
        beneficiaries=[{"type": "Audience", "who": {"es": "Adultos mayores"}, "count": 900}],
        areas=[{"type": "Place", "name": {"es": "Comuna Popular"}}],
        evidence=[
            {
                "type": "Evidence",
                "kind": CN + "evidence-kind#evaluation",
                "title": {"es": "Evaluación de impacto"},
                "creator": {
                    "type": "Organisation",
                    "name": {"es": "Observatorio"},
                    "kind": org + "academic",
                },
            }
        ],
        adaptedFrom=[
            {
                "type": "Adaptation",
                "practice": "https://lisboa.example/records/seniores",
                "changes": {"es": "Talleres en bibliotecas barriales"},
            }
        ],
        startDate="2021",
    )
    result = {
        **record(MEDELLIN, 2, {"es": "Resultados"}),
        "type": "Result",
        "resultOf": practice["id"],
        "period": "2022-03",
        "measurements": [
            {
                "type": "Measurement",
                "measures": CN + "indicator#people-trained",
                "value": 900,
                "unitCode": "{person}",
                "period": "2022",
                "role": "observed",
            }
        ],
    }
    del result["summary"]
    await put(conn, (practice, MEDELLIN), (result, MEDELLIN))
    for words in ("fundacion", "universidad", "mayores", "comuna popular", "observatorio"):
        assert ids(await ask(conn, words)) == [practice["id"]], words
    assert ids(await ask(conn, "bibliotecas barriales")) == [practice["id"]]
    # The indicator's label from the scheme (the record gives only its IRI). Queries look in
    # the languages the index holds text in (es here), so the Spanish label is the one found.
    assert ids(await ask(conn, "habilidades")) == [result["id"]]
    # Years from partial dates: a practice's "2021", a result's period "2022-03".
    landing = await ask(conn)
    assert counts(landing, "year") == {"2021": 1, "2022": 1}
    assert counts(landing, "language") == {"es": 2}


async def test_a_record_is_indexed_by_its_readable_part(conn: Index) -> None:
    """A peer's record with terms and values this node does not know (a newer node's) is
    indexed by what it can read, and the rest of its batch with it."""
    newer = record(
        MEDELLIN,
        1,
        {"es": "Parque biblioteca", "fr": {"nested": "not a text"}},
        themes="not a list",
        uncertaintyModel="https://example.org/bootstrap",
        areas=[{"type": "Place", "name": {"es": "Comuna 13"}, "elevation": {"m": 1500}}],
        measurements=[{"value": "many"}],
    )
    plain = record(MEDELLIN, 2, {"es": "Parque lineal"})
    await put(conn, (newer, MEDELLIN), (plain, MEDELLIN))
    result = await ask(conn, "parque")
    assert set(ids(result)) == {newer["id"], plain["id"]}
    hit = next(h for h in result.hits if h.id == newer["id"])
    assert (hit.title, hit.title_lang, hit.signature) == ("Parque biblioteca", "es", "verified")
    assert ids(await ask(conn, "comuna")) == [newer["id"]]
    assert counts(result, "language") == {"es": 2}
    assert counts(result, "theme") == {}  # the value of the wrong shape was set aside
