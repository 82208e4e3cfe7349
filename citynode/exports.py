"""Records as the CSV import templates: practices one row each, results one row per measurement.

The inverse of `citynode/imports/csv_records.py`, written from the same column lists and term
tables, so a file exported here imports again (`docs/csv-template.md`) and a column added to the
template is exported by the same change. `citynode export --format csv` and the `/dumps/*.csv`
routes both write through this module; rows are produced one record at a time (`practice_rows`,
`result_rows`), so a dump of the whole replica is streamed, never held.

A replica export (`origin=all`) holds other cities' records: their slugs can collide, so such a
file starts with an `origin` column (the publishing node's DID) and an `id` column; drop both to
import the rows as your own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, Final

from citynode.imports.csv_cells import EU_THEME_NS
from citynode.imports.csv_records import (
    MEASUREMENT_COLUMNS,
    MEASUREMENT_TEXTS,
    PRACTICE_COLUMNS,
    PRACTICE_TEXTS,
    RESULT_COLUMNS,
    RESULT_GROUP_COLUMNS,
    RESULT_TEXTS,
)
from protocol.records import LANGUAGES, PRACTICE_TYPES, SDG_NS, THEME_NS

#: The columns a replica export puts first.
ORIGIN_COLUMNS: Final = ["origin", "id"]
#: What each template is called in a dump's file name.
TEMPLATES: Final = {"practices": PRACTICE_COLUMNS, "results": RESULT_COLUMNS}

Document = dict[str, Any]


def header(template: str, with_origin: bool = False) -> list[str]:
    return (ORIGIN_COLUMNS if with_origin else []) + TEMPLATES[template]


def _slug(record_id: str) -> str:
    return record_id.rsplit("/records/", 1)[-1]


def _list(items: Iterable[str]) -> str:
    return "; ".join(items)


def _texts(cells: dict[str, str], document: Document, table: dict[str, tuple[str, int]]) -> None:
    for base, (term, _limit) in table.items():
        values = document.get(term) or {}
        for lang in LANGUAGES:
            if lang in values:
                cells[f"{base}_{lang}"] = values[lang]


def _theme(iri: str) -> str:
    return iri.removeprefix(THEME_NS).removeprefix(EU_THEME_NS)


def _act(act: Document) -> str:
    title = act.get("title") or {}
    name = next((title[lang] for lang in ("es", "pt", "en") if lang in title), "")
    parts = [name, act.get("identifier", ""), act.get("dateDocument", ""), act.get("url", "")]
    while parts and not parts[-1]:
        parts.pop()
    return " | ".join(parts)


def practice_cells(document: Document) -> dict[str, str]:
    """One practice as the cells of its practices.csv row."""
    cells: dict[str, str] = {
        "slug": _slug(document["id"]),
        "type": document["type"],
        "status": str(document.get("status", "")).rsplit("#", 1)[-1],
    }
    _texts(cells, document, PRACTICE_TEXTS)
    cells["themes"] = _list(_theme(t) for t in document.get("themes", []))
    cells["sdgs"] = _list(s.removeprefix(SDG_NS) for s in document.get("sdgs", []))
    for lang, words in (document.get("keywords") or {}).items():
        cells[f"keywords_{lang}"] = _list(words)
    cells["start_date"] = document.get("startDate", "")
    cells["end_date"] = document.get("endDate", "")
    cells["website"] = document.get("website", "")
    contact = document.get("contactPoint") or {}
    cells["contact_name"] = contact.get("fn", "")
    cells["contact_email"] = str(contact.get("hasEmail", "")).removeprefix("mailto:")
    cells["contact_url"] = contact.get("url", "")
    cells["spatial"] = document.get("spatial", "")
    cells["legal_basis"] = _list(_act(act) for act in document.get("legalBasis", []))
    cells["illustrative"] = "yes" if document.get("illustrative") else "no"
    return cells


def result_cells(document: Document) -> list[dict[str, str]]:
    """One result as its results.csv rows: the result's cells on the first, one measurement each."""
    group: dict[str, str] = {
        "result_slug": _slug(document["id"]),
        "result_of": _result_of(document),
        "status": str(document.get("status", "")).rsplit("#", 1)[-1],
        "progress": str(document["progress"]) if "progress" in document else "",
    }
    _texts(group, document, RESULT_TEXTS)
    rows: list[dict[str, str]] = []
    for measurement in document.get("measurements", []) or [{}]:
        cells = dict(group) if not rows else {"result_slug": group["result_slug"]}
        if measurement:
            _texts(cells, measurement, MEASUREMENT_TEXTS)
            cells["value"] = str(measurement["value"])
            cells["unit"] = measurement["unit"]
            cells["period"] = measurement["period"]
            cells["role"] = measurement.get("role", "observed")
            cells["source"] = measurement.get("source", "")
            cells["illustrative"] = "yes" if measurement.get("illustrative") else "no"
        rows.append(cells)
    return rows


def _result_of(document: Document) -> str:
    """The practice's slug when it is on the result's own node, else its full address."""
    of = str(document.get("resultOf", ""))
    same_node = of.rsplit("/records/", 1)[0] == document["id"].rsplit("/records/", 1)[0]
    return _slug(of) if same_node else of


def rows(
    documents: Iterable[Document], template: str, with_origin: bool = False
) -> Iterator[list[str]]:
    """The template's rows for the records of its kind (practices or results), header first."""
    columns = header(template, with_origin)
    yield columns
    for document in documents:
        if template == "practices" and document.get("type") in PRACTICE_TYPES:
            found = [practice_cells(document)]
        elif template == "results" and document.get("type") == "Result":
            found = result_cells(document)
        else:
            continue
        for cells in found:
            if with_origin:
                cells = {**cells, "origin": document.get("publisher", ""), "id": document["id"]}
            yield [cells.get(column, "") for column in columns]


def encode_rows(table: Iterable[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue()


def write_csv(documents: list[Document], template: str = "practices") -> str:
    """A whole template file (the CLI export)."""
    return encode_rows(rows(documents, template))


__all__ = [
    "MEASUREMENT_COLUMNS",
    "ORIGIN_COLUMNS",
    "RESULT_GROUP_COLUMNS",
    "TEMPLATES",
    "encode_rows",
    "header",
    "practice_cells",
    "result_cells",
    "rows",
    "write_csv",
]
