"""Cell readers for the CSV templates: one spreadsheet cell in, one record value out.

Each reader takes the text of a cell and returns the value the record model wants, or raises
`CellError` with a sentence a city clerk can act on. Clerks type what they know ("en curso",
"SDG 11.2", "connectivity", "6/3/2014"), so readers accept the usual short and local forms and
expand them; they never guess where a value is ambiguous ("13.700" is refused, not read as 13.7).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Final

from protocol.records import SDG_NS, STATUS_NS, THEME_NS
from vocab import taxonomy

EU_THEME_NS: Final = "http://publications.europa.eu/resource/authority/data-theme/"
WIKIDATA_NS: Final = "http://www.wikidata.org/entity/"

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

_TRUE: Final = frozenset({"yes", "y", "true", "1", "x", "si", "sim", "verdadero", "verdadeiro"})
_FALSE: Final = frozenset({"no", "n", "false", "0", "nao", "falso"})

SLUG_RE: Final = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SDG_RE: Final = re.compile(
    r"^(?:(?:sdg|ods|goal|objetivo|objectivo|target|meta)\s*)?0?(\d{1,2})(?:\.(\d{1,2}|[a-z]))?$"
)
_ISO_DATE: Final = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_DMY_DATE: Final = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_PERIOD: Final = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$")
_NUMBER: Final = re.compile(r"^([+-]?\d+)(?:([.,])(\d+))?$")
_URL: Final = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WIKIDATA: Final = re.compile(r"^(?:https?://www\.wikidata\.org/(?:entity|wiki)/)?(Q\d+)$")


class CellError(ValueError):
    """A cell that cannot be read; the message says what to write instead."""


def fold(text: str) -> str:
    """Lowercase, accents removed, inner spaces collapsed: "Línea  Base" -> "linea base"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def split_list(cell: str, separators: str = ";") -> list[str]:
    """List cells are separated by ';' (commas also split the code lists, which never hold one)."""
    parts = re.split(f"[{re.escape(separators)}]", cell)
    return [part.strip() for part in parts if part.strip()]


def read_slug(cell: str) -> str:
    slug = cell.strip().removeprefix("records/")
    if not SLUG_RE.match(slug) or len(slug) > 120:
        hint = re.sub(r"[^a-z0-9]+", "-", fold(slug)).strip("-")
        example = f", for example '{hint}'" if hint and SLUG_RE.match(hint) else ""
        raise CellError(
            f"'{cell}' is not a valid slug; use lowercase letters without accents, digits and "
            f"hyphens{example}"
        )
    return slug


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
    return _unique(read_theme(item) for item in split_list(cell, ";,"))


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
    return _unique(read_sdg(item) for item in split_list(cell, ";,"))


def read_partial_date(cell: str) -> str:
    """A year (2020), a year and month (2020-03), or a date as `read_date` reads it."""
    text = cell.strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    month = re.fullmatch(r"(\d{4})[-/](\d{1,2})", text)
    if month:
        if not 1 <= int(month.group(2)) <= 12:
            raise CellError(f"'{cell}' is not a real month")
        return f"{month.group(1)}-{int(month.group(2)):02d}"
    return read_date(text)


