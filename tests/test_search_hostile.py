"""Text typed by people never makes search raise, whatever query syntax it contains."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citynode.errors import BadRequest
from citynode.origins import Origin
from citynode.search.expression import MAX_WORDS, parse
from tests.search_support import Index, opened, signed_fields

ORIGIN = Origin(did="did:web:a.example", base_url="https://a.example", city="A", country="CO")
HOSTILE = [
    '"',
    '""',
    '"""',
    "'",
    "*",
    "parque*",
    "*parque",
    "^parque",
    "parque^",
    "NEAR",
    "NEAR(a b)",
    "NEAR(a b, 2)",
    "a NEAR/3 b",
    "AND",
    "OR",
    "NOT",
    "a AND",
    "OR b",
    "NOT NOT",
    "a OR OR b",
    "-parque",
    "parque -",
    "--",
    "(",
    ")",
    "((parque",
    "parque))",
    "(a OR b",
    '"unbalanced',
    'a "b c',
    "title:parque",
    "title : parque",
    "{title}: parque",
    "{title summary}:x",
    ":",
    "::",
    "tags:qx1",
    "- * ^ : ( ) { } [ ]",
    "parque + lineal",
    "+",
    "rowid=1",
    "'; DROP TABLE x; --",
    "\x00",
    "\x00parque",
    "\\",
    '\\"',
    "\u200b",
    "🙂",
    "parque🙂lineal",
    "ﬁnanzas",
    "Ⅻ",
    "a" * 1000,
    " ".join(["parque"] * 100),
    '"' * 301,
    "\n\t\r",
    "%",
    "_",
    "a_b",
    "%parque%",
    "e\u0301",
    "medelli\u0301n",
    "l’eau",
    "«parque»",
    "¿qué?",
    "x" * 5 + '"' + "y" * 5,
]


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[Index]:
    doc = {
        **signed_fields(ORIGIN.did),
        "type": "Project",
        "id": "https://a.example/records/1",
        "version": 1,
        "issued": "2022-01-01T00:00:00Z",
        "modified": "2022-01-01T00:00:00Z",
        "publisher": ORIGIN.did,
        "title": {"es": "Parque lineal de Medellín"},
        "summary": {"es": "Un parque y transporte público."},
        "status": "https://w3id.org/citynode/status#ongoing",
    }
    async with opened(tmp_path) as index:
        await index.put((doc, ORIGIN))
        yield index


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_text_never_raises(conn: Index, text: str) -> None:
    result = await conn.ask(text)
    assert result.total >= 0


async def test_operators_are_plain_words(conn: Index) -> None:
    # "parque*" and "parque^" are the word parque; "-parque" excludes it; "title:parque" is two
    # words OR-ed (the record has one of them).
    assert (await conn.ask("parque*")).total == 1
    assert (await conn.ask("-parque")).total == 0
    assert (await conn.ask("-biblioteca")).total == 1
    assert (await conn.ask("parque -lineal")).total == 0
    assert (await conn.ask('parque -"transporte público"')).total == 0
    assert (await conn.ask("title:parque")).total == 1
    assert (await conn.ask('"parque lineal')).total == 1
    assert (await conn.ask('"lineal parque"')).total == 0


async def test_a_thousand_ored_words_are_cut_with_a_notice(conn: Index) -> None:
    result = await conn.ask(" OR ".join(f"palabra{n}" for n in range(1000)) + " parque")
    assert any(str(MAX_WORDS) in notice for notice in result.notices)
    assert any("characters" in notice for notice in result.notices)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=1200))
def test_parse_is_bounded(text: str) -> None:
    parsed = parse(text, {"parque": {"https://w3id.org/citynode/theme#public-space"}})
    used = len(parsed.words) + len(parsed.phrases) + len(parsed.excluded_words)
    assert used + len(parsed.excluded_phrases) <= MAX_WORDS
    assert all(word.isalnum() for word in parsed.words + parsed.excluded_words)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=120), facet_value=st.text(max_size=20))
async def test_arbitrary_text_and_facets_never_raise_anything_but_a_400(
    conn: Index, text: str, facet_value: str
) -> None:
    await conn.ask(text)
    for facet in ("city", "theme", "year", "language", "sdg_goal"):
        try:
            await conn.ask(text, facets={facet: [facet_value]})
        except BadRequest as exc:
            assert exc.message
