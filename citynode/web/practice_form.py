"""The editor's form for a practice or a result: form fields <-> a record draft, with errors per
field in the editor's language.

Cells are read by the same readers as the CSV import (`imports/csv_cells.py`: dates, periods,
numbers; `imports/csv_terms.py`: SDG codes; as clerks write them); what those refuse, and what
the publisher then refuses (its error names the field), comes back as a message from the catalog
on the field it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import vocab
from citynode.imports import csv_cells, csv_terms
from citynode.web import practice_form_parts as parts
from citynode.web.views import N_
from protocol.records import STATUS_NS

Gettext = Callable[[str], str]
PRACTICE_TYPES: Final = ("Project", "Policy", "Programme")
STATUSES: Final = ("planned", "ongoing", "completed", "suspended", "discontinued")
#: Language-map fields: (name, heading, long text?, required for).
TEXTS: Final = (
    ("title", N_("Title"), False, ("practice", "result")),
    ("summary", N_("Summary"), True, ("practice",)),
    ("description", N_("Description"), True, ()),
    ("problem", N_("Problem"), True, ()),
    ("approach", N_("Approach"), True, ()),
    ("lessonsLearned", N_("Lessons learned"), True, ()),
    ("transferability", N_("Transferability"), True, ()),
    ("responsible", N_("Responsible"), False, ()),
)
RESULT_TEXTS: Final = ("title", "summary", "description")
MEASUREMENT_ROWS: Final = 3
ROLES: Final = ("observed", "baseline", "target")
_SHORT, _LONG = 400, 20_000
MESSAGES: Final = {
    "required": N_("Write this in at least one language."),
    "too_long": N_("This is too long."),
    "url": N_("Write a web address that starts with https:// or http://."),
    "date": N_("Write a date as YYYY-MM-DD, for example 2022-03-06."),
    "period": N_("Write a year (2023), a month (2023-06) or an interval (2020/2023)."),
    "sdgs": N_("Write SDG goals or targets separated by commas, for example 4.4, 11.2."),
    "number": N_("Write a number, with a decimal point or comma and no thousands separator."),
    "percent": N_("Write a whole number from 0 to 100."),
    "indicator": N_("Choose the indicator (or name it) and give its value, unit and period."),
    "choice": N_("Choose one of the options."),
    "result_of": N_("Choose the practice this result belongs to."),
    "rejected": N_("The node did not accept this value."),
    **parts.MESSAGES,
    # The publisher's rules (protocol/record_rules.py, citynode/references.py), by rule name.
    "iso-4217": N_("This is not an ISO 4217 currency code; write one such as COP, EUR or USD."),
    "point": N_("Give both latitude and longitude, or neither."),
    "place-named": N_("Give the area a name or a gazetteer address."),
    "evidence-named": N_("Give the evidence a title or a link."),
    "not-adapted-from-itself": N_("A practice cannot be adapted from itself."),
    "adapted-from-practice": N_("That record is not a practice; name the practice it came from."),
    "start-before-end": N_("The start date is after the end date."),
    "known-concept": N_("Choose one of the options."),
    "known-indicator": N_("Choose an indicator of the shared scheme."),
    "ucum": N_("This is not a UCUM unit code; for example {person}, % or 10*3.{person}."),
    "unit-converts": N_("This unit does not convert to the indicator's unit."),
    "same-as": N_(
        "Write the organisation's Wikidata item (https://www.wikidata.org/entity/Q…) or its ROR id"
        " (https://ror.org/…)."
    ),
}
#: Fields the form lays out; editing keeps every other field of the stored record as it was
#: (legal basis, media, contact point, parts...), so a save never drops what the form lacks.
MANAGED: Final = frozenset(
    {
        *(field for field, *_ in TEXTS),
        *(term for term, *_ in parts.CHOICES),
        *(rows.field for rows in parts.ROWS),
        "type",
        "status",
        "keywords",
        "themes",
        "sdgs",
        "startDate",
        "endDate",
        "website",
        "illustrative",
        "editorial",
        "adaptedFrom",
        "resultOf",
        "period",
        "progress",
        "measurements",
    }
)
#: Bookkeeping the publisher sets; never carried from a stored version into a draft.
_SIGNED: Final = frozenset(
    {"@context", "id", "version", "previousVersion", "issued", "modified", "publisher", "proof"}
)


def indicator_iris() -> list[str]:
    """The indicators of the vocabulary's scheme, for a measurement to name."""
    return [c.iri for c in vocab.indicators()]


