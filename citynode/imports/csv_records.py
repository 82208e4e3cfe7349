"""Read the practices and results CSV templates into record drafts.

Innovation offices keep their practices in spreadsheets. A practices file has one row per
practice; a results file has one row per measurement, and the rows that share a `result_slug`
form one result. `docs/csv-template.md` lists every column in English and Spanish.

A draft is a record without the metadata the node fills in (`version`, `issued`, `publisher`,
`proof`...), with a relative id `records/<slug>` that the node resolves against its base URL.

Every row is checked in full and every problem is collected, then raised as one
`CsvImportError`, so the clerk fixes the whole file in one pass. Row numbers count the header as
row 1, as a spreadsheet shows them; a quoted cell with line breaks is still one row. Whether a
file is stored all or nothing is the caller's decision.

The columns are in `csv_columns`, the cell readers in `csv_cells`, `csv_terms` and `csv_nested`,
the last check against the record model in `csv_model_check`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import vocab
from citynode.imports import csv_cells as cells
from citynode.imports import csv_nested as nested
from citynode.imports import csv_terms as terms
from citynode.imports.csv_columns import (
    LANGUAGE_BASES,
    MEASUREMENT_COLUMNS,
    PRACTICE_COLUMNS,
    PRACTICE_TEXTS,
    REQUIRED,
    RESULT_COLUMNS,
    RESULT_GROUP_COLUMNS,
    RESULT_TEXTS,
)
from citynode.imports.csv_model_check import check_with_model
from citynode.imports.csv_table import (
    SHORT,
    CsvImportError,
    Row,
    check_header,
    decode,
    language_columns,
    read_table,
)
from protocol.records import INDICATOR_NS, LANGUAGES

Draft = dict[str, Any]

__all__ = ["read_csv_file", "read_practices", "read_results"]


def _rows(
    text: str, file: str, template: str, known: Iterable[str]
) -> tuple[list[Row], list[CsvImportError]]:
    names, data = read_table(text, file)
    problems = check_header(names, file, template, known, REQUIRED[template], LANGUAGE_BASES)
    if problems:
        raise CsvImportError.collect(file, problems)  # rows cannot be read against a bad header
    rows: list[Row] = []
    for number, values in data:
        row = Row(file, number, {}, problems)
        for index, value in enumerate(values):
            name = names[index] if index < len(names) else ""
            if name:
                row.cells[name] = value
            elif value.strip():
                row.fail(
                    None, f"cell {index + 1} ('{value.strip()[:40]}') is in a column without a name"
                )
        rows.append(row)
    return rows, problems


def read_practices(text: str, source_name: str) -> list[Draft]:
    """Drafts of the practices in a practices CSV; raises `CsvImportError` listing every problem."""
    rows, problems = _rows(text, source_name, "practices", PRACTICE_COLUMNS)
    drafts: list[Draft] = []
    slugs: dict[str, int] = {}
    for row in rows:
        draft = _practice(row)
        slug = row.cell("slug").removeprefix("records/")
        if slug and slug in slugs:
            row.fail(
                "slug",
                f"'{slug}' is already used on row {slugs[slug]}; every practice needs its own slug",
            )
        if slug:
            slugs.setdefault(slug, row.number)
        if draft is not None:
            check_with_model(draft, row, [])
            drafts.append(draft)
    if problems:
        raise CsvImportError.collect(source_name, problems)
    return drafts


def _practice(row: Row) -> Draft | None:
    before = len(row.problems)
    who = "every practice"
    draft: Draft = {
        "id": f"records/{row.read('slug', cells.read_slug, required=who)}",
        "type": row.read("type", terms.read_type, required=who),
        "status": row.read("status", terms.read_status, required=who),
    }
    for base, (term, limit) in PRACTICE_TEXTS.items():
        required = who if base in ("title", "summary") else None
        if found := row.texts(base, limit, required=required):
            draft[term] = found
    optional: dict[str, tuple[str, Callable[[str], Any]]] = {
        "themes": ("themes", terms.read_themes),
        "sdgs": ("sdgs", terms.read_sdgs),
        "start_date": ("startDate", cells.read_partial_date),
        "end_date": ("endDate", cells.read_partial_date),
        "website": ("website", cells.read_url),
        "spatial": ("spatial", cells.read_wikidata),
    }
    # Names in short forms are in the city's own language: the first the row has a title in.
    act_language = next(
        (lang for column, lang in language_columns(row.cells, "title") if row.cell(column)),
        LANGUAGES[0],
    )
    optional.update(
        {
            "license": ("license", cells.read_url),
            "stage": ("stage", terms.read_concept("stage", "idea, pilot, scaled or ended")),
            "government_level": (
                "governmentLevel",
                terms.read_concept(
                    "government-level", "local, regional, national or international"
                ),
            ),
            "scale": (
                "scale",
                terms.read_concept(
                    "scale", "neighbourhood, district, city, metropolitan or national"
                ),
            ),
            "part_of": ("partOf", cells.read_iris),
            "has_part": ("hasPart", cells.read_iris),
            "legal_basis": (
                "legalBasis",
                lambda cell: nested.read_legal_basis(cell, act_language),
            ),
            "adapted_from": (
                "adaptedFrom",
                lambda cell: nested.read_adaptations(cell, act_language),
            ),
            "funders": ("funders", lambda cell: nested.read_organisations(cell, act_language)),
            "partners": ("partners", lambda cell: nested.read_organisations(cell, act_language)),
            **{column: (column, nested.read_json_list) for column in _JSON_LISTS},
        }
    )
    for column, (term, reader) in optional.items():
        if (value := row.read(column, reader)) is not None:
            draft[term] = value
    if keywords := row.keywords():
        draft["keywords"] = keywords
    if contact := _contact(row):
        draft["contactPoint"] = contact
    if marks := row.read("illustrative", cells.read_marks):
        draft["illustrative"] = marks
    if editorial := row.read("editorial", cells.read_field_names):
        draft["editorial"] = editorial
    start, end = draft.get("startDate"), draft.get("endDate")
    if start and end and end < start:
        row.fail("end_date", f"the end date {end} is before the start date {start}")
    return draft if len(row.problems) == before else None


_JSON_LISTS: Final = ("costs", "beneficiaries", "areas", "evidence", "media")


def _contact(row: Row) -> Draft | None:
    name = row.cell("contact_name")
    email = row.read("contact_email", cells.read_email)
    url = row.read("contact_url", cells.read_url)
    if not name:
        if email or url:
            row.fail("contact_name", "a contact needs a name (a person, office or unit)")
        return None
    contact: Draft = {"type": "Organization", "fn": name}
    if email:
        contact["hasEmail"] = email
    if url:
        contact["url"] = url
    return contact


def read_results(text: str, source_name: str) -> list[Draft]:
    """Drafts of the results in a results CSV (rows grouped by `result_slug`)."""
    rows, problems = _rows(text, source_name, "results", RESULT_COLUMNS)
    groups: dict[str, list[Row]] = {}
    for row in rows:
        slug = row.read("result_slug", cells.read_slug, required="every row")
        if slug is not None:
            groups.setdefault(slug, []).append(row)
    drafts: list[Draft] = []
    for slug, group in groups.items():
        before = len(problems)
        draft = _result(slug, group)
        if len(problems) == before:
            check_with_model(draft, group[0], group)
            drafts.append(draft)
    if problems:
        raise CsvImportError.collect(source_name, problems)
    return drafts


def _result(slug: str, group: list[Row]) -> Draft:
    """Result-level cells may sit on any row of the group, but must agree where repeated."""
    shared: dict[str, str] = {}
    first_row: dict[str, Row] = {}
    # The result's text columns in every language the file has (`title_fr`...), not only the
    # template's own es/en/pt.
    texts = [c for base in RESULT_TEXTS for c, _ in language_columns(group[0].cells, base)]
    for column in dict.fromkeys([*RESULT_GROUP_COLUMNS[1:], *texts]):
        for row in group:
            text = row.cell(column)
            if not text:
                continue
            if column not in shared:
                shared[column], first_row[column] = text, row
            elif text != shared[column]:
                row.fail(
                    column,
                    f"differs from row {first_row[column].number} of result '{slug}'; leave it "
                    "empty or repeat the same value",
                )
    # Read the shared cells through one synthetic row so errors point at the first row of the
    # group, which is where the clerk wrote them (or should write them).
    head = group[0]
    carrier = Row(head.file, head.number, shared, head.problems)
    who = f"result '{slug}'"
    draft: Draft = {"id": f"records/{slug}", "type": "Result"}
    of = carrier.read("result_of", _read_result_of, required=who)
    draft["resultOf"] = of
    draft["status"] = carrier.read("status", terms.read_status, required=who)
    for base, (term, limit) in RESULT_TEXTS.items():
        if found := carrier.texts(base, limit, required=who if base == "title" else None):
            draft[term] = found
    if (progress := carrier.read("progress", cells.read_percent)) is not None:
        draft["progress"] = progress
    result_cells: dict[str, tuple[str, Callable[[str], Any]]] = {
        "result_period": ("period", cells.read_period),
        "license": ("license", cells.read_url),
        "part_of": ("partOf", cells.read_iris),
        "has_part": ("hasPart", cells.read_iris),
        "evidence": ("evidence", nested.read_json_list),
        "media": ("media", nested.read_json_list),
        "result_editorial": ("editorial", cells.read_field_names),
        "result_illustrative": ("illustrative", cells.read_marks),
    }
    for column, (term, reader) in result_cells.items():
        if value := carrier.read(column, reader):
            draft[term] = value
    measurements = [m for row in group if (m := _measurement(row)) is not None]
    if measurements:
        draft["measurements"] = measurements
    return draft


def _read_result_of(cell: str) -> str:
    """The practice's slug, its relative id, or an absolute IRI of a practice on this node."""
    text = cell.strip()
    if text.startswith(("http://", "https://")):
        return cells.read_url(text)
    return f"records/{cells.read_slug(text)}"


