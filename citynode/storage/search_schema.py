"""The search tables, created by the storage migrations in the records' database.

- `search_fts`: FTS5 over *analysed* text (folded, stopwords out, stemmed in Python: see
  `citynode/search/text.py`), so one index serves es/en/pt stemming and diacritics-free
  matching. Columns and weights (query.py's score uses them): title (10), summary + keywords
  (4), body = the other text fields (1), tags (3): one opaque token per facet value of the
  record (`facet_token()`), where themes and SDGs use their concept token (a target also
  carries its goal's). Tags do two jobs in the same MATCH: cross-language search
  ("connectivity" -> OR tags:theme#connectivity) and facet filters
  (AND tags:(city A OR city B)). Filters inside FTS5 are intersected by its own doclist merge,
  which seeks; the first version probed a facet table per match (EXISTS), which cost ~1 us per
  text match and made "common word + one city" scan tens of thousands of rows.
  `detail=full` (positions) because phrases must work in every column; `detail=column` measured
  only ~18% faster to build and would drop phrase queries. The rank function is set once to the
  weighted bm25 so `ORDER BY rank` uses the weights.
  A regular (not contentless) table: SQLite 3.40 has no `contentless_delete`, and deleting from a
  contentless or external-content table needs the exact old tokens, which a stemmer upgrade would
  silently break. The stored copy is the analysed text (shorter than the original).
- `search_docs`: one row per indexed record, rowid = the FTS rowid ("docid"). A new docid is taken
  on every put, so docid order is "most recently indexed", which the query planner relies on (it
  walks matches newest first and stops early: see `query.py`). Holds what a hit shows (titles,
  origin, version, signature) and `facets`: the record's
  "facet\\x1fvalue" strings joined by "\\x1e", counted in Python over a bounded candidate set.
- `search_texts`: the original text fields (JSON), read only for the page of hits (snippets).
- `search_facet_counts`: counts per facet value over the whole index, kept in step by put/remove,
  so the landing page (empty query) has exact facet counts without a scan.
"""

from __future__ import annotations

from typing import Final

TITLE_WEIGHT: Final = 10.0
SUMMARY_WEIGHT: Final = 4.0
BODY_WEIGHT: Final = 1.0
TAG_WEIGHT: Final = 3.0

STATEMENTS: tuple[str, ...] = (
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, summary, body, tags,
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    "INSERT INTO search_fts(search_fts, rank) VALUES ('rank', 'bm25("
    f"{TITLE_WEIGHT}, {SUMMARY_WEIGHT}, {BODY_WEIGHT}, {TAG_WEIGHT})')",
    """CREATE TABLE search_docs (
        docid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        origin TEXT NOT NULL,
        city TEXT NOT NULL,
        country TEXT NOT NULL,
        base_url TEXT NOT NULL,
        version INTEGER NOT NULL,
        modified TEXT NOT NULL,
        signature TEXT NOT NULL,
        concepts TEXT NOT NULL,
        facets TEXT NOT NULL
    )""",
    # Kept apart from search_docs so its rows stay small: a query reads up to 500 of them, and
    # with the text inline each row filled a page (2,000 rows: 7.6 ms instead of ~2 ms).
    "CREATE TABLE search_texts (docid INTEGER PRIMARY KEY, texts BLOB NOT NULL)",
    "CREATE INDEX search_docs_modified ON search_docs (modified)",
    """CREATE TABLE search_facet_counts (
        facet TEXT NOT NULL,
        value TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (facet, value)
    ) WITHOUT ROWID""",
)
