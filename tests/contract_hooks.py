"""Schemathesis hooks for tests/contract_run.py (loaded through SCHEMATHESIS_HOOKS).

A query string carries text only: schemathesis writes a generated JSON `null` as the text
`null`, which for a free-text parameter (`city=null`) is a valid value, so such cases say
nothing about the API; they are left out. `before=null` for a number is still generated as text
by the fuzzing phase and must be refused (it is: a 400).
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    if not query:
        return True
    for value in query.values():
        values = value if isinstance(value, list) else [value]
        if any(v is None for v in values):
            return False
    return True
