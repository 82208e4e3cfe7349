"""Similar practices in other cities: shared themes/SDGs and shared words, own city excluded.

One query: the record's concepts (themes, SDG goals and targets) and the most telling words of
its title and summary, OR-ed and ranked by BM25 like any search, minus the record's own city.
"""

from __future__ import annotations

from typing import Final

from tantivy import Occur, Query

from citynode.search import concepts, plan
from citynode.search.expression import COMMON, Parsed
from citynode.search.query import Hit, Searching
from citynode.search.schema import readable
from citynode.storage import records as store

MAX_WORDS: Final = 12


async def similar(
    searching: Searching, record_id: str, *, limit: int = 5, lang: str = "en"
) -> list[Hit]:
    """Up to `limit` records from other cities most like `record_id` (empty if not held)."""
    stored = await store.get_current(searching.db.reader, record_id)
    if stored is None or stored.type == "Tombstone":
        return []
    doc = readable(stored.body)
    if doc is None:
        return []
    words: list[str] = []
    for name in ("title", "summary"):
        for text in (doc.get(name) or {}).values():
            words.extend(w for w in concepts.words(text) if w not in COMMON and len(w) > 2)
    iris = [*(doc.get("themes") or ()), *(doc.get("sdgs") or ())]
    iris += [g for g in map(concepts.sdg_goal, doc.get("sdgs") or ()) if g]
    parsed = Parsed(words=list(dict.fromkeys(words))[:MAX_WORDS], concepts=dict.fromkeys(iris, ""))
    engine = searching.engine
    built = plan.build(engine.index.schema, parsed, {}, searching.analysers(engine.searcher))
    if not built.has_text:
        return []
    held = searching.counts(engine.searcher, None)
    own = await searching.city_of(stored.origin)
    query = Query.boolean_query(
        [
            (Occur.Must, built.query),
            (Occur.MustNot, Query.term_query(engine.index.schema, "id", record_id)),
            *(
                [(Occur.MustNot, Query.term_query(engine.index.schema, "city", own))]
                if own and any(v == own for v, _ in held["city"])
                else []
            ),
        ]
    )
    searcher = engine.searcher
    found = searcher.search(query, limit, count=False)
    addresses = [address for _, address in found.hits]
    seqs = [int(s or 0) for s in searcher.fast_field_values("seq", addresses)] if addresses else []
    scores: list[float | None] = [float(score) for score, _ in found.hits]
    return await searching.hits(seqs, scores, lang, built.terms, parsed.concepts)
