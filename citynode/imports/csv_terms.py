"""Cell readers for the cells that name vocabulary terms: practice types, statuses, measurement
roles, themes, SDGs and the concepts of the small citynode schemes.

Clerks write the term in their words ("en curso", "SDG 11.2", "Conectividad"); the readers give
the term's IRI, or raise `CellError` naming what to write instead (`csv_cells` says more).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Final

from citynode.imports.csv_cells import CellError, fold, split_list, unique
from protocol.records import SDG_NS, STATUS_NS, THEME_NS
from vocab import taxonomy

EU_THEME_NS: Final = "http://publications.europa.eu/resource/authority/data-theme/"

# Themes and SDGs come from the bundled taxonomies (vocab.taxonomy reads a JSON snapshot, no
# rdflib), so the importer accepts exactly what the vocabulary defines.
_THEMES: Final = {c.notation or c.iri: c.iri for c in taxonomy.in_scheme(taxonomy.THEME_SCHEME)}
#: The urban practice theme slugs (`https://w3id.org/citynode/theme#<slug>`).
THEME_SLUGS: Final = frozenset(_THEMES)
#: The EU data-theme codes, minus `OP_DATPRO` ("provisional data"), which is not a subject.
EU_THEMES: Final = frozenset(
    c.iri.removeprefix(EU_THEME_NS)
    for c in taxonomy.in_scheme(taxonomy.EU_THEME_SCHEME)
    if not c.iri.endswith("OP_DATPRO")
)
#: SDG goal and target codes as the UN writes them ("11", "11.2", "9.c"), in notation order.
SDG_CODES: Final = tuple(
    c.iri.removeprefix(SDG_NS) for c in taxonomy.in_scheme(taxonomy.SDG_SCHEME)
)

STATUSES: Final = ("planned", "ongoing", "completed", "suspended", "discontinued")
# Spanish and Portuguese words clerks use, folded (lowercase, no accents).
_STATUS_WORDS: Final = {
    **{s: s for s in STATUSES},
    "en curso": "ongoing",
    "em curso": "ongoing",
    "en ejecucion": "ongoing",
    "em andamento": "ongoing",
    "activo": "ongoing",
    "ativo": "ongoing",
    "in progress": "ongoing",
    "planeado": "planned",
    "planificado": "planned",
    "planeada": "planned",
    "planificada": "planned",
    "previsto": "planned",
    "planejado": "planned",
    "completado": "completed",
    "completada": "completed",
    "terminado": "completed",
    "terminada": "completed",
    "finalizado": "completed",
    "finalizada": "completed",
    "concluido": "completed",
    "concluida": "completed",
    "suspendido": "suspended",
    "suspendida": "suspended",
    "suspenso": "suspended",
    "suspensa": "suspended",
    "descontinuado": "discontinued",
    "descontinuada": "discontinued",
    "discontinuado": "discontinued",
    "discontinuada": "discontinued",
    "cancelado": "discontinued",
    "cancelada": "discontinued",
}

_TYPE_WORDS: Final = {
    "project": "Project",
    "proyecto": "Project",
    "projeto": "Project",
    "projecto": "Project",
    "policy": "Policy",
    "politica": "Policy",
    "politica publica": "Policy",
    "programme": "Programme",
    "program": "Programme",
    "programa": "Programme",
}

_ROLE_WORDS: Final = {
    "observed": "observed",
    "observado": "observed",
    "observada": "observed",
    "medido": "observed",
    "medida": "observed",
    "actual": "observed",
    "baseline": "baseline",
    "linea base": "baseline",
    "linea de base": "baseline",
    "linha de base": "baseline",
    "base": "baseline",
    "target": "target",
    "meta": "target",
    "objetivo": "target",
    "objectivo": "target",
}

_SDG_RE: Final = re.compile(
    r"^(?:(?:sdg|ods|goal|objetivo|objectivo|target|meta)\s*)?0?(\d{1,2})(?:\.(\d{1,2}|[a-z]))?$"
)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def read_type(cell: str) -> str:
    kind = _TYPE_WORDS.get(fold(cell))
    if kind is None:
        raise CellError(
            f"'{cell}' is not a practice type; use Project, Policy or Programme "
            "(or Proyecto, Política, Programa)"
        )
    return kind


def read_status(cell: str) -> str:
    text = cell.strip()
    if text.startswith(STATUS_NS) and text.removeprefix(STATUS_NS) in STATUSES:
        return text
    status = _STATUS_WORDS.get(fold(text))
    if status is None:
        raise CellError(
            f"'{cell}' is not a status; use one of {', '.join(STATUSES)} "
            "(or planeado, en curso, completado, suspendido, descontinuado)"
        )
    return STATUS_NS + status


def read_role(cell: str) -> str:
    if not cell.strip():
        return "observed"
    role = _ROLE_WORDS.get(fold(cell))
    if role is None:
        raise CellError(
            f"'{cell}' is not a role; use observed, baseline or target "
            "(or observado, línea base, meta)"
        )
    return role


def read_theme(item: str) -> str:
    """A theme slug, its label in any language ("Conectividad"), an EU code (TECH) or an IRI."""
    text = item.strip()
    if text.startswith(EU_THEME_NS):
        if text.removeprefix(EU_THEME_NS) in EU_THEMES:
            return text
        raise CellError(f"'{item}' is not an EU data theme")
    slug = fold(text.removeprefix(THEME_NS)).replace(" ", "-").replace("_", "-")
    if slug in THEME_SLUGS:
        return _THEMES[slug]
    if slug.upper() in EU_THEMES:
        return EU_THEME_NS + slug.upper()
    named = taxonomy.terms_by_label().get(taxonomy.fold(text), frozenset()) & set(_THEMES.values())
    if len(named) == 1:
        return next(iter(named))
    raise CellError(
        f"'{item}' is not a theme; use one of {', '.join(sorted(THEME_SLUGS))}, or an EU data "
        f"theme such as TECH or GOVE{_suggest(slug, sorted(THEME_SLUGS))}"
    )


def read_themes(cell: str) -> list[str]:
    return unique(read_theme(item) for item in split_list(cell, ";,"))


def read_sdg(item: str) -> str:
    text = item.strip()
    for prefix in (SDG_NS, "https://metadata.un.org/sdg/"):
        if text.startswith(prefix):
            text = text.removeprefix(prefix)
            break
    match = _SDG_RE.match(fold(text))
    if match is None:
        raise CellError(
            f"'{item}' is not an SDG goal or target; write the goal (11) or the target "
            "(11.2, 9.c), optionally after 'SDG' or 'ODS'"
        )
    goal, target = int(match.group(1)), match.group(2)
    code = f"{goal}" if target is None else f"{goal}.{target.lstrip('0') or '0'}"
    if code in SDG_CODES:
        return SDG_NS + code
    if str(goal) not in SDG_CODES:
        raise CellError(f"'{item}': there is no SDG {goal}; the goals are 1 to 17")
    targets = [c for c in SDG_CODES if c.startswith(f"{goal}.")]
    raise CellError(
        f"'{item}': SDG {goal} has no target {code}; its targets are {', '.join(targets)}"
    )


def read_sdgs(cell: str) -> list[str]:
    return unique(read_sdg(item) for item in split_list(cell, ";,"))


def read_concept(scheme: str, words: str) -> Callable[[str], str]:
    """A reader for a concept of a small citynode scheme: its code (`pilot`) or its IRI."""
    namespace = f"https://w3id.org/citynode/{scheme}#"
    codes = {
        c.notation or c.iri: c.iri
        for c in taxonomy.in_scheme(f"https://w3id.org/citynode/{scheme}")
    }

    def read(cell: str) -> str:
        text = cell.strip()
        code = fold(text.removeprefix(namespace)).replace(" ", "-")
        if code in codes:
            return codes[code]
        raise CellError(f"'{cell}' is not one of {words}{_suggest(code, sorted(codes))}")

    return read
