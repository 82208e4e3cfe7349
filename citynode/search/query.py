"""Searching the local index: the query and result types, and `Searching.search`, the one
service function the API, the CLI, live search and the pages call (query in, typed result out).

Every answer ranks every match (BM25 with block-max WAND, plan.py), and its total and facet counts
are exact: terms aggregations over every match (schema.py's columnar facet fields). The empty
query's facet counts are the same aggregation over every record, computed once per index commit.

Where the time goes (bench/RESULTS.md "Search engine"): counting facets over every match costs
far more than finding the top 10 (WAND skips most matches; an aggregation visits each one). So
the two run at once, in two threads (tantivy releases the GIL), and a plain question that
matches most of the index ("how can a city give internet access to poor households" matches
80% of it) is counted from the other side: the counts over every record (cached) minus the
counts over the records it does not match, which are few.

A hit is read from the store by the log position the index holds for it (records rows never
change), so it shows exactly the version that was indexed, by the same readable part the
indexer read (schema.readable); its title and snippet are in the reader's language when the
record has it (`lang`, else the language the query words came from).
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import tantivy
from msgspec import Meta, Struct

from citynode.search import analysis, concepts, facets, plan
from citynode.search.concepts import LabelMap
from citynode.search.engine import Engine
from citynode.search.expression import Parsed, parse
from citynode.search.schema import FACETS, body_field, head_field, readable
from citynode.search.signatures import signature_of
from citynode.search.snippets import ordered, snippet
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from citynode.trust import KnownKeys

FACET_VALUES_SHOWN: Final = 50
#: Buckets asked of each terms aggregation, per segment and in all: counts are exact as long as
#: a facet has fewer distinct values than this (cities are the largest: one per node).
FACET_BUCKETS: Final = 65_000
#: A plain question matching more than this share of the index is counted by its complement.
#: Not half: the complement costs a count and a pass over the union besides its aggregation
#: (measured at 100k: 80% matched, 14-18 ms direct, 5-8 ms by the complement; 60%, 9 vs 12).
COMPLEMENT_SHARE: Final = 0.7


class SearchQuery(Struct, kw_only=True, forbid_unknown_fields=True):
    """What a reader asks: words, facet filters (AND across facets, OR within), a language.

    Facet values may be typed as people write them (`theme=connectivity`, `sdg_goal=11`) or as
    IRIs; `lang` empty means "the language the query words came from".
    """

    text: str = ""
    facets: dict[str, list[str]] = {}
    lang: str = ""
    sort: Literal["relevance", "date"] = "relevance"
    limit: Annotated[int, Meta(ge=1, le=100)] = 20
    offset: Annotated[int, Meta(ge=0, le=10_000)] = 0


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
    signature: str  # verified, revoked or unverified (signatures.py)
    version: int
    modified: str
    why: list[str]
    score: float | None = None


class SearchResult(Struct, kw_only=True):
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    notices: list[str] = []
    #: The reader's language the titles and snippets were chosen for.
    lang: str = "en"
    #: Always exact since the search engine moved to tantivy; kept for API clients.
    total_exact: bool = True
    facets_exact: bool = True
    #: The change-log position the index had applied when it answered.
    position: int = 0


def _aggregations() -> dict[str, Any]:
    return {
        name: {"terms": {"field": name, "size": FACET_BUCKETS, "segment_size": FACET_BUCKETS}}
        for name in FACETS
    }


_AGGREGATIONS: Final = _aggregations()


class Searching:
    """The node's search over its index (one per process that searches)."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        labels: LabelMap | None = None,
        keys: KnownKeys | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        #: The node's key states: each hit's signature status is judged against them when the
        #: hit is shown (citynode/trust.py).
        self.keys = keys
        self.labels = concepts.default_labels() if labels is None else labels
        self._everything: tuple[tantivy.Searcher, dict[str, list[tuple[str, int]]]] | None = None
        self._origins: dict[str, Any] = {}

    # The parts of a search, each over one searcher (one consistent view of the index).

    def counts(
        self, searcher: tantivy.Searcher, query: tantivy.Query | None, *, wide: bool = False
    ) -> dict[str, list[tuple[str, int]]]:
        """Exact counts per facet value over every match (every record for `None`).

        `wide`: the query may match most records (a plain question: an OR of words); it is
        counted first (cheap next to an aggregation), and past `COMPLEMENT_SHARE` of the index
        its counts are those of every record minus those of the records it does not match.
        """
        if query is None:
            cached = self._everything
            if cached is not None and cached[0] is searcher:
                return cached[1]
        elif wide and searcher.num_docs:
            # `count` is missing from tantivy's stubs (0.27), not from the result.
            matches = getattr(searcher.search(query, 1, count=True), "count", None) or 0
            if matches > COMPLEMENT_SHARE * searcher.num_docs:
                return self._complement(searcher, query)
        answer = searcher.aggregate(query or tantivy.Query.all_query(), _AGGREGATIONS)
        counted = _buckets(answer)
        if query is None:
            self._everything = (searcher, counted)
        return counted

    def _complement(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> dict[str, list[tuple[str, int]]]:
        everything = self.counts(searcher, None)
        outside = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, query)]
        )
        missing = _buckets(searcher.aggregate(outside, _AGGREGATIONS))
        counted: dict[str, list[tuple[str, int]]] = {}
        for name in FACETS:
            less = dict(missing[name])
            counted[name] = [
                (value, count - less.get(value, 0))
                for value, count in everything[name]
                if count > less.get(value, 0)
            ]
        return counted

    def held_values(self) -> dict[str, list[str]]:
        """Facet values the index holds (for matching typed city and country names)."""
        counted = self.counts(self.engine.searcher, None)
        return {name: [value for value, _ in counted[name]] for name in ("city", "country")}

    def resolve(self, typed: Mapping[str, list[str]]) -> dict[str, list[str]]:
        """Facet filters as typed -> as indexed; `BadRequest` for an unknown facet or value."""
        held: dict[str, list[str]] | None = None
        resolved: dict[str, list[str]] = {}
        for name, values in typed.items():
            chosen = [v for v in values if v.strip()]
            if not chosen:
                continue
            if name in ("city", "country") and held is None:
                held = self.held_values()
            resolved[name] = sorted({facets.resolve(name, v, held) for v in chosen})
        return resolved

    def analysers(self, searcher: tantivy.Searcher) -> tuple[str, ...]:
        """The analysers whose fields hold text in this index (a query looks only there)."""
        written = {analysis.analyser_of(tag) for tag, _ in self.counts(searcher, None)["language"]}
        return tuple(lang for lang in analysis.ANALYSERS if lang in written) or analysis.ANALYSERS

    def detect_language(self, parsed: Parsed, searcher: tantivy.Searcher) -> str | None:
        """The language the query words most likely came from (None when nothing tells).

        A word votes for a language when it is one of that language's stopwords ("for", "de",
        "dos"), or by how common its term is in that language's text (document frequency in its
        fields relative to the records written in that language).
        """
        words = [*parsed.words, *(w for p in parsed.phrases for w in p)]
        if not words:
            return None
        written = dict(self.counts(searcher, None).get("language", []))
        votes: dict[str, float] = {}
        for word in words:
            for lang in analysis.STEMMED:
                found = analysis.terms(word, lang)
                if not found:  # a stopword of this language
                    votes[lang] = votes.get(lang, 0.0) + 1.0
                    continue
                documents = sum(n for tag, n in written.items() if tag.split("-")[0] == lang)
                if not documents:
                    continue
                frequency = searcher.doc_freq(head_field(lang), found[0]) + searcher.doc_freq(
                    body_field(lang), found[0]
                )
                if frequency:
                    votes[lang] = votes.get(lang, 0.0) + min(1.0, 4 * frequency / documents)
        if not votes:
            return None
        best = max(sorted(votes), key=lambda lang: votes[lang])
        return best if votes[best] > 0 else None

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run a query against the local index (read-only)."""
        filters = self.resolve(query.facets)
        parsed = parse(query.text, self.labels)
        searcher = self.engine.searcher
        position = self.engine.position()
        lang = query.lang or self.detect_language(parsed, searcher) or "en"
        built = plan.build(self.engine.index.schema, parsed, filters, self.analysers(searcher))
        notices = list(parsed.notices)
        everything = not built.has_text and not filters and not parsed.excluded_words
        everything = everything and not parsed.excluded_phrases
        by_date = query.sort == "date" or not built.has_text
        # The engine's work runs in threads (tantivy releases the GIL while it searches and
        # counts), so a heavy query does not hold the event loop; the page of hits and the
        # counts are found at once, on two cores (module docstring).
        (seqs, scores), counted = await asyncio.gather(
            asyncio.to_thread(self._ranked, searcher, built.query, query, by_date),
            asyncio.to_thread(
                self.counts, searcher, None if everything else built.query, wide=built.wide
            ),
        )
        total = sum(n for _, n in counted["type"])
        hits = await self.hits(seqs, scores, lang, built.terms, parsed.concepts)
        return SearchResult(
            total=total,
            hits=hits,
            facets=_facet_lists(counted, lang),
            notices=notices,
            lang=lang,
            position=position,
        )

    def _ranked(
        self,
        searcher: tantivy.Searcher,
        ranked: tantivy.Query,
        query: SearchQuery,
        by_date: bool,
    ) -> tuple[list[int], list[float | None]]:
        """The page of hits: log positions and scores."""
        if by_date:
            found = searcher.search(
                ranked,
                query.limit,
                count=False,
                order_by_field="modified",
                offset=query.offset,
                order=tantivy.Order.Desc,
            )
        else:
            found = searcher.search(ranked, query.limit, count=False, offset=query.offset)
        addresses = [address for _, address in found.hits]
        seqs = (
            [int(s or 0) for s in searcher.fast_field_values("seq", addresses)] if addresses else []
        )
        scores: list[float | None] = [None if by_date else float(sc) for sc, _ in found.hits]
        return seqs, scores

    async def city_of(self, did: str) -> str | None:
        """The city of an origin node (None when the node is unknown)."""
        if did not in self._origins:
            self._origins = await all_origins(self.db.reader)
        origin = self._origins.get(did)
        return origin.city if origin else None

    async def hits(
        self,
        seqs: list[int],
        scores: list[float | None],
        lang: str,
        terms: Mapping[str, set[str]],
        named: Mapping[str, str],
    ) -> list[Hit]:
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        async with self.db.reader.execute(
            f"SELECT seq, origin, body FROM records WHERE seq IN ({marks})", seqs
        ) as cursor:
            rows = {row[0]: (row[1], row[2]) for row in await cursor.fetchall()}
        if any(rows[s][0] not in self._origins for s in seqs if s in rows):
            self._origins = await all_origins(self.db.reader)
        hits = []
        for seq, score in zip(seqs, scores, strict=True):
            if seq not in rows:
                continue
            did, body = rows[seq]
            doc = readable(body)
            if doc is None:
                continue  # not indexed either (indexer.py); only a stale index holds it
            origin = self._origins.get(did)
            title_lang, title = next(iter(ordered(doc.get("title") or {}, lang)), ("", ""))
            text, matched = snippet(doc, lang, terms)
            tagged = {*(doc.get("themes") or ()), *(doc.get("sdgs") or ())}
            tagged |= {g for g in map(concepts.sdg_goal, doc.get("sdgs") or ()) if g}
            why = ["text"] if matched else []
            why.extend(
                f"concept: {concepts.label(iri, lang)} ({concepts.kind(iri)})"
                for iri in named
                if iri in tagged
            )
            hits.append(
                Hit(
                    id=doc["id"],
                    type=doc.get("type", ""),
                    city=origin.city if origin else "",
                    country=origin.country if origin else "",
                    origin=origin.base_url if origin else "",
                    title=title,
                    title_lang=title_lang,
                    snippet=text,
                    signature=signature_of(doc, self.keys),
                    version=int(doc.get("version", 1)),
                    modified=str(doc.get("modified", "")),
                    why=(why or ["text"]) if terms or named else why,
                    score=None if score is None or math.isnan(score) else round(score, 4),
                )
            )
        return hits


def _buckets(answer: Mapping[str, Any]) -> dict[str, list[tuple[str, int]]]:
    return {
        name: [(str(b["key"]), int(b["doc_count"])) for b in answer[name]["buckets"]]
        for name in FACETS
    }


def _facet_lists(
    counted: Mapping[str, list[tuple[str, int]]], lang: str
) -> dict[str, list[FacetValue]]:
    result: dict[str, list[FacetValue]] = {}
    for name in FACETS:
        values = heapq.nsmallest(
            FACET_VALUES_SHOWN, counted.get(name, []), key=lambda item: (-item[1], item[0])
        )
        result[name] = [
            FacetValue(value=value, label=facets.label(name, value, lang), count=count)
            for value, count in values[:FACET_VALUES_SHOWN]
        ]
    return result
