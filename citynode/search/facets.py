"""Facet values as people type them -> the values the index holds, and how values are shown.

`theme=connectivity`, `theme=EDUC`, `sdg_goal=11`, `sdg_target=11.2`, `status=ongoing`,
`type=project` (any case) are accepted beside the full IRIs. A value that names nothing is a 400
that lists the valid ones (never a silent empty answer). `city` and `country` are matched without
regard to case or accents against the values the index holds; `year` and `published` take a
four-digit year; `language` a BCP 47 tag.

The bundled taxonomies define themes, statuses and SDGs; a record from a newer peer may carry an
IRI this node does not know: its full IRI is always accepted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Final

import vocab
from citynode.errors import BadRequest
from citynode.search import concepts
from citynode.search.schema import FACETS
from protocol.records import PRACTICE_TYPES

TYPES: Final = (*PRACTICE_TYPES, "Result")
LANGUAGE_NAMES: Final = {
    "es": "Español",
    "en": "English",
    "pt": "Português",
    "fr": "Français",
    "it": "Italiano",
    "de": "Deutsch",
    "nl": "Nederlands",
}
_YEAR: Final = re.compile(r"^\d{4}$")
_TAG: Final = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")
_SHOWN: Final = 12


def _scheme_values(scheme: str) -> dict[str, str]:
    """Folded short name, notation and IRI -> IRI, for one taxonomy."""
    found: dict[str, str] = {}
    for concept in vocab.in_scheme(scheme):
        iri = concept.iri
        found[vocab.fold(iri)] = iri
        tail = re.split(r"[#/]", iri)[-1]
        found[vocab.fold(tail)] = iri
        if concept.notation:
            found[vocab.fold(concept.notation)] = iri
    return found


def _listing(values: Iterable[str]) -> str:
    values = list(values)
    shown = ", ".join(values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "")


def _unknown(facet: str, value: str, valid: Iterable[str]) -> BadRequest:
    valid = list(valid)
    return BadRequest(
        f"{facet}={value!r} names nothing this node knows; use one of {_listing(valid)}",
        parameter=facet,
        value=value,
        valid=valid,
    )


def _themes() -> dict[str, str]:
    return {**_scheme_values(vocab.EU_THEME_SCHEME), **_scheme_values(vocab.THEME_SCHEME)}


def _sdgs(goals: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    for concept in vocab.in_scheme(vocab.SDG_SCHEME):
        is_goal = not concept.broader
        if is_goal != goals:
            continue
        tail = concept.iri.rsplit("/", 1)[-1]
        for key in (concept.iri, tail, f"sdg {tail}", f"sdg{tail}", concept.notation or tail):
            found[vocab.fold(key)] = concept.iri
    return found


def resolve(facet: str, value: str, indexed: Mapping[str, Iterable[str]] | None = None) -> str:
    """The indexed value a typed facet value names; `BadRequest` listing valid values if none.

    `indexed`: facet -> the values the index holds (for city and country).
    """
    typed = value.strip()
    key = vocab.fold(typed)
    if facet not in FACETS:
        raise BadRequest(f"'{facet}' is not a facet; use one of {', '.join(FACETS)}")
    if facet == "type":
        by_name = {t.lower(): t for t in TYPES}
        if key in by_name:
            return by_name[key]
        raise _unknown(facet, value, TYPES)
    if facet in ("theme", "status", "sdg_goal", "sdg_target"):
        if facet == "theme":
            table = _themes()
        elif facet == "status":
            table = _scheme_values(vocab.STATUS_SCHEME)
        else:
            table = _sdgs(goals=facet == "sdg_goal")
        if key in table:
            return table[key]
        if typed.startswith(("http://", "https://")):  # a concept this node does not know yet
            return typed
        if facet == "sdg_goal" and (goal := _sdgs(goals=False).get(key)):
            return concepts.sdg_goal(goal) or goal
        short = sorted({re.split(r"[#/]", iri)[-1] for iri in table.values()}, key=_natural)
        raise _unknown(facet, value, short)
    if facet in ("year", "published"):
        if _YEAR.match(typed):
            return typed
        raise BadRequest(
            f"{facet}={value!r} is not a year; write it as four digits, e.g. {facet}=2021",
            parameter=facet,
            value=value,
        )
    if facet == "language":
        if _TAG.match(typed):
            return typed.lower()
        raise BadRequest(
            f"language={value!r} is not a language tag; e.g. es, en, pt, fr, pt-BR",
            parameter=facet,
            value=value,
        )
    held = list((indexed or {}).get(facet, ()))
    by_fold = {vocab.fold(v): v for v in held}
    if key in by_fold:
        return by_fold[key]
    if not held:
        return typed  # an empty index: nothing to check against, nothing will match
    raise _unknown(facet, value, sorted(held))


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in re.split(r"(\d+)", text) if p)


@functools.lru_cache(maxsize=65_536)
def label(facet: str, value: str, lang: str) -> str:
    """How a facet value is shown to a reader of `lang`."""
    if facet in ("theme", "sdg_goal", "sdg_target", "status"):
        return concepts.label(value, lang)
    if facet == "language":
        return LANGUAGE_NAMES.get(value, value)
    return value