def themes() -> list[tuple[str, str]]:
    return [(c.iri, c.iri) for c in vocab.taxonomy.in_scheme(vocab.taxonomy.THEME_SCHEME)]


def form_of(document: Mapping[str, Any], languages: list[str]) -> dict[str, Any]:
    """The form's values for a stored record (editing)."""
    values: dict[str, Any] = {}
    for field, *_rest in TEXTS:
        texts = document.get(field) or {}
        for lang in languages:
            values[f"{field}_{lang}"] = texts.get(lang, "") if isinstance(texts, dict) else ""
    keywords = document.get("keywords") or {}
    for lang in languages:
        values[f"keywords_{lang}"] = ", ".join(keywords.get(lang, []))
    values["type"] = document.get("type", "Project")
    values["status"] = str(document.get("status", STATUS_NS + "ongoing")).removeprefix(STATUS_NS)
    values["themes"] = list(document.get("themes") or [])
    values["sdgs"] = ", ".join(s.rsplit("/", 1)[-1] for s in document.get("sdgs") or [])
    for field in ("startDate", "endDate", "website", "period", "resultOf"):
        values[field] = str(document.get(field, "") or "")
    values["progress"] = "" if document.get("progress") is None else str(document["progress"])
    marked = document.get("illustrative")
    values["illustrative"] = marked is True
    values["illustrative_fields"] = list(marked) if isinstance(marked, list) else []
    values["editorial"] = list(document.get("editorial") or [])
    for term, *_rest in parts.CHOICES:
        values[term] = str(document.get(term, "") or "")
    values.update(parts.rows_of(document, languages))
    values.update(parts.adaptation_of(document, languages))
    measurements = list(document.get("measurements") or [])
    rows = max(MEASUREMENT_ROWS, len(measurements) + 1)
    for index in range(rows):
        m = measurements[index] if index < len(measurements) else {}
        names = m.get("indicator") or {}
        for lang in languages:
            values[f"m{index}_indicator_{lang}"] = names.get(lang, "")
        values[f"m{index}_value"] = (
            "" if "value" in m and m["value"] is None else str(m.get("value", ""))
        )
        values[f"m{index}_unit"] = m.get("unit", "")
        values[f"m{index}_measures"] = m.get("measures", "")
        values[f"m{index}_unitCode"] = m.get("unitCode", "")
        values[f"m{index}_period"] = m.get("period", "")
        values[f"m{index}_role"] = m.get("role", "observed")
    values["measurement_rows"] = rows
    return values


#: Form fields read by the CSV import's cell readers: (field, reader, message if refused).
_PRACTICE_CELLS: Final = (
    ("sdgs", csv_terms.read_sdgs, "sdgs"),
    ("startDate", csv_cells.read_partial_date, "partial_date"),
    ("endDate", csv_cells.read_partial_date, "partial_date"),
)
_RESULT_CELLS: Final = (
    ("period", csv_cells.read_period, "period"),
    ("progress", csv_cells.read_percent, "percent"),
)


def _cell(
    text: str, reader: Callable[[str], Any], errors: dict[str, str], field: str, message: str
) -> Any:
    """`reader(text)`, or None with `message` on `field` when the reader refuses the text."""
    try:
        return reader(text)
    except csv_cells.CellError:
        errors[field] = message
        return None


