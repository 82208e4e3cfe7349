"""Records as the CSV import templates: practices one row each, results one row per measurement.

The inverse of `citynode/imports/csv_records.py`, written from the same column lists
(`csv_columns.py`) and term tables (`csv_terms.py`), so a file exported here imports again into
the same records (`docs/csv-template.md`; tests/test_csv_round_trip.py) and a column added to
the template is exported by the same change.
`citynode export --format csv|results-csv` and the `/dumps/records.csv`, `/dumps/results.csv`
routes both write through this module; rows are produced one record at a time (`rows`), so a
dump of the whole replica is streamed, never held.

Text columns come once per language the records use (`title_es`, `title_fr`, `summary_pt_br`):
es, en and pt always, then every other language in the records (`languages_of`, or for a
streamed dump the same question asked of the store first: `storage.records.text_languages`).
Nested fields a short cell cannot hold without losing something (legal acts with titles in
several languages, funders, costs, evidence...) are written as a JSON list, which the importer
reads as it is; codes (status, themes, SDGs, stage...) are written short, as a clerk types them.

A replica export (`origin=all`) holds other cities' records: their slugs can collide, so such a
file starts with an `origin` column (the publishing node's DID) and an `id` column; drop both to
import the rows as your own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from citynode.imports.csv_columns import (
    MEASUREMENT_COLUMNS,
    MEASUREMENT_TEXTS,
    PRACTICE_COLUMNS,
    PRACTICE_TEXTS,
    RESULT_COLUMNS,
    RESULT_GROUP_COLUMNS,
    RESULT_TEXTS,
)
from citynode.imports.csv_terms import EU_THEME_NS
from protocol.records import INDICATOR_NS, LANGUAGES, PRACTICE_TYPES, SDG_NS, THEME_NS

#: The columns a replica export puts first.
ORIGIN_COLUMNS: Final = ["origin", "id"]
#: What each template is called in a dump's file name.
TEMPLATES: Final = {"practices": PRACTICE_COLUMNS, "results": RESULT_COLUMNS}
#: The record types each template holds.
TEMPLATE_TYPES: Final = {"practices": PRACTICE_TYPES, "results": ("Result",)}

Document = dict[str, Any]

# Column base -> record term, for the text columns written once per language.
_PRACTICE_TEXTS: Final = {
    **{base: term for base, (term, _limit) in PRACTICE_TEXTS.items()},
    "keywords": "keywords",
}
_RESULT_TEXTS: Final = {base: term for base, (term, _limit) in RESULT_TEXTS.items()}
_MEASUREMENT_TEXTS: Final = {base: term for base, (term, _limit) in MEASUREMENT_TEXTS.items()}
#: Per template: the language-map terms of the record, and of its measurements.
LANGUAGE_TERMS: Final = {
    "practices": (tuple(_PRACTICE_TEXTS.values()), ()),
    "results": (tuple(_RESULT_TEXTS.values()), tuple(_MEASUREMENT_TEXTS.values())),
}
# Nested fields, as JSON lists.
_PRACTICE_JSON: Final = {
    "legal_basis": "legalBasis",
    "adapted_from": "adaptedFrom",
    "funders": "funders",
    "partners": "partners",
    "costs": "costs",
    "beneficiaries": "beneficiaries",
    "areas": "areas",
    "evidence": "evidence",
    "media": "media",
}
_RESULT_JSON: Final = {"evidence": "evidence", "media": "media"}
# Concepts of the small citynode schemes (https://w3id.org/citynode/stage#pilot): by code.
_CODES: Final = {"stage": "stage", "government_level": "governmentLevel", "scale": "scale"}


def language_column(base: str, tag: str) -> str:
    """`title` and `pt-BR` -> `title_pt_br` (the importer reads the tag back from the column)."""
    return f"{base}_{tag.lower().replace('-', '_')}"


def _ordered(languages: Iterable[str]) -> list[str]:
    """es, en, pt first (the template's own columns), then the others in alphabetical order."""
    others = sorted({tag.lower() for tag in languages} - set(LANGUAGES))
    return [*LANGUAGES, *others]


def header(template: str, languages: Iterable[str] = (), with_origin: bool = False) -> list[str]:
    """The template's columns, with its per-language columns for every tag of `languages`."""
    bases = set(_PRACTICE_TEXTS if template == "practices" else [*_RESULT_TEXTS, "indicator"])
    tags = _ordered(languages)
    columns: list[str] = []
    for column in TEMPLATES[template]:
        base, _, tag = column.rpartition("_")
        if base in bases and tag in LANGUAGES:
            if tag == LANGUAGES[0]:
                columns.extend(language_column(base, lang) for lang in tags)
            continue
        columns.append(column)
    return (ORIGIN_COLUMNS if with_origin else []) + columns


def languages_of(documents: Iterable[Document], template: str) -> list[str]:
    """Every language the records of `template` write their texts in (for `header`)."""
    terms, nested = LANGUAGE_TERMS[template]
    found: dict[str, None] = {}

    def collect(part: Any, names: tuple[str, ...]) -> None:
        for term in names:
            value = part.get(term) if isinstance(part, dict) else None
            if isinstance(value, dict):
                found.update(dict.fromkeys(value))

    for document in documents:
        if document.get("type") in TEMPLATE_TYPES[template]:
            collect(document, terms)
            for measurement in document.get("measurements") or []:
                collect(measurement, nested)
    return list(found)


def _slug(record_id: str) -> str:
    return record_id.rsplit("/records/", 1)[-1]


def _list(items: Iterable[str]) -> str:
    return "; ".join(items)


def _code(iri: Any) -> str:
    return str(iri or "").rsplit("#", 1)[-1]


def _theme(iri: str) -> str:
    return iri.removeprefix(THEME_NS).removeprefix(EU_THEME_NS)


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    decimals = text.partition(".")[2]
    # The importer refuses three decimals as ambiguous (13.700): add a zero, same value.
    return f"{text}0" if len(decimals) == 3 and "e" not in text else text


def _marks(value: Any) -> str:
    """`illustrative`: yes for the whole object, or the fields that no source gives."""
    if value is True:
        return "yes"
    if isinstance(value, list):
        return _list(value)
    return "no"


def _texts(cells: dict[str, str], document: Document, table: dict[str, str]) -> None:
    for base, term in table.items():
        values = document.get(term)
        if not isinstance(values, dict):
            continue
        for lang, text in values.items():
            cells[language_column(base, lang)] = _list(text) if isinstance(text, list) else text


def _json(cells: dict[str, str], document: Document, table: dict[str, str]) -> None:
    for column, term in table.items():
        if document.get(term):
            cells[column] = json.dumps(document[term], ensure_ascii=False)


def practice_cells(document: Document) -> dict[str, str]:
    """One practice as the cells of its practices.csv row."""
    cells: dict[str, str] = {
        "slug": _slug(document["id"]),
        "type": document["type"],
        "status": _code(document.get("status")),
    }
    _texts(cells, document, _PRACTICE_TEXTS)
    cells["themes"] = _list(_theme(t) for t in document.get("themes", []))
    cells["sdgs"] = _list(s.removeprefix(SDG_NS) for s in document.get("sdgs", []))
    for column, term in (
        ("start_date", "startDate"),
        ("end_date", "endDate"),
        ("website", "website"),
        ("spatial", "spatial"),
        ("license", "license"),
    ):
        cells[column] = str(document.get(term, ""))
    for column, term in _CODES.items():
        cells[column] = _code(document.get(term))
    contact = document.get("contactPoint") or {}
    cells["contact_name"] = contact.get("fn", "")
    cells["contact_email"] = str(contact.get("hasEmail", "")).removeprefix("mailto:")
    cells["contact_url"] = contact.get("url", "")
    cells["part_of"] = _list(document.get("partOf", []))
    cells["has_part"] = _list(document.get("hasPart", []))
    cells["editorial"] = _list(document.get("editorial", []))
    cells["illustrative"] = _marks(document.get("illustrative"))
    _json(cells, document, _PRACTICE_JSON)
    return cells


def result_cells(document: Document) -> list[dict[str, str]]:
    """One result as its results.csv rows: the result's cells on the first, one measurement each."""
    group: dict[str, str] = {
        "result_slug": _slug(document["id"]),
        "result_of": _result_of(document),
        "status": _code(document.get("status")),
        "progress": str(document["progress"]) if document.get("progress") is not None else "",
        "result_period": document.get("period", ""),
        "license": document.get("license", ""),
        "part_of": _list(document.get("partOf", [])),
        "has_part": _list(document.get("hasPart", [])),
        "result_editorial": _list(document.get("editorial", [])),
        "result_illustrative": _marks(document.get("illustrative")),
    }
    _texts(group, document, _RESULT_TEXTS)
    _json(group, document, _RESULT_JSON)
    rows: list[dict[str, str]] = []
    for measurement in document.get("measurements") or [{}]:
        cells = dict(group) if not rows else {"result_slug": group["result_slug"]}
        if measurement:
            _texts(cells, measurement, _MEASUREMENT_TEXTS)
            cells["measures"] = str(measurement.get("measures", "")).removeprefix(INDICATOR_NS)
            cells["value"] = _number(measurement["value"])
            cells["unit"] = measurement.get("unit", "")
            cells["unit_code"] = measurement.get("unitCode", "")
            cells["period"] = measurement["period"]
            cells["role"] = measurement.get("role") or "observed"
            cells["source"] = measurement.get("source", "")
            cells["illustrative"] = _marks(measurement.get("illustrative"))
            cells["editorial"] = _list(measurement.get("editorial", []))
        rows.append(cells)
    return rows


def _result_of(document: Document) -> str:
    """The practice's slug when it is on the result's own node, else its full address."""
    of = str(document.get("resultOf", ""))
    same_node = of.rsplit("/records/", 1)[0] == document["id"].rsplit("/records/", 1)[0]
    return _slug(of) if same_node else of


def rows(
    documents: Iterable[Document],
    template: str,
    columns: Sequence[str],
    with_origin: bool = False,
) -> Iterator[list[str]]:
    """The rows of the records of the template's kind, in `columns` (a `header`)."""
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
    """CSV text (RFC 4180: CRLF line ends, quotes where needed)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(table)
    return out.getvalue()


def write_csv(documents: list[Document], template: str = "practices") -> str:
    """A whole template file, its columns from the records' own languages."""
    columns = header(template, languages_of(documents, template))
    return encode_rows([columns, *rows(documents, template, columns)])


__all__ = [
    "LANGUAGE_TERMS",
    "MEASUREMENT_COLUMNS",
    "ORIGIN_COLUMNS",
    "RESULT_GROUP_COLUMNS",
    "TEMPLATES",
    "TEMPLATE_TYPES",
    "encode_rows",
    "header",
    "language_column",
    "languages_of",
    "practice_cells",
    "result_cells",
    "rows",
    "write_csv",
]
