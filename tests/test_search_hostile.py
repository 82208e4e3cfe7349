"""Text typed by people never makes search raise, whatever FTS5 syntax it contains."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citynode.origins import Origin
from citynode.search import index
from citynode.search.expression import parse
from citynode.search.query import SearchQuery, search
from citynode.storage.search_schema import STATEMENTS

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
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await aiosqlite.connect(tmp_path / "node.db", isolation_level=None)
    for statement in STATEMENTS:
        await connection.execute(statement)
    doc = {
        "type": "Project",
        "id": "https://a.example/records/1",
        "version": 1,
        "issued": "2022-01-01T00:00:00Z",
        "modified": "2022-01-01T00:00:00Z",
        "publisher": ORIGIN.did,
        "title": {"es": "Parque lineal de Medellín"},
        "summary": {"es": "Un parque y transporte público."},
    }
    await connection.execute("BEGIN IMMEDIATE")
    await index.put(connection, doc, ORIGIN)
    await connection.execute("COMMIT")
    yield connection
    await connection.close()


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_text_never_raises(conn: aiosqlite.Connection, text: str) -> None:
    result = await search(conn, SearchQuery(text=text))
    assert result.total >= 0


async def test_operators_are_plain_words(conn: aiosqlite.Connection) -> None:
    # "parque*" and "parque^" are the word parque; "title:parque" needs the word "title" too.
    assert (await search(conn, SearchQuery(text="parque*"))).total == 1
    assert (await search(conn, SearchQuery(text="-parque"))).total == 1
    assert (await search(conn, SearchQuery(text="title:parque"))).total == 0
    assert (await search(conn, SearchQuery(text='"parque lineal'))).total == 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_parse_builds_only_quoted_stems(text: str) -> None:
    parsed = parse(text, {"parque": {"https://w3id.org/citynode/theme#public-space"}})
    # Every double quote in the expression delimits a letters-and-digits token.
    assert parsed.match.count('"') % 2 == 0
    for quoted in parsed.match.split('"')[1::2]:
        assert all(part.isalnum() for part in quoted.split(" ")), quoted


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(max_size=120), facet_value=st.text(max_size=20))
async def test_arbitrary_text_and_facets_never_raise(
    conn: aiosqlite.Connection, text: str, facet_value: str
) -> None:
    await search(conn, SearchQuery(text=text))
    await search(conn, SearchQuery(text=text, facets={"city": [facet_value]}))
