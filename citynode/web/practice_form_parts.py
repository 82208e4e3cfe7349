"""The editor's form for vocabulary 1.1's parts of a practice: stage, level of government and
scale (choices from the bundled schemes), and rows of objects (costs, funders, partners,
beneficiaries, areas, evidence) plus where the practice was adapted from.

Each row is a few form fields named `<prefix><n>_<term>` (`cost0_currency`); text parts have one
input per record language (`funder0_name_es`). A row left empty is no object; a row with some
parts but not its required ones is an error on the first missing part. Editing keeps what the
form does not show: a row's other terms (an evidence's creator, its marks) come from the stored
object at the same place, so saving never drops them.

Cells are read by the CSV import's readers (imports/csv_cells.py); the publisher then checks the
rest (ISO 4217 currencies, registry IRIs, an adaptation of itself) and its error's path names the
form field (`field_of_error`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import vocab
from citynode.imports import csv_cells
from citynode.web.views import N_

CN: Final = "https://w3id.org/citynode/"
#: Single choices of a practice: (term, heading, scheme name under CN).
CHOICES: Final = (
    ("stage", N_("Stage"), "stage"),
    ("governmentLevel", N_("Level of government"), "government-level"),
    ("scale", N_("Scale"), "scale"),
)


@dataclass
class FormReading:
    """A posted form being read: the form, the editor's languages, the stored record it edits
    (what the form does not lay out is kept from it), and what is read so far: the draft, and
    the errors by form field (catalog message ids)."""

    form: Mapping[str, Any]
    languages: list[str]
    previous: Mapping[str, Any]
    draft: dict[str, Any]
    errors: dict[str, str]


@dataclass(frozen=True)
class Part:
    """One part of a row: the object's term, its label, how it is read."""

    term: str
    label: str
    #: text (one input per record language), choice (a concept of `scheme`), number, count,
    #: period, date (year, month or day), url, currency, latitude, longitude.
    kind: str
    scheme: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Rows:
    """A list field of a practice edited as rows of parts."""

    field: str
    prefix: str
    type: str
    legend: str
    parts: tuple[Part, ...]
    shown: int = 1


_ORG: Final = (
    Part("name", N_("Name"), "text", required=True),
    Part("kind", N_("Kind of organisation"), "choice", "organisation-kind"),
    Part("sameAs", N_("Wikidata or ROR address"), "url"),
)
ROWS: Final = (
    Rows(
        "costs",
        "cost",
        "MonetaryAmount",
        N_("Cost or budget"),
        (
            Part("kind", N_("Budget or amount spent"), "choice", "cost-kind", required=True),
            Part("value", N_("Amount"), "number", required=True),
            Part("currency", N_("Currency (ISO 4217, e.g. COP, EUR, USD)"), "currency", None, True),
            Part("covers", N_("What it covers"), "text"),
            Part("period", N_("Period"), "period"),
        ),
    ),
    Rows("funders", "funder", "Organisation", N_("Funder"), _ORG),
    Rows("partners", "partner", "Organisation", N_("Partner"), _ORG),
    Rows(
        "beneficiaries",
        "reach",
        "Audience",
        N_("Who it serves and how many it reached"),
        (
            Part("who", N_("Who"), "text", required=True),
            Part("count", N_("How many people"), "count"),
            Part("period", N_("Period"), "period"),
        ),
    ),
    Rows(
        "areas",
        "area",
        "Place",
        N_("Area"),
        (
            Part("name", N_("Name of the area"), "text"),
            Part("sameAs", N_("Gazetteer address (Wikidata, GeoNames...)"), "url"),
            Part("latitude", N_("Latitude"), "latitude"),
            Part("longitude", N_("Longitude"), "longitude"),
        ),
    ),
    Rows(
        "evidence",
        "evidence",
        "Evidence",
        N_("Evidence (evaluation, audit, study...)"),
        (
            Part("kind", N_("Kind of evidence"), "choice", "evidence-kind", required=True),
            Part("title", N_("Title"), "text"),
            Part("url", N_("Link"), "url"),
            Part("date", N_("Date"), "date"),
        ),
    ),
)
#: Catalog messages for what these parts refuse (merged into practice_form.MESSAGES).
MESSAGES: Final = {
    "part_required": N_("Fill this in, or leave the whole row empty."),
    "partial_date": N_("Write a year (2021), a month (2021-05) or a date (2021-05-31)."),
    "currency": N_("Write the three-letter ISO 4217 code of the currency, for example COP."),
    "count": N_("Write a whole number, without thousands separators."),
    "latitude": N_("Write a latitude between -90 and 90, for example 6.2442."),
    "longitude": N_("Write a longitude between -180 and 180, for example -75.5812."),
    "adapted": N_("Write the web address of the other city's practice record."),
}


