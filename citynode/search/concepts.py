"""Taxonomy concepts in search: query words -> concepts, and how concepts are shown.

A record's themes and SDGs are facet fields of the index (schema.py). A run of query words that
is a taxonomy label in any language (es/en/pt/fr labels and SDG notations, via
`vocab.terms_by_label()`) also matches the records tagged with that concept (plan.py), so
English "connectivity" finds a Spanish-only record tagged theme#connectivity, and the hit says
so ("concept: Connectivity (theme)").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

import vocab
from vocab.errors import UnknownConcept

#: Lower-cased, diacritics-folded label -> concept IRIs (the shape of vocab.terms_by_label()).
LabelMap = Mapping[str, Iterable[str]]

THEME_PREFIXES: Final = (
    "https://w3id.org/citynode/theme#",
    "http://publications.europa.eu/resource/authority/data-theme/",
)
SDG_PREFIX: Final = "http://metadata.un.org/sdg/"
_SDG: Final = re.compile(r"^http://metadata\.un\.org/sdg/(\d{1,2})(?:\.[0-9a-z]{1,2})?$")
#: Longest label (in words) looked for among consecutive query words.
MAX_LABEL_WORDS: Final = 6


def is_indexed_concept(iri: str) -> bool:
    """Themes and SDGs are indexed as concepts (statuses are a facet only)."""
    return iri.startswith(THEME_PREFIXES) or iri.startswith(SDG_PREFIX)


def sdg_goal(iri: str) -> str | None:
    """The goal IRI of an SDG goal or target IRI, parsed (works for any well-formed UN IRI)."""
    match = _SDG.match(iri)
    return f"{SDG_PREFIX}{int(match.group(1))}" if match else None


def kind(iri: str) -> str:
    """Which facet a concept belongs to, as said in a hit's 'why' ("theme", "SDG")."""
    if iri.startswith(SDG_PREFIX):
        return "SDG"
    if iri.startswith(THEME_PREFIXES):
        return "theme"
    return "concept"


def default_labels() -> LabelMap:
    """The bundled taxonomies' labels (es/en/pt/fr pref and alt labels, SDG notations)."""
    return vocab.terms_by_label()


def label(iri: str, lang: str) -> str:
    """A concept's label in the reader's language, falling back to a readable IRI tail."""
    try:
        return vocab.label(iri, lang)
    except UnknownConcept:  # an IRI no bundled taxonomy knows (e.g. a newer peer's theme)
        pass
    tail = re.split(r"[#/]", iri.rstrip("/"))[-1]
    if iri.startswith(SDG_PREFIX):
        return f"SDG {tail}"
    return tail.replace("-", " ").capitalize()


def lookup(words: list[str], labels: LabelMap) -> dict[tuple[int, int], frozenset[str]]:
    """Spans (start, end) of consecutive query words that are a label -> the indexed concepts.

    Longest label first, left to right, so "public transport" wins over "transport" alone.
    """
    labels = _normalized(labels)
    found: dict[tuple[int, int], frozenset[str]] = {}
    start = 0
    while start < len(words):
        for end in range(min(len(words), start + MAX_LABEL_WORDS), start, -1):
            iris = labels.get(" ".join(words[start:end]))
            hits = frozenset(i for i in iris or () if is_indexed_concept(i))
            if hits:
                found[(start, end)] = hits
                start = end
                break
        else:
            start += 1
    return found


_normal_cache: dict[int, tuple[LabelMap, dict[str, frozenset[str]]]] = {}


_WORD: Final = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Folded words of a text, as labels and query words are compared ("Well-being" ->
    ["well", "being"])."""
    return _WORD.findall(vocab.fold(text))


def _normalized(labels: LabelMap) -> dict[str, frozenset[str]]:
    """Labels re-keyed by their folded words ("well-being" -> "well being"), as query words."""
    cached = _normal_cache.get(id(labels))
    if cached is not None and cached[0] is labels:
        return cached[1]
    result: dict[str, set[str]] = {}
    for key, iris in labels.items():
        result.setdefault(" ".join(words(key)), set()).update(iris)
    frozen = {key: frozenset(value) for key, value in result.items() if key}
    if len(_normal_cache) > 8:
        _normal_cache.clear()
    _normal_cache[id(labels)] = (labels, frozen)
    return frozen
