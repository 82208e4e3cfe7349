"""The record model as the CSV import's last check: a draft is validated as the node will
validate it, and a rule the cell readers miss is still reported against a cell."""

from __future__ import annotations

import re
from typing import Any, Final

from citynode.imports.csv_columns import LANGUAGE_BASES, MEASUREMENT_COLUMNS
from citynode.imports.csv_table import Row
from protocol.errors import InvalidRecord
from protocol.langtags import is_language_tag
from protocol.records import RECORD_CONTEXT, parse_record

__all__ = ["check_with_model"]

_PLACEHOLDER_BASE: Final = "https://csv-import.invalid/"
_TERM_COLUMNS: Final = {
    "lessonsLearned": "lessons_learned",
    "startDate": "start_date",
    "endDate": "end_date",
    "legalBasis": "legal_basis",
    "resultOf": "result_of",
    "contactPoint.fn": "contact_name",
    "contactPoint.hasEmail": "contact_email",
    "contactPoint.url": "contact_url",
    "governmentLevel": "government_level",
    "partOf": "part_of",
    "hasPart": "has_part",
    "adaptedFrom": "adapted_from",
    "unitCode": "unit_code",
}


def check_with_model(draft: dict[str, Any], row: Row, measurement_rows: list[Row]) -> None:
    """Validate the draft as the node will, so a rule the cell readers miss still names a cell.

    The model (protocol.records) is the one source of the rules; the cell readers only exist to
    give better words for the common mistakes.
    """
    document = {
        **draft,
        "@context": RECORD_CONTEXT,
        "id": _PLACEHOLDER_BASE + draft["id"],
        "version": 1,
        "issued": "2000-01-01T00:00:00Z",
        "modified": "2000-01-01T00:00:00Z",
        "publisher": "did:web:csv-import.invalid",
    }
    if isinstance(draft.get("resultOf"), str) and draft["resultOf"].startswith("records/"):
        document["resultOf"] = _PLACEHOLDER_BASE + draft["resultOf"]
    try:
        parse_record(document)
    except InvalidRecord as exc:
        # The field path, or failing that the quoted path in the message (msgspec writes a
        # language-map value as `title[...]`).
        quoted = re.search(r"'([A-Za-z@][\w.\[\]]*)", exc.message)
        candidates = [
            str(exc.detail.get("path", "")),
            str(exc.detail.get("field", "")),
            quoted.group(1) if quoted else "",
        ]
        path = next((c for c in candidates if _column_for(c)), "")
        target, column = row, _column_for(path)
        index = re.match(r"measurements\[(\d+)\]", path)
        if index and measurement_rows:
            with_values = [
                r for r in measurement_rows if any(r.cell(c) for c in MEASUREMENT_COLUMNS)
            ]
            position = int(index.group(1))
            target = with_values[position] if position < len(with_values) else row
        rule = str(exc.detail.get("rule", exc.message))
        if re.fullmatch(r"[a-z0-9-]+", rule):
            # A publishing rule (protocol/record_rules.py): its message is already in words.
            target.fail(column, re.sub(r"^record \S+: ", "", exc.message))
        else:
            target.fail(column, _plain_rule(rule))


def _column_for(path: str) -> str | None:
    path = re.sub(r"^measurements\[\d+\]\.?", "", path)
    if not path:
        return None
    parts = [p for p in re.split(r"[.\[\]]", path) if p and not p.isdigit() and p != "..."]
    if not parts:
        return None
    if ".".join(parts[:2]) in _TERM_COLUMNS:
        return _TERM_COLUMNS[".".join(parts[:2])]
    column = _TERM_COLUMNS.get(parts[0], parts[0])
    if column in LANGUAGE_BASES and len(parts) > 1 and is_language_tag(parts[1]):
        return f"{column}_{parts[1].lower().replace('-', '_')}"
    return column


def _plain_rule(rule: str) -> str:
    if match := re.search(r"length <= (\d+)", rule):
        return f"the text is too long; the limit is {match.group(1)} characters"
    if "length >= 1" in rule:
        return "this cell is empty"
    return f"the record model does not accept this value ({rule})"
