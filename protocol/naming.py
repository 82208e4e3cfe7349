"""How Python field names become JSON terms: `context` is `@context`, the rest camelCase.

One rule for records, DID documents and every Struct that mirrors a JSON-LD term.
"""

from __future__ import annotations


def json_term(name: str) -> str:
    """`lessons_learned` -> `lessonsLearned`; `context` -> `@context`."""
    if name == "context":
        return "@context"
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)
