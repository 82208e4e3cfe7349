"""A parsed query + facet filters -> one tantivy query, and the terms a hit may have matched.

Ranking is BM25 over every matching record (tantivy's block-max WAND finds the top k without
scoring every match). The shape of the query decides whether WAND applies, so it is kept flat:
- Words are OR-ed: every (field, term) pair of every word is one `Should` term query, head fields
  boosted over body fields, so records matching more of the words, and matching them in the title
  or summary, come first. A word is looked up in each language's fields with that language's
  analyser (the query's language need not be known): "households" meets English "household",
  "hogares" Spanish "hogar".
- A concept named by the words (a theme or SDG label in any language) is one more `Should` term
  on its facet field, so the label bridges languages.
- A flat union of term queries is what tantivy runs with block-max WAND; filters and phrases
  need a conjunction, so only then is the union nested under `Must`.
- "Quoted phrases" are required: each is an OR over the languages' head and body fields of a
  phrase query (positions kept across dropped stopwords: "plan de movilidad" matches the
  indexed "plan _ movil").
- `-word` and `-"phrase"` are `MustNot`; facet filters are `Must` term sets (OR within a facet,
  AND across facets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

import tantivy
from tantivy import Occur, Query

from citynode.search import analysis, concepts
from citynode.search.expression import Parsed
from citynode.search.schema import body_field, head_field

HEAD_BOOST: Final = 3.0
BODY_BOOST: Final = 1.0
CONCEPT_BOOST: Final = 1.5
PHRASE_BOOST: Final = 2.0


@dataclass(slots=True)
class Plan:
    query: Query
    #: Analyser -> terms a hit's text in that language may match (for snippets and "why").
    terms: dict[str, set[str]] = field(default_factory=dict)
    has_text: bool = False
    #: A flat union of words: it may match most of the index (query.py counts it from the
    #: other side then).
    wide: bool = False


def concept_field(iri: str) -> str | None:
    """The facet field a concept IRI is indexed in."""
    if iri.startswith(concepts.SDG_PREFIX):
        return "sdg_goal" if concepts.sdg_goal(iri) == iri else "sdg_target"
    if iri.startswith(concepts.THEME_PREFIXES):
        return "theme"
    return None


def _word_terms(word: str, languages: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for lang in languages:
        analysed = analysis.terms(word, lang)
        if analysed:
            found[lang] = analysed[0]
    return found


def _phrase(
    schema: tantivy.Schema, words: list[str], languages: Iterable[str], terms: dict[str, set[str]]
) -> Query | None:
    """The phrase in any language's head or body (None when no language keeps a word of it)."""
    text = " ".join(words)
    alternatives: list[tuple[Occur, Query]] = []
    for lang in languages:
        pre = analysis.analyser(lang).pre_tokenize(analysis.prepare(text, lang)).tokens
        if not pre:
            continue
        first = pre[0].position
        placed: list[str | tuple[int, str]] = [(t.position - first, t.text) for t in pre]
        terms.setdefault(lang, set()).update(t.text for t in pre)
        for name, boost in ((head_field(lang), HEAD_BOOST), (body_field(lang), BODY_BOOST)):
            if len(pre) == 1:
                query = Query.term_query(schema, name, pre[0].text)
            else:
                query = Query.phrase_query(schema, name, placed)
            alternatives.append((Occur.Should, Query.boost_query(query, boost * PHRASE_BOOST)))
    return Query.boolean_query(alternatives) if alternatives else None


def _terms_of(schema: tantivy.Schema, word: str, languages: Iterable[str]) -> list[Query]:
    queries = []
    for lang, term in _word_terms(word, languages).items():
        queries.append(Query.term_query(schema, head_field(lang), term))
        queries.append(Query.term_query(schema, body_field(lang), term))
    return queries


def build(
    schema: tantivy.Schema,
    parsed: Parsed,
    filters: Mapping[str, list[str]],
    languages: Iterable[str],
) -> Plan:
    """The query for a parsed text and resolved facet filters (values as indexed)."""
    languages = tuple(languages)
    plan = Plan(query=Query.all_query())
    should: list[tuple[Occur, Query]] = []
    seen: set[tuple[str, str]] = set()
    for word in parsed.words:
        for lang, term in _word_terms(word, languages).items():
            plan.terms.setdefault(lang, set()).add(term)
            for name, boost in ((head_field(lang), HEAD_BOOST), (body_field(lang), BODY_BOOST)):
                if (name, term) in seen:
                    continue
                seen.add((name, term))
                should.append(
                    (Occur.Should, Query.boost_query(Query.term_query(schema, name, term), boost))
                )
    for iri in parsed.concepts:
        field_name = concept_field(iri)
        if field_name is not None and (field_name, iri) not in seen:
            seen.add((field_name, iri))
            should.append(
                (
                    Occur.Should,
                    Query.boost_query(Query.term_query(schema, field_name, iri), CONCEPT_BOOST),
                )
            )
    required: list[tuple[Occur, Query]] = []
    for words in parsed.phrases:
        phrase = _phrase(schema, words, languages, plan.terms)
        if phrase is not None:
            required.append((Occur.Must, phrase))
        else:  # only stopwords in every language: the phrase can match nothing
            required.append((Occur.Must, Query.empty_query()))
    excluded: list[tuple[Occur, Query]] = []
    for word in parsed.excluded_words:
        excluded.extend((Occur.MustNot, q) for q in _terms_of(schema, word, languages))
    for words in parsed.excluded_phrases:
        phrase = _phrase(schema, words, languages, {})
        if phrase is not None:
            excluded.append((Occur.MustNot, phrase))
    for name, values in sorted(filters.items()):
        required.append((Occur.Must, Query.term_set_query(schema, name, sorted(values))))

    plan.has_text = bool(should or parsed.phrases)
    if should and not required and not excluded:
        plan.query = Query.boolean_query(should)  # a flat union: block-max WAND
        plan.wide = True
        return plan
    clauses = list(required)
    if should:
        union = Query.boolean_query(should)
        # With phrases the words only add to the score; without, at least one must match.
        clauses.append((Occur.Should if parsed.phrases else Occur.Must, union))
    if not any(occur == Occur.Must for occur, _ in clauses):
        clauses.append((Occur.Must, Query.all_query()))
    plan.query = Query.boolean_query([*clauses, *excluded])
    return plan