def _measurement(row: Row) -> Draft | None:
    if not any(row.cell(column) for column in MEASUREMENT_COLUMNS):
        return None  # a row that only carries result-level cells
    who = "every measurement"
    measurement: Draft = {"type": "Measurement"}
    measures = row.read("measures", _read_indicator)
    indicator = row.texts(
        "indicator", SHORT, required=None if measures else f"{who} without 'measures'"
    )
    if indicator:
        measurement["indicator"] = indicator
    if measures:
        measurement["measures"] = measures
    measurement["value"] = row.read("value", cells.read_number, required=who)
    unit = row.cell("unit")
    unit_code = row.cell("unit_code")
    if not unit and not unit_code:
        row.fail(
            "unit",
            f"this cell is empty; {who} needs a unit here (people, %, schools...) or a UCUM "
            "code in unit_code ({person}, %)",
        )
    elif len(unit) > SHORT:
        row.fail("unit", f"the unit has {len(unit)} characters; the limit is {SHORT}")
    if unit:
        measurement["unit"] = unit
    if unit_code:
        measurement["unitCode"] = unit_code
    measurement["period"] = row.read("period", cells.read_period, required=who)
    role = row.read("role", terms.read_role)
    if role and role != "observed":  # observed is the model's default; drafts leave defaults out
        measurement["role"] = role
    if source := row.read("source", cells.read_url):
        measurement["source"] = source
    if marks := row.read("illustrative", cells.read_marks):
        measurement["illustrative"] = marks
    if editorial := row.read("editorial", cells.read_field_names):
        measurement["editorial"] = editorial
    return measurement


def _read_indicator(cell: str) -> str:
    """An indicator of the scheme by its id (`people-trained`) or IRI."""
    text = cell.strip()
    iri = text if text.startswith(INDICATOR_NS) else INDICATOR_NS + text
    known = {c.iri for c in vocab.indicators()}
    if iri not in known:
        ids = sorted(c.notation or c.iri for c in vocab.indicators())
        raise cells.CellError(
            f"'{cell}' is not an indicator of the citynode scheme; use one of {', '.join(ids)}"
        )
    return iri


def read_csv_file(path: str | Path) -> list[Draft]:
    """Drafts from a practices or a results CSV, told apart by the header.

    Blocking file I/O: call it from the CLI or through `asyncio.to_thread`.
    """
    path = Path(path)
    text = decode(path.read_bytes())
    names, _ = read_table(text, path.name)
    if "result_slug" in names:
        return read_results(text, path.name)
    if "slug" in names:
        return read_practices(text, path.name)
    raise CsvImportError(
        path.name,
        "this is neither a practices file (it would have a 'slug' column) nor a results file "
        "(it would have a 'result_slug' column); start from a template in "
        "citynode/samples/templates/",
        row=1,
    )
