"""Searching the local index: the query and result types, and the query plan.

Why a bounded plan (measured with bench/search_bench.py, 2 vCPU, 100k records): ranking every
match with FTS5's bm25 (`ORDER BY rank`) costs 30-50 ms for a common term at 100k and ten times
that at 1M, and counting facets over all of those matches costs more still. So:

1. Candidates: matches walked newest-indexed first (FTS5 yields rowids in order and stops at the
   LIMIT), at most `CANDIDATES` (500), each with its small search_docs row and its analysed
   title and summary, in one statement. Cost is bounded by the cap, not by the match count.
   1,000 measured p99 14-25 ms at 100k (over budget on a busy machine); 500 gives 11-16 ms.
2. If there are no more matches than that, everything is exact: every match ranked, exact
   total, exact facet counts.
3. If there are more, the best among the 500 newest matches are shown, the total is estimated
   from the density of matches among the newest docids, and facet counts are over those 500;
   the result says so (`total_exact`, `facets_exact`, a notice). A term that common carries
   little ranking signal anyway, and one more word or a facet makes the answer exact again.
4. Ranking is `_score` (title > summary > concept tag > body, bm25's column weights), not bm25
   itself: see `_score` for the measurement that ruled bm25 out.
5. The empty query (the landing page) is exact and cheap: recent records from the `modified`
   index and facet counts from `search_facet_counts`, which indexing keeps in step.

Facet filters are terms of the same MATCH (tokens in the `tags` column, see schema.py), so FTS5
intersects them with the text by seeking through its doclists.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Final, Literal

import aiosqlite
import msgspec
from msgspec import Meta, Struct

from citynode.search import concepts
from citynode.search.concepts import LabelMap
from citynode.search.expression import parse
from citynode.search.index import FACET_SEP, FACETS_SEP
from citynode.search.snippets import snippet
from citynode.storage.records import Signing, signing_facts
from citynode.storage.search_schema import SUMMARY_WEIGHT, TAG_WEIGHT, TITLE_WEIGHT
from citynode.trust import KnownKeys
from protocol.records import pick_text

FACETS: Final = (
    "city",
    "country",
    "type",
    "status",
    "theme",
    "sdg_goal",
    "sdg_target",
    "year",
    "language",
)
CANDIDATES: Final = 500
FACET_VALUES_SHOWN: Final = 50
LANGUAGE_NAMES: Final = {"es": "Español", "en": "English", "pt": "Português"}


class SearchQuery(Struct, kw_only=True, forbid_unknown_fields=True):
    """What a reader asks: words, facet filters (AND across facets, OR within), a language."""

    text: str = ""
    facets: dict[str, list[str]] = {}
    lang: str = "en"
    sort: Literal["relevance", "date"] = "relevance"
    limit: Annotated[int, Meta(ge=1, le=100)] = 20
    offset: Annotated[int, Meta(ge=0, le=10_000)] = 0  # past the candidates: an empty page


class FacetValue(Struct, kw_only=True):
    value: str
    label: str
    count: int


class Hit(Struct, kw_only=True):
    """One record found: where it comes from, how trustworthy and fresh, and why it matched."""

    id: str
    type: str
    city: str
    country: str
    origin: str  # the origin node's base URL
    title: str
    title_lang: str
    snippet: str  # HTML: text escaped, matched words in <mark>
    signature: str  # verified | revoked | unverified, as of the query (citynode/trust.py)
    version: int
    modified: str
    why: list[str]


class SearchResult(Struct, kw_only=True):
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    notices: list[str] = []
    total_exact: bool = True
    facets_exact: bool = True


async def fetch(conn: aiosqlite.Connection, sql: str, args: list[Any]) -> list[Any]:
    async with conn.execute(sql, args) as cursor:
        return list(await cursor.fetchall())


def _facet_match(facets: dict[str, list[str]]) -> str:
    """Facet filters as MATCH terms on the tags column: AND across facets, OR within."""
    return " AND ".join(
        "{tags} : (" + " OR ".join(f'"{concepts.facet_token(facet, v)}"' for v in values) + ")"
        for facet, values in facets.items()
    )


async def _candidates(
    conn: aiosqlite.Connection, match: str
) -> list[tuple[int, str, str, str, str, str]]:
    """Up to CANDIDATES + 1 matches, newest first:
    (docid, facets, modified, concepts, title stems, summary stems).

    One pass: FTS5 walks its doclists by descending rowid and stops at the LIMIT, joining the
    small search_docs row (~2 us) and reading the analysed title and summary it stores.
    """
    return await fetch(
        conn,
        "SELECT search_fts.rowid, d.facets, d.modified, d.concepts, search_fts.title,"
        " search_fts.summary FROM search_fts JOIN search_docs d ON d.docid = search_fts.rowid"
        " WHERE search_fts MATCH ? ORDER BY search_fts.rowid DESC LIMIT ?",
        [match, CANDIDATES + 1],
    )


_Padded = list[tuple[tuple[str, ...], tuple[str, ...]]]


def _padded(groups: list[tuple[frozenset[str], frozenset[str]]]) -> _Padded:
    return [
        (tuple(f" {s} " for s in stems), tuple(f" {i} " for i in iris)) for stems, iris in groups
    ]


def _score(groups: _Padded, title: str, summary: str, tagged: str) -> float:
    """Field-weighted relevance of one candidate (higher is better).

    Not FTS5's bm25, measured and rejected for this plan: bm25 computes each term's IDF by
    walking the term's (or phrase's) whole doclist on first use, so its cost grows with the index,
    not with the candidate cap: 1.4 ms per common term and ~8 ms per common-word phrase at 100k,
    ten times that at 1M, before any candidate is scored; it then costs 1-5 us per row. Here every
    candidate matches every group already, so what remains to rank is *where* each group matched:
    title (weight 10) over summary and keywords (4) over a concept tag (3) over body only (0).
    The weights are bm25's column weights (schema.py); ties go to the newer record.
    Substring tests on space-padded strings, no per-row sets: this runs 1,000 times a query.
    """
    title, summary, tagged = f" {title} ", f" {summary} ", f" {tagged} "
    score = 0.0
    for stems, iris in groups:
        for stem in stems:
            if stem in title:
                score += TITLE_WEIGHT
                break
        for stem in stems:
            if stem in summary:
                score += SUMMARY_WEIGHT
                break
        for iri in iris:
            if iri in tagged:
                score += TAG_WEIGHT
                break
    return score


async def _estimate(conn: aiosqlite.Connection, lowest: int) -> int:
    """Matches among the newest docids, scaled to the whole docid range (gaps left by deletions
    thin both alike). Docid arithmetic, not count(*): counting the window cost 5-9 ms."""
    rows = await fetch(
        conn,
        "SELECT (SELECT min(docid) FROM search_docs), (SELECT max(docid) FROM search_docs)",
        [],
    )
    low, high = rows[0]
    estimate = CANDIDATES * (high - low + 1) / max(high - lowest + 1, 1)
    return max(CANDIDATES + 1, int(round(estimate, -2)))


def _facet_label(facet: str, value: str, lang: str) -> str:
    if facet in ("theme", "sdg_goal", "sdg_target", "status"):
        return concepts.label(value, lang)
    if facet == "language":
        return LANGUAGE_NAMES.get(value, value)
    return value


def _facet_lists(counted: list[tuple[str, int]], lang: str) -> dict[str, list[FacetValue]]:
    result: dict[str, list[FacetValue]] = {facet: [] for facet in FACETS}
    for key, count in sorted(counted, key=lambda item: (-item[1], item[0])):
        facet, _, value = key.partition(FACET_SEP)
        shown = result.get(facet)
        if shown is not None and len(shown) < FACET_VALUES_SHOWN:
            shown.append(
                FacetValue(value=value, label=_facet_label(facet, value, lang), count=count)
            )
    return result


async def _count_facets(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
    """Counts per facet value over the whole index, as indexing keeps them."""
    rows = await fetch(conn, "SELECT facet || char(31) || value, n FROM search_facet_counts", [])
    return [(key, int(n)) for key, n in rows]


def _count(facets: list[str]) -> list[tuple[str, int]]:
    """Counts per facet value over the candidates (one join and one split: ~1 ms for 500)."""
    return list(Counter(FACETS_SEP.join(facets).split(FACETS_SEP)).items()) if facets else []


async def hits_for(
    conn: aiosqlite.Connection,
    docids: list[int],
    stems: set[str],
    found: dict[str, str],
    lang: str,
    keys: KnownKeys | None = None,
) -> list[Hit]:
    """The hits for a page of docids. `keys`: the node's key states, for each hit's signature
    status at read time (citynode/trust.py); without them, the status stored when indexed."""
    if not docids:
        return []
    rows = await fetch(
        conn,
        "SELECT d.docid, id, type, city, country, base_url, version, modified, signature,"
        " concepts, texts FROM search_docs d JOIN search_texts t ON t.docid = d.docid"
        " WHERE d.docid IN (SELECT value FROM json_each(?))",
        [msgspec.json.encode(docids).decode()],
    )
    by_docid = {row[0]: row for row in rows}
    signing = await signing_facts(conn, [row[1] for row in rows]) if keys is not None else {}
    hits = []
    for docid in docids:
        row = by_docid.get(docid)
        if row is None:
            continue
        texts = msgspec.json.decode(row[10])
        title_lang, title = pick_text(texts.get("title") or {}, lang)
        text, matched = snippet(texts, lang, stems)
        tagged = set(row[9].split())
        why = ["text"] if matched else []
        why.extend(
            f"concept: {concepts.label(iri, lang)} ({concepts.kind(iri)})"
            for iri in sorted(found)
            if iri in tagged
        )
        hits.append(
            Hit(
                id=row[1],
                type=row[2],
                city=row[3],
                country=row[4],
                origin=row[5],
                title=title,
                title_lang=title_lang,
                snippet=text,
                signature=_status(keys, signing.get(row[1]), row[8]),
                version=row[6],
                modified=row[7],
                why=(why or ["text"]) if stems else why,
            )
        )
    return hits


def _status(keys: KnownKeys | None, facts: Signing | None, indexed: str) -> str:
    if keys is None:
        return indexed
    if facts is None:
        return "unverified"
    return keys.status(facts.publisher, facts.key_id, facts.signed_at)


async def search(
    conn: aiosqlite.Connection,
    query: SearchQuery,
    *,
    labels: LabelMap | None = None,
    keys: KnownKeys | None = None,
) -> SearchResult:
    """Run a query against the local index (read-only; any connection to the database).

    `keys` (the node's `KnownKeys`) gives each hit its signature status as of now.
    """
    parsed = parse(query.text, concepts.default_labels() if labels is None else labels)
    notices = list(parsed.notices)
    facets = {f: sorted(set(v)) for f, v in query.facets.items() if v}
    unknown = [f for f in facets if f not in FACETS]
    if unknown:
        notices.append(f"Unknown facet: {', '.join(sorted(unknown))}.")
        return SearchResult(total=0, hits=[], facets=_facet_lists([], query.lang), notices=notices)

    text_match = parsed.match
    if not text_match and not facets:
        # The landing page: exact and cheap, from the modified index and the kept counts.
        counted = await _count_facets(conn)
        total = sum(n for key, n in counted if key.startswith("type" + FACET_SEP))
        rows = await fetch(
            conn,
            "SELECT docid FROM search_docs ORDER BY modified DESC LIMIT ? OFFSET ?",
            [query.limit, query.offset],
        )
        page = [row[0] for row in rows]
        return SearchResult(
            total=total,
            hits=await hits_for(conn, page, set(), {}, query.lang, keys),
            facets=_facet_lists(counted, query.lang),
            notices=notices,
        )

    match = " AND ".join(p for p in (text_match and f"({text_match})", _facet_match(facets)) if p)
    ranked = bool(text_match) and query.sort == "relevance"
    found = await _candidates(conn, match)
    if not found:
        return SearchResult(total=0, hits=[], facets=_facet_lists([], query.lang), notices=notices)
    exact = len(found) <= CANDIDATES
    found = found[:CANDIDATES]
    total = len(found) if exact else await _estimate(conn, found[-1][0])
    if not exact:
        notices.append(
            f"More than {CANDIDATES:,} records match: the best among the {CANDIDATES:,} most "
            "recently indexed are shown and counts are estimates. Add words or filters to narrow."
        )
    if ranked:
        groups = _padded(parsed.groups)
        found.sort(key=lambda row: (_score(groups, row[4], row[5], row[3]), row[0]), reverse=True)
    else:
        found.sort(key=lambda row: (row[2], row[0]), reverse=True)
    page = [row[0] for row in found[query.offset : query.offset + query.limit]]
    counted = _count([row[1] for row in found])
    return SearchResult(
        total=total,
        hits=await hits_for(conn, page, parsed.stems, parsed.concepts, query.lang, keys),
        facets=_facet_lists(counted, query.lang),
        notices=notices,
        total_exact=exact,
        facets_exact=exact,
    )
