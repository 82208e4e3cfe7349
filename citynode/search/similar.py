"""Similar practices in other cities: shared themes/SDGs and shared words, own city excluded.

One MATCH: (the record's concept tokens OR its most telling title/summary stems) NOT its city's
tag, ranked by search's field-weighted score (each shared concept and each shared word is a group),
so a record sharing two themes and title words ranks above one sharing a single SDG. Bounded
like search (the newest CANDIDATES matches), since an OR of common words matches much of the
index.
"""

from __future__ import annotations

from typing import Final

import aiosqlite

from citynode.search import concepts
from citynode.search.query import Hit, _candidates, _padded, _score, fetch, hits_for
from citynode.trust import KnownKeys

MAX_TERMS: Final = 12


async def similar(
    conn: aiosqlite.Connection,
    record_id: str,
    *,
    limit: int = 5,
    lang: str = "en",
    keys: KnownKeys | None = None,
) -> list[Hit]:
    """Up to `limit` records from other cities most like `record_id` (empty if not indexed)."""
    rows = await fetch(
        conn,
        "SELECT d.docid, d.city, d.concepts, f.title, f.summary FROM search_docs d"
        " JOIN search_fts f ON f.rowid = d.docid WHERE d.id = ?",
        [record_id],
    )
    if not rows:
        return []
    docid, city, tagged, title, summary = rows[0]
    iris = tagged.split()
    # Title stems first (they say what the practice is), then summary stems, each once.
    terms = list(dict.fromkeys([*title.split(), *summary.split()]))[:MAX_TERMS]
    alternatives = [f'"{concepts.token(iri)}"' for iri in iris] + [f'"{t}"' for t in terms]
    if not alternatives:
        return []
    match = (
        "(" + " OR ".join(alternatives) + f') NOT {{tags}} : "{concepts.facet_token("city", city)}"'
    )
    found = await _candidates(conn, match)
    groups = _padded(
        [(frozenset(), frozenset([iri])) for iri in iris]
        + [(frozenset([t]), frozenset()) for t in terms]
    )
    found.sort(key=lambda row: (_score(groups, row[4], row[5], row[3]), row[0]), reverse=True)
    page = [row[0] for row in found[:limit] if row[0] != docid]
    return await hits_for(conn, page, set(terms), dict.fromkeys(iris, ""), lang, keys)
