"""How a check is written: an async function of the context, registered under a requirement id.

It returns a note (or None) when the requirement holds, raises `Failed` with what the kit saw
when it does not, and `Skipped` when the node does not offer what it concerns (a node that does
not relay cannot show what it ingested). Any other exception is a failure too: the kit never
stops on a node's odd answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from citynode.conformance.context import Context
from citynode.conformance.report import BY_ID

Check = Callable[[Context], Awaitable[str | None]]
CHECKS: Final[dict[str, Check]] = {}


class Skipped(Exception):
    """The requirement could not be checked against this node: the message says why."""


def check(requirement: str) -> Callable[[Check], Check]:
    if requirement not in BY_ID:
        raise KeyError(f"no requirement {requirement!r} in report.REQUIREMENTS")

    def register(function: Check) -> Check:
        CHECKS[requirement] = function
        return function

    return register
