"""CSV exports that are the import templates: what `export --format csv` writes, `publish` reads
back into the same records (docs/csv-template.md).

Two files, as the templates: `practices.csv` (one row per practice) and `results.csv` (one row
per measurement; a result's own cells on its first row). Text columns come once per language
the records use (`title_es`, `title_fr`, `summary_pt_br`...); nested fields that a spreadsheet
cell cannot hold in a short form (legal acts with titles in several languages, funders, costs,
evidence...) are written as a JSON list, which the importer reads as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any, Final

from citynode.imports.csv_records import (
    MEASUREMENT_COLUMNS,
    PRACTICE_COLUMNS,
    RESULT_GROUP_COLUMNS,
)
from protocol.records import INDICATOR_NS, LANGUAGES, PRACTICE_TYPES

PRACTICES_FILE: Final = "practices.csv"
RESULTS_FILE: Final = "results.csv"

# Column base -> record term, for the text columns written once per language.
_PRACTICE_TEXTS: Final = {
    "title": "title",
    "summary": "summary",
    "problem": "problem",
    "approach": "approach",
    "lessons_learned": "lessonsLearned",
    "transferability": "transferability",
    "description": "description",
    "keywords": "keywords",
    "responsible": "responsible",
}
_RESULT_TEXTS: Final = {"title": "title", "summary": "summary", "description": "description"}
_JSON_COLUMNS: Final = {
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
_PLAIN: Final = {
    "type": "type",
    "status": "status",
    "start_date": "startDate",
    "end_date": "endDate",
    "website": "website",
    "spatial": "spatial",
    "license": "license",
    "stage": "stage",
    "government_level": "governmentLevel",
    "scale": "scale",
}


def _tag_column(base: str, tag: str) -> str:
    return f"{base}_{tag.lower().replace('-', '_')}"


def _languages(documents: Iterable[dict[str, Any]], terms: Iterable[str]) -> list[str]:
    """Every language the records' texts use: es, en, pt first, then in order of appearance."""
    found: dict[str, None] = dict.fromkeys(LANGUAGES)
    for doc in documents:
        for term in terms:
            value = doc.get(term)
            if isinstance(value, dict):
                found.update(dict.fromkeys(value))
    return list(found)


def _expand(columns: list[str], bases: Iterable[str], languages: list[str]) -> list[str]:
    """The template's columns with every per-language column for `languages`, in place."""
    bases = set(bases)
    out: list[str] = []
    for column in columns:
        base, _, tag = column.rpartition("_")
        if base in bases and tag in LANGUAGES:
            if tag == LANGUAGES[0]:
                out.extend(_tag_column(base, lang) for lang in languages)
            continue
        out.append(column)
    return out


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    decimals = text.partition(".")[2]
    # The importer refuses three decimals as ambiguous (13.700): add a zero, same value.
    return f"{text}0" if len(decimals) == 3 and "e" not in text else text


def _marks(value: Any) -> str:
    if value is True:
        return "yes"
    if isinstance(value, list):
        return "; ".join(value)
    return ""


def _slug(record_id: str, base_url: str) -> str:
    prefix = f"{base_url.rstrip('/')}/records/"
    return record_id.removeprefix(prefix) if record_id.startswith(prefix) else record_id


def _write(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _texts(row: dict[str, str], doc: dict[str, Any], texts: dict[str, str]) -> None:
    for base, term in texts.items():
        for lang, text in (doc.get(term) or {}).items():
            row[_tag_column(base, lang)] = "; ".join(text) if isinstance(text, list) else text


def practices_csv(documents: list[dict[str, Any]], base_url: str) -> str:
    """The practices template filled with the practice records of `documents`."""
    practices = [d for d in documents if d.get("type") in PRACTICE_TYPES]
    languages = _languages(practices, _PRACTICE_TEXTS.values())
    header = _expand(PRACTICE_COLUMNS, _PRACTICE_TEXTS, languages)
    rows = []
    for doc in practices:
        row = {column: "" for column in header}
        row["slug"] = _slug(doc["id"], base_url)
        for column, term in _PLAIN.items():
            if doc.get(term):
                row[column] = str(doc[term])
        _texts(row, doc, _PRACTICE_TEXTS)
        row["themes"] = "; ".join(doc.get("themes", []))
        row["sdgs"] = "; ".join(doc.get("sdgs", []))
        row["part_of"] = "; ".join(doc.get("partOf", []))
        row["has_part"] = "; ".join(doc.get("hasPart", []))
        row["editorial"] = "; ".join(doc.get("editorial", []))
        row["illustrative"] = _marks(doc.get("illustrative"))
        contact = doc.get("contactPoint") or {}
        row["contact_name"] = contact.get("fn", "")
        row["contact_email"] = contact.get("hasEmail", "")
        row["contact_url"] = contact.get("url", "")
        for column, term in _JSON_COLUMNS.items():
            if doc.get(term):
                row[column] = json.dumps(doc[term], ensure_ascii=False)
        rows.append(row)
    return _write(header, rows)


def results_csv(documents: list[dict[str, Any]], base_url: str) -> str:
    """The results template filled with the results of `documents`, a row per measurement."""
    results = [d for d in documents if d.get("type") == "Result"]
    measurements = [m for d in results for m in d.get("measurements", [])]
    languages = _languages(
        [*results, *measurements], ["title", "summary", "description", "indicator"]
    )
    header = _expand(
        ["result_slug", *RESULT_GROUP_COLUMNS[1:], *MEASUREMENT_COLUMNS],
        [*_RESULT_TEXTS, "indicator"],
        languages,
    )
    rows: list[dict[str, str]] = []
    for doc in results:
        head = {column: "" for column in header}
        head["result_slug"] = _slug(doc["id"], base_url)
        head["result_of"] = _slug(doc["resultOf"], base_url)
        head["status"] = doc["status"]
        if doc.get("progress") is not None:
            head["progress"] = str(doc["progress"])
        _texts(head, doc, _RESULT_TEXTS)
        head["result_period"] = doc.get("period", "")
        head["license"] = doc.get("license", "")
        head["part_of"] = "; ".join(doc.get("partOf", []))
        head["has_part"] = "; ".join(doc.get("hasPart", []))
        for term in ("evidence", "media"):
            if doc.get(term):
                head[term] = json.dumps(doc[term], ensure_ascii=False)
        head["result_editorial"] = "; ".join(doc.get("editorial", []))
        head["result_illustrative"] = _marks(doc.get("illustrative"))
        items = doc.get("measurements") or [None]
        for index, item in enumerate(items):
            row = (
                head
                if index == 0
                else {**{c: "" for c in header}, "result_slug": head["result_slug"]}
            )
            if item is not None:
                _texts(row, item, {"indicator": "indicator"})
                row["measures"] = str(item.get("measures", "")).removeprefix(INDICATOR_NS)
                row["value"] = _number(item["value"])
                row["unit"] = item.get("unit", "")
                row["unit_code"] = item.get("unitCode", "")
                row["period"] = item["period"]
                row["role"] = item.get("role") or "observed"
                row["source"] = item.get("source", "")
                row["illustrative"] = _marks(item.get("illustrative"))
                row["editorial"] = "; ".join(item.get("editorial", []))
            rows.append(row)
    return _write(header, rows)


def template_csvs(documents: list[dict[str, Any]], base_url: str) -> dict[str, str]:
    """File name -> CSV text: the two templates, filled with the node's own records."""
    return {
        PRACTICES_FILE: practices_csv(documents, base_url),
        RESULTS_FILE: results_csv(documents, base_url),
    }
