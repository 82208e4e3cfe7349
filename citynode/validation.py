"""Checking drafts beyond their structure: the SHACL shapes, and the one error of a batch.

A batch is all-or-nothing (citynode/publishing.py): every problem of every draft is collected and
reported at once, each naming its position in the batch, the record, the field and the rule, in
words a city clerk reads (docs/DESIGN.md "Records", Validation).
"""

from __future__ import annotations

from typing import Any

from rdflib import Graph

import vocab
from protocol.errors import InvalidRecord
from protocol.records import Record, record_to_builtins


class BatchInvalid(InvalidRecord):
    """Several drafts are invalid; `detail["errors"]` lists each one."""

    code = "invalid_records"


def raise_batch_errors(errors: list[dict[str, Any]]) -> None:
    """Raise one `BatchInvalid` listing every error (no-op for none)."""
    if errors:
        first = errors[0]["message"]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise BatchInvalid(f"{first}{more}; nothing was published", errors=errors)


def check_shapes(records: list[tuple[int, Record]]) -> None:
    """Run the SHACL shapes over (batch position, record) pairs; one error lists every violation."""
    if not records:
        return
    graph = Graph()
    positions: dict[str, int] = {}
    for position, record in records:
        positions[record.id] = position
        graph += vocab.record_graph(record_to_builtins(record))
    violations = vocab.validate_graph(graph)
    if not violations:
        return
    errors = [
        {
            "position": positions.get(v.focus),
            "record": v.focus if v.focus in positions else None,
            "field": v.path,
            "rule": "shacl",
            "message": f"record {v.focus}: {v.message}" if v.focus in positions else v.message,
        }
        for v in violations
    ]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise BatchInvalid(f"{errors[0]['message']}{more}; nothing was published", errors=errors)