def with_other_languages(
    texts: dict[str, Any], stored: Any, languages: list[str]
) -> dict[str, Any]:
    """The form's texts, plus the stored ones in languages the form has no input for (a text
    in French on a node that edits es, en and pt is kept, not dropped)."""
    if not isinstance(stored, dict):
        return texts
    return {**{k: v for k, v in stored.items() if k not in languages}, **texts}


def form_texts(
    form: Mapping[str, Any], base: str, languages: list[str], limit: int | None = None
) -> dict[str, str]:
    """The texts of the inputs `<base>_<lang>` the form fills, by language (cut to `limit`)."""
    found = {lang: str(form.get(f"{base}_{lang}", "")).strip() for lang in languages}
    return {lang: text[:limit] for lang, text in found.items() if text}


def concepts(scheme: str) -> list[str]:
    return [c.iri for c in vocab.in_scheme(CN + scheme)]


def _read(part: Part, cell: str) -> Any:
    """A cell as the object's value; `ValueError` with a message id when it cannot be read."""
    text = cell.strip()
    try:
        if part.kind == "choice":
            if text not in concepts(str(part.scheme)):
                raise ValueError("choice")
            return text
        if part.kind == "number":
            value = csv_cells.read_number(text)
            if value < 0:
                raise ValueError("number")
            return value
        if part.kind == "count":
            if not re.fullmatch(r"\d{1,15}", text):
                raise ValueError("count")
            return int(text)
        if part.kind == "period":
            return csv_cells.read_period(text)
        if part.kind == "date":
            return csv_cells.read_partial_date(text)
        if part.kind == "url":
            return csv_cells.read_url(text)
        if part.kind == "currency":
            if not re.fullmatch(r"[A-Za-z]{3}", text):
                raise ValueError("currency")
            return text.upper()
        if part.kind in ("latitude", "longitude"):
            # Coordinates have many decimals ("-75.546"): a decimal point or comma, never a
            # thousands separator (read_number would take "75.546" as ambiguous).
            if not re.fullmatch(r"[+-]?\d{1,3}([.,]\d{1,8})?", text):
                raise ValueError(part.kind)
            value = float(text.replace(",", "."))
            limit = 90 if part.kind == "latitude" else 180
            if not -limit <= value <= limit:
                raise ValueError(part.kind)
            return value
    except csv_cells.CellError:
        raise ValueError(
            {"number": "number", "period": "period", "date": "partial_date", "url": "url"}.get(
                part.kind, part.kind
            )
        ) from None
    return text


def name(rows: Rows, index: int, part: Part, lang: str | None = None) -> str:
    base = f"{rows.prefix}{index}_{part.term}"
    return f"{base}_{lang}" if lang else base


def _count(form: Mapping[str, Any], rows: Rows, stored: int) -> int:
    try:
        asked = int(form.get(f"{rows.prefix}_rows", ""))
    except ValueError:
        asked = max(rows.shown, stored + 1)
    return max(0, min(asked, 100))


def read_rows(reading: FormReading) -> None:
    """Every row field into the draft (an empty list is left out), errors by form field."""
    form, languages, previous = reading.form, reading.languages, reading.previous
    draft, errors = reading.draft, reading.errors
    for rows in ROWS:
        stored = [o for o in previous.get(rows.field) or [] if isinstance(o, dict)]
        items = []
        for index in range(_count(form, rows, len(stored))):
            item, problems = _read_row(form, rows, index, languages)
            errors.update(problems)
            if item is None:
                continue
            if index < len(stored):
                old = stored[index]
                managed = {p.term for p in rows.parts}
                kept = {k: v for k, v in old.items() if k not in managed}
                for part in rows.parts:
                    if part.kind == "text" and part.term in item:
                        item[part.term] = with_other_languages(
                            item[part.term], old.get(part.term), languages
                        )
                item = {**kept, **item}
            items.append(item)
        if items:
            draft[rows.field] = items


