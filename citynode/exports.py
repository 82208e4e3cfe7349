"""Flat exports: records as CSV, one row per record, for spreadsheets and open data portals."""

from __future__ import annotations

import csv
import io
from typing import Any

from protocol.records import LANGUAGES

_TEXT_FIELDS = ("title", "summary")
_HEADER = (
    ["id", "type", "version", "status", "modified", "issued", "publisher"]
    + [f"{field}_{lang}" for field in _TEXT_FIELDS for lang in LANGUAGES]
    + ["themes", "sdgs", "start_date", "end_date", "result_of", "website", "license"]
)


def write_csv(documents: list[dict[str, Any]]) -> str:
    """One row per record; lists are joined with ';' as the import template expects."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_HEADER)
    for doc in documents:
        row: list[Any] = [
            doc.get("id"),
            doc.get("type"),
            doc.get("version"),
            str(doc.get("status", "")).rsplit("#", 1)[-1],
            doc.get("modified"),
            doc.get("issued"),
            doc.get("publisher"),
        ]
        for field in _TEXT_FIELDS:
            values = doc.get(field) or {}
            row.extend(values.get(lang, "") for lang in LANGUAGES)
        row.extend(
            [
                ";".join(doc.get("themes", [])),
                ";".join(doc.get("sdgs", [])),
                doc.get("startDate", ""),
                doc.get("endDate", ""),
                doc.get("resultOf", ""),
                doc.get("website", ""),
                doc.get("license", ""),
            ]
        )
        writer.writerow(row)
    return out.getvalue()