def _read_cells(
    form: Mapping[str, Any],
    cells: tuple[tuple[str, Callable[[str], Any], str], ...],
    draft: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """The fields of `cells` the form fills, read into the draft (an empty field is left out)."""
    for field, reader, message in cells:
        if form.get(field, "").strip():
            value = _cell(form[field], reader, errors, field, message)
            if value is not None:
                draft[field] = value


def read_form(
    form: Mapping[str, Any],
    languages: list[str],
    kind: str,
    previous: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(draft, errors by form field: catalog message ids) from a posted form; `previous` is the
    stored record being edited (what the form does not lay out is kept from it)."""
    previous = previous or {}
    kept = {k: v for k, v in previous.items() if k not in MANAGED and k not in _SIGNED}
    reading = parts.FormReading(form, languages, previous, draft=kept, errors={})
    draft, errors = reading.draft, reading.errors
    practice = kind != "Result"
    record_type = form.get("type", "") if practice else "Result"
    if record_type not in (*PRACTICE_TYPES, "Result"):
        errors["type"] = "choice"
    draft["type"] = record_type
    status = form.get("status", "")
    if status not in STATUSES:
        errors["status"] = "choice"
    draft["status"] = STATUS_NS + status
    for field, _heading, long, required in TEXTS:
        if not practice and field not in RESULT_TEXTS:
            continue
        texts = parts.form_texts(form, field, languages)
        if any(len(t) > (_LONG if long else _SHORT) for t in texts.values()):
            errors[f"{field}_{languages[0]}"] = "too_long"
        texts = parts.with_other_languages(texts, previous.get(field), languages)
        if texts:
            draft[field] = texts
        elif ("practice" if practice else "result") in required:
            errors[f"{field}_{languages[0]}"] = "required"
    if form.get("illustrative"):
        draft["illustrative"] = True
    elif isinstance(previous.get("illustrative"), list) and previous["illustrative"]:
        draft["illustrative"] = list(previous["illustrative"])  # the marked fields, kept
    editorial = _getall(form, "editorial")
    text_fields = {field for field, *_ in TEXTS} | {"keywords"}
    if any(f not in text_fields for f in editorial):
        errors["editorial"] = "choice"
    if [f for f in editorial if f in text_fields]:
        draft["editorial"] = [f for f in editorial if f in text_fields]
    if practice:
        _practice_fields(reading)
        parts.read_choices(reading)
        parts.read_rows(reading)
        parts.read_adaptation(reading)
    else:
        _result_fields(reading)
    return draft, errors


def _practice_fields(reading: parts.FormReading) -> None:
    form, languages, previous = reading.form, reading.languages, reading.previous
    draft, errors = reading.draft, reading.errors
    keywords: dict[str, Any] = {}
    for lang in languages:
        words = [
            w.strip() for w in re.split(r"[,;]", form.get(f"keywords_{lang}", "")) if w.strip()
        ]
        if words:
            keywords[lang] = words
    keywords = parts.with_other_languages(keywords, previous.get("keywords"), languages)
    if keywords:
        draft["keywords"] = keywords
    known = {iri for iri, _ in themes()}
    chosen = _getall(form, "themes")
    if any(t not in known for t in chosen):
        errors["themes"] = "choice"
    draft["themes"] = [t for t in chosen if t in known]
    _read_cells(form, _PRACTICE_CELLS, draft, errors)
    website = form.get("website", "").strip()
    if website:
        if not re.match(r"^https?://[^\s/]+\S*$", website):
            errors["website"] = "url"
        draft["website"] = website


def _result_fields(reading: parts.FormReading) -> None:
    form, languages, previous = reading.form, reading.languages, reading.previous
    draft, errors = reading.draft, reading.errors
    stored = [m for m in previous.get("measurements") or [] if isinstance(m, dict)]
    result_of = form.get("resultOf", "").strip()
    if not result_of:
        errors["resultOf"] = "result_of"
    draft["resultOf"] = result_of
    _read_cells(form, _RESULT_CELLS, draft, errors)
    measurements = []
    try:
        rows = min(int(form.get("measurement_rows", MEASUREMENT_ROWS)), 200)
    except ValueError:
        rows = MEASUREMENT_ROWS
    for index in range(rows):
        prefix = f"m{index}_"
        names = parts.form_texts(form, f"{prefix}indicator", languages)
        value, unit = form.get(prefix + "value", "").strip(), form.get(prefix + "unit", "").strip()
        period = form.get(prefix + "period", "").strip()
        measures = form.get(prefix + "measures", "").strip()
        unit_code = form.get(prefix + "unitCode", "").strip()
        if not (names or value or unit or period or measures or unit_code):
            continue
        if not ((names or measures) and value and (unit or unit_code) and period):
            errors[f"{prefix}indicator_{languages[0]}"] = "indicator"
            continue
        measurement: dict[str, Any] = {"type": "Measurement"}
        if names:
            measurement["indicator"] = names
        if unit:
            measurement["unit"] = unit[:_SHORT]
        if measures:
            if measures not in indicator_iris():
                errors[prefix + "measures"] = "choice"
            measurement["measures"] = measures
        if unit_code:
            measurement["unitCode"] = unit_code[:100]
        number = _cell(value, csv_cells.read_number, errors, prefix + "value", "number")
        if number is not None:
            measurement["value"] = number
        when = _cell(period, csv_cells.read_period, errors, prefix + "period", "period")
        if when is not None:
            measurement["period"] = when
        role = form.get(prefix + "role", "observed")
        if role not in ROLES:
            errors[prefix + "role"] = "choice"
        elif role != "observed":
            measurement["role"] = role
        if index < len(stored):
            # What the row does not show (its source, its marks) and names in other languages.
            old = stored[index]
            names = parts.with_other_languages(names, old.get("indicator"), languages)
            if names:
                measurement["indicator"] = names
            shown = {"indicator", "measures", "value", "unit", "unitCode", "period", "role"}
            measurement = {**{k: v for k, v in old.items() if k not in shown}, **measurement}
        measurements.append(measurement)
    draft["measurements"] = measurements


def _getall(form: Mapping[str, Any], name: str) -> list[str]:
    getall = getattr(form, "getall", None)
    return [str(v) for v in getall(name, [])] if getall else []


def message_of_error(detail: Mapping[str, Any]) -> str:
    """The catalog message for a publisher error, by its rule (else "not accepted")."""
    rule = str(detail.get("rule") or "")
    if rule in MESSAGES:
        return rule
    if str(detail.get("path") or "").endswith("sameAs"):
        return "same-as"
    return "rejected"


def field_of_error(detail: Mapping[str, Any], languages: list[str]) -> str:
    """The form field a publisher error names (its `field`/`path`), else the form itself."""
    path = str(detail.get("path") or detail.get("field") or "")
    top = path.split(".")[0].split("[")[0]
    named = parts.field_of_path(path, languages)
    if named:
        return named
    match = re.match(r"measurements\[(\d+)\]\.?(\w+)?", path)
    if match:
        sub = match.group(2) or "value"
        return f"m{match.group(1)}_{sub}" + (f"_{languages[0]}" if sub == "indicator" else "")
    if top in {f for f, *_ in TEXTS}:
        return f"{top}_{languages[0]}"
    return top or "form"


def form_field_names(languages: tuple[str, ...] = ("es", "en", "pt")) -> list[str]:
    """Every field the forms may send (for the contract; the readers above take what is sent)."""
    names = ["type", "status", "themes", "sdgs", "startDate", "endDate", "website"]
    names += ["illustrative", "editorial", "resultOf", "period", "progress", "measurement_rows"]
    names += parts.field_names(languages)
    names += [f"{field}_{lang}" for field, *_ in TEXTS for lang in languages]
    names += [f"keywords_{lang}" for lang in languages]
    for index in range(MEASUREMENT_ROWS):
        names += [f"m{index}_indicator_{lang}" for lang in languages]
        names += [
            f"m{index}_{part}"
            for part in ("measures", "value", "unit", "unitCode", "period", "role")
        ]
    return names
