"""The taxonomies' concepts as plain Python, loaded from a JSON snapshot.

The search index and the web pages ask for labels on every request, and a node should start in
well under a second, so this module never touches rdflib: it reads `concepts.json`, which
`vocab.snapshot` builds from the Turtle files in `taxonomies/` (a test keeps the two equal).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from vocab.errors import UnknownConcept

SNAPSHOT: Final = Path(__file__).parent / "concepts.json"

SDG_SCHEME: Final = "http://metadata.un.org/sdg"
EU_THEME_SCHEME: Final = "http://publications.europa.eu/resource/authority/data-theme"
THEME_SCHEME: Final = "https://w3id.org/citynode/theme"
STATUS_SCHEME: Final = "https://w3id.org/citynode/status"
INDICATOR_SCHEME: Final = "https://w3id.org/citynode/indicator"
#: The schemes whose labels lead a search word to a concept (`terms_by_label`): the ones records
#: are faceted by. The other schemes (indicators, stage, kinds...) label values on pages and in
#: the API but are not search terms.
SEARCH_SCHEMES: Final = frozenset({SDG_SCHEME, EU_THEME_SCHEME, THEME_SCHEME, STATUS_SCHEME})

#: Label fallback after the asked language (docs/DESIGN.md: the node speaks es and en first).
FALLBACK_LANGUAGES: Final = ("en", "es")


@dataclass(frozen=True, slots=True)
class Concept:
    """One SKOS concept: what the node needs to label, facet and search by it."""

    iri: str
    scheme: str
    notation: str | None
    pref_label: Mapping[str, str]
    alt_labels: Mapping[str, tuple[str, ...]]
    definition: Mapping[str, str]
    broader: tuple[str, ...]
    close_match: tuple[str, ...]
    related_match: tuple[str, ...]
    exact_match: tuple[str, ...] = ()
    #: Indicators only: the canonical UCUM unit, the population base of a per-capita figure,
    #: and the UN SDG indicator code it is (when it is one).
    unit: str | None = None
    per_capita_per: int | None = None
    sdg_indicator: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "scheme": self.scheme,
            "notation": self.notation,
            "prefLabel": dict(self.pref_label),
            "altLabels": {lang: list(values) for lang, values in self.alt_labels.items()},
            "definition": dict(self.definition),
            "broader": list(self.broader),
            "closeMatch": list(self.close_match),
            "relatedMatch": list(self.related_match),
            "exactMatch": list(self.exact_match),
            "unit": self.unit,
            "perCapitaPer": self.per_capita_per,
            "sdgIndicator": self.sdg_indicator,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Concept:
        return cls(
            iri=data["iri"],
            scheme=data["scheme"],
            notation=data["notation"],
            pref_label=MappingProxyType(dict(data["prefLabel"])),
            alt_labels=MappingProxyType(
                {lang: tuple(values) for lang, values in data["altLabels"].items()}
            ),
            definition=MappingProxyType(dict(data["definition"])),
            broader=tuple(data["broader"]),
            close_match=tuple(data["closeMatch"]),
            related_match=tuple(data["relatedMatch"]),
            exact_match=tuple(data.get("exactMatch", ())),
            unit=data.get("unit"),
            per_capita_per=data.get("perCapitaPer"),
            sdg_indicator=data.get("sdgIndicator"),
        )


@cache
def concepts() -> Mapping[str, Concept]:
    """Every concept of the bundled taxonomies, by IRI (read-only, cached)."""
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return MappingProxyType({item["iri"]: Concept.from_json(item) for item in data["concepts"]})


def concept(iri: str) -> Concept:
    """The concept with this IRI; `UnknownConcept` if no bundled taxonomy has it."""
    found = concepts().get(iri)
    if found is None:
        raise UnknownConcept(iri)
    return found


def label(concept_iri: str, lang: str) -> str:
    """The concept's preferred label in `lang`, else in en, else es, else any language."""
    labels = concept(concept_iri).pref_label
    for candidate in (lang, *FALLBACK_LANGUAGES):
        if candidate in labels:
            return labels[candidate]
    return labels[min(labels)] if labels else concept_iri


def sdg_goal(iri: str) -> str:
    """The goal IRI of an SDG goal or target (`.../sdg/11.2` -> `.../sdg/11`)."""
    found = concept(iri)
    if found.scheme != SDG_SCHEME:
        raise UnknownConcept(iri, "SDG goal or target")
    return found.broader[0] if found.broader else found.iri


def in_scheme(scheme: str) -> list[Concept]:
    """The concepts of one scheme, in notation order."""
    return sorted(
        (c for c in concepts().values() if c.scheme == scheme),
        key=lambda c: _notation_key(c.notation or c.iri),
    )


def _notation_key(notation: str) -> tuple[tuple[int, str], ...]:
    # "9.c" < "11.2" < "11.a": numbers as numbers, letters after them.
    return tuple((int(p), "") if p.isdigit() else (1 << 30, p) for p in notation.split("."))


_QUOTES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00ab": '"', "\u00bb": '"'})


def fold(text: str) -> str:
    """Lower-case, strip diacritics, normalize quotes and spaces: how labels are matched.

    The same folding as SQLite FTS5's `unicode61 remove_diacritics 2`, so "Conectividad",
    "conectividad" and "CONECTIVIDAD" meet, and so do "inclusão" and "inclusao".
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


@cache
def terms_by_label() -> Mapping[str, frozenset[str]]:
    """Folded label (pref or alt, any language, and the notation) -> the concept IRIs it names.

    This is what makes search cross-language: "connectivity", "conectividad", "conectividade" and
    "wifi" all lead to https://w3id.org/citynode/theme#connectivity.
    """
    index: dict[str, set[str]] = {}
    for item in concepts().values():
        if item.scheme not in SEARCH_SCHEMES:
            continue
        words = [*item.pref_label.values()]
        for values in item.alt_labels.values():
            words.extend(values)
        if item.notation:
            words.append(item.notation)
        for word in words:
            index.setdefault(fold(word), set()).add(item.iri)
    return MappingProxyType({key: frozenset(value) for key, value in index.items()})