def _read_row(
    form: Mapping[str, Any], rows: Rows, index: int, languages: list[str]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    item: dict[str, Any] = {"type": rows.type}
    problems: dict[str, str] = {}
    missing: list[str] = []
    filled = False
    for part in rows.parts:
        if part.kind == "text":
            texts = form_texts(form, name(rows, index, part), languages, 400)
            if texts:
                item[part.term] = texts
                filled = True
            elif part.required:
                missing.append(name(rows, index, part, languages[0]))
            continue
        cell = str(form.get(name(rows, index, part), "")).strip()
        if not cell:
            if part.required:
                missing.append(name(rows, index, part))
            continue
        filled = True
        try:
            item[part.term] = _read(part, cell)
        except ValueError as exc:
            problems[name(rows, index, part)] = str(exc)
    if not filled:
        return None, {}
    problems.update(dict.fromkeys(missing, "part_required"))
    return item, problems


def rows_of(document: Mapping[str, Any], languages: list[str]) -> dict[str, Any]:
    """The form's values for the stored rows (editing), one empty row more to add one."""
    values: dict[str, Any] = {}
    for rows in ROWS:
        stored = [o for o in document.get(rows.field) or [] if isinstance(o, dict)]
        count = max(rows.shown, len(stored) + 1) if stored else rows.shown
        values[f"{rows.prefix}_rows"] = count
        for index, item in enumerate(stored):
            for part in rows.parts:
                value = item.get(part.term)
                if part.kind == "text":
                    texts = value if isinstance(value, dict) else {}
                    for lang in languages:
                        values[name(rows, index, part, lang)] = texts.get(lang, "")
                elif value is not None:
                    values[name(rows, index, part)] = str(value)
    return values


def read_choices(reading: FormReading) -> None:
    form, draft, errors = reading.form, reading.draft, reading.errors
    for term, _heading, scheme in CHOICES:
        chosen = str(form.get(term, "")).strip()
        if not chosen:
            continue
        if chosen not in concepts(scheme):
            errors[term] = "choice"
            continue
        draft[term] = chosen


def read_adaptation(reading: FormReading) -> None:
    """`adaptedFrom`: the first adaptation is the form's (its practice and what changed); any
    further ones a record already had are kept as they were."""
    form, languages, previous = reading.form, reading.languages, reading.previous
    draft, errors = reading.draft, reading.errors
    stored = [a for a in previous.get("adaptedFrom") or [] if isinstance(a, dict)]
    practice = str(form.get("adapted_practice", "")).strip()
    changes = form_texts(form, "adapted_changes", languages, 20_000)
    if stored:
        changes = with_other_languages(changes, stored[0].get("changes"), languages)
    items = stored[1:]
    if practice:
        try:
            first: dict[str, Any] = {
                **(stored[0] if stored else {}),
                "type": "Adaptation",
                "practice": csv_cells.read_url(practice),
            }
        except csv_cells.CellError:
            errors["adapted_practice"] = "adapted"
        else:
            if changes:
                first["changes"] = changes
            else:
                first.pop("changes", None)
            items = [first, *items]
    elif changes:
        errors["adapted_practice"] = "adapted"
    if items:
        draft["adaptedFrom"] = items


def adaptation_of(document: Mapping[str, Any], languages: list[str]) -> dict[str, Any]:
    stored = [a for a in document.get("adaptedFrom") or [] if isinstance(a, dict)]
    first = stored[0] if stored else {}
    found = first.get("changes")
    changes: dict[str, str] = found if isinstance(found, dict) else {}
    values = {"adapted_practice": str(first.get("practice", ""))}
    for lang in languages:
        values[f"adapted_changes_{lang}"] = changes.get(lang, "")
    return values


def field_of_path(path: str, languages: list[str]) -> str | None:
    """The form field a publisher error's path names (`costs[0].currency` -> `cost0_currency`),
    or None when the path is not one of these parts."""
    match = re.match(r"(\w+)\[(\d+)\]\.?(\w+)?", path)
    if match:
        field, index, term = match.group(1), int(match.group(2)), match.group(3)
        if field == "adaptedFrom":
            return "adapted_practice"
        for rows in ROWS:
            if rows.field != field:
                continue
            part = next((p for p in rows.parts if p.term == term), rows.parts[0])
            return name(rows, index, part, languages[0] if part.kind == "text" else None)
    top = path.split(".")[0].split("[")[0]
    if top == "adaptedFrom":
        return "adapted_practice"
    if top in {term for term, *_ in CHOICES}:
        return top
    return None


def field_names(languages: tuple[str, ...]) -> list[str]:
    """Every field these parts may send (for the contract)."""
    names = [term for term, *_ in CHOICES] + ["adapted_practice"]
    names += [f"adapted_changes_{lang}" for lang in languages]
    for rows in ROWS:
        names.append(f"{rows.prefix}_rows")
        for part in rows.parts:
            if part.kind == "text":
                names += [name(rows, 0, part, lang) for lang in languages]
            else:
                names.append(name(rows, 0, part))
    return names