def read_date(cell: str) -> str:
    """ISO dates, or day first (6/3/2014) as Excel writes them in Spanish and Portuguese."""
    text = cell.strip()
    iso = _ISO_DATE.match(text)
    dmy = _DMY_DATE.match(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif dmy:
        day, month, year = (int(part) for part in dmy.groups())
    else:
        only_year = re.fullmatch(r"\d{4}", text) is not None
        extra = (
            "; a date needs day, month and year. If you only know the year, leave the cell "
            "empty and say the year in the summary"
            if only_year
            else ""
        )
        raise CellError(f"'{cell}' is not a date; write YYYY-MM-DD (2022-03-06){extra}")
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise CellError(f"'{cell}' is not a real date (day {day}, month {month})") from None


def read_period(cell: str) -> str:
    """A year, month or day, or an interval of those; "2020-2023" is read as 2020/2023."""
    text = cell.strip().replace(" ", "")
    years = re.fullmatch(r"(\d{4})-(\d{4})", text)
    if years:
        text = f"{years.group(1)}/{years.group(2)}"
    problem = not _PERIOD.match(text)
    if not problem:
        # The pattern (the model's) lets "2023-13" through; read each end as a real date.
        ends = [(part + "-01-01")[:10] for part in text.split("/")]
        try:
            dates = [dt.date.fromisoformat(end) for end in ends]
        except ValueError:
            problem = True
        else:
            problem = len(dates) == 2 and dates[1] < dates[0]
    if problem:
        raise CellError(
            f"'{cell}' is not a period; write a year (2023), a month (2023-06), a day (2023-06-30) "
            "or an interval from earlier to later (2020/2023)"
        )
    return text


def read_number(cell: str) -> int | float:
    """Decimal point or comma; no thousands separators, since "13.700" is 13.7 or 13700."""
    text = re.sub(r"[\s\u00a0\u202f]", "", cell)  # spaces, incl. the ones Excel puts in 13 700
    match = _NUMBER.match(text)
    if match is None:
        raise CellError(
            f"'{cell}' is not a number; write digits only, such as 13700 or 2.5, without "
            "thousands separators, units or % signs (put the unit in the 'unit' column)"
        )
    whole, separator, decimals = match.groups()
    if separator is None:
        return int(whole)
    if len(decimals) == 3 and whole.lstrip("+-").strip("0"):
        raise CellError(
            f"'{cell}' is ambiguous: write {whole}{decimals} for a whole number (without a "
            f"thousands separator), or {whole}.{decimals}0 for a fraction"
        )
    return float(f"{whole}.{decimals}")


def read_percent(cell: str) -> int:
    text = cell.strip().removesuffix("%").strip()
    if not re.fullmatch(r"\d{1,3}", text) or int(text) > 100:
        raise CellError(
            f"'{cell}' is not a progress percentage; write a whole number from 0 to 100"
        )
    return int(text)


def read_url(cell: str) -> str:
    text = cell.strip()
    if not _URL.match(text) or len(text) > 2000:
        raise CellError(f"'{cell}' is not a web address; write it in full, starting with https://")
    return text


def read_email(cell: str) -> str:
    text = cell.strip().removeprefix("mailto:")
    if not _EMAIL.match(text):
        raise CellError(f"'{cell}' is not an e-mail address")
    return f"mailto:{text}"


def read_wikidata(cell: str) -> str:
    match = _WIKIDATA.match(cell.strip())
    if match is None:
        raise CellError(
            f"'{cell}' is not a Wikidata item; write its Q number (Q48278 for Medellín) or its "
            "http://www.wikidata.org/entity/ address"
        )
    return WIKIDATA_NS + match.group(1)


def read_bool(cell: str) -> bool:
    word = fold(cell)
    if word in _TRUE:
        return True
    if word in _FALSE or not word:
        return False
    raise CellError(f"'{cell}' is not yes or no; write yes or no (sí/no, sim/não)")


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


def read_marks(cell: str) -> bool | list[str]:
    """An `illustrative` cell: yes/no for the whole row's object, or the names of the fields
    that no source gives (`status; period`)."""
    word = fold(cell)
    if word in _TRUE:
        return True
    if word in _FALSE or not word:
        return False
    return read_field_names(cell)


def read_field_names(cell: str) -> list[str]:
    """Field names (JSON terms) separated by ';' or ',': `summary; problem`."""
    names = split_list(cell, ";,")
    for name in names:
        if not re.fullmatch(r"[a-z][A-Za-z]{0,40}", name):
            raise CellError(
                f"'{name}' is not a field name; write the fields' names as in the record "
                "(summary, problem, status, period...), separated by ';'"
            )
    return names


def read_iris(cell: str) -> list[str]:
    """Web addresses separated by ';' (partOf, hasPart)."""
    return _unique(read_url(item) for item in split_list(cell))


def read_json_list(cell: str) -> list[object]:
    """A JSON list of objects, as the CSV export writes nested fields (funders, costs...)."""
    try:
        value = json.loads(cell)
    except json.JSONDecodeError as exc:
        raise CellError(f"this cell is not a JSON list of objects: {exc.msg}") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CellError("this cell must be a JSON list of objects, like [{...}, {...}]")
    return value


def read_organisations(cell: str, language: str) -> list[object]:
    """Funders or partners: a JSON list, or `name | kind | Wikidata or ROR id` separated by ';'
    (the name in `language`)."""
    if cell.lstrip().startswith("["):
        return read_json_list(cell)
    kinds = read_concept(
        "organisation-kind", "public, private, academic, civil-society or multilateral"
    )
    found: list[object] = []
    for entry in split_list(cell):
        parts = [part.strip() for part in entry.split("|")]
        org: dict[str, object] = {"type": "Organisation", "name": {language: parts[0]}}
        for part in parts[1:]:
            if not part:
                continue
            if part.startswith(("http://", "https://")) or re.fullmatch(r"Q\d+", part):
                org["sameAs"] = read_wikidata(part) if part.startswith("Q") else read_url(part)
            else:
                org["kind"] = kinds(part)
        found.append(org)
    return found


def read_adaptations(cell: str, language: str) -> list[object]:
    """adaptedFrom: a JSON list, or `https://address of the practice | what changed` entries
    separated by ';' (what changed in `language`)."""
    if cell.lstrip().startswith("["):
        return read_json_list(cell)
    found: list[object] = []
    for entry in split_list(cell):
        address, _, changes = (part.strip() for part in entry.partition("|"))
        item: dict[str, object] = {"type": "Adaptation", "practice": read_url(address)}
        if changes:
            item["changes"] = {language: changes}
        found.append(item)
    return found


def read_legal_basis(cell: str, language: str) -> list[dict[str, object]]:
    """Acts separated by ';', parts of an act by '|': name | identifier | date | https://url.

    Only the name is required; a part that looks like a date or a web address is read as one
    wherever it stands, so "Acuerdo 057 de 2022 | 2022-05-10" works. The name is stored in
    `language`, the language the act was written in (the caller passes the row's first). A JSON
    list (what the export writes for acts with titles in several languages) is read as it is.
    """
    if cell.lstrip().startswith("["):
        return [dict(item) for item in read_json_list(cell) if isinstance(item, dict)]
    acts: list[dict[str, object]] = []
    for entry in split_list(cell):
        parts = [part.strip() for part in entry.split("|") if part.strip()]
        names: list[str] = []
        act: dict[str, object] = {"type": "LegalResource"}
        for part in parts:
            if part.startswith(("http://", "https://")):
                act["url"] = read_url(part)
            elif _ISO_DATE.match(part) or _DMY_DATE.match(part):
                act["dateDocument"] = read_date(part)
            else:
                names.append(part)
        if not names or len(names) > 2:
            raise CellError(
                f"'{entry}' is not a legal act; write name | identifier | date | web address, "
                "with only the name required (for example: Ley 1712 de 2014 | 2014-03-06)"
            )
        act["title"] = {language: names[0]}
        if len(names) == 2:
            act["identifier"] = names[1]
        acts.append(
            {
                key: act[key]
                for key in ("type", "title", "identifier", "url", "dateDocument")
                if key in act
            }
        )
    return acts


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
