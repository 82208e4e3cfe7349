"""docs/protocol.md says what the code does: its tables are checked against the code.

- the peering state table (section 6.3) against `protocol.sync.transition`, both ways: every
  row holds, and every transition that changes the state is a row;
- the error table (section 10) names every error code the protocol package raises;
- the sections the code and the conformance kit cite exist.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from citynode.conformance.report import REQUIREMENTS
from citynode.spec.examples import read_table
from protocol import errors
from protocol.sync import (
    STATES,
    Approved,
    Blocked,
    NoticeReceived,
    PeerSync,
    PullFailed,
    PullSucceeded,
    ReconcileFinished,
    Removed,
    Started,
    SyncRequested,
    Tick,
    transition,
)

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
NOW = 1_000_000.0
EVENTS: dict[str, Any] = {
    "Approved": Approved(),
    "Blocked": Blocked(),
    "Removed": Removed(),
    "Tick": Tick(),
    "Started": Started(),
    "PullSucceeded(more)": PullSucceeded(cursor="c2", items=1, more=True),
    "PullSucceeded(caught-up)": PullSucceeded(cursor="c2", items=1, more=False),
    "PullFailed": PullFailed(kind="network"),
    "NoticeReceived": NoticeReceived(cursor="c9"),
    "SyncRequested": SyncRequested(),
    "ReconcileFinished(match)": ReconcileFinished(mismatch=False),
    "ReconcileFinished(mismatch)": ReconcileFinished(mismatch=True),
}


def _unquote(cell: str) -> str:
    return cell.strip("`")


def _next_state(state: str, event: str) -> str:
    # A peer whose next attempt is due now, whose reconcile is far off, holding cursor c1.
    peer = PeerSync(state=state, next_attempt_at=NOW - 1, cursor="c1", reconcile_at=NOW + 1e6)  # type: ignore[arg-type]
    return transition(peer, EVENTS[event], NOW, random.Random(7)).state


def test_the_peering_state_table_is_the_state_machine() -> None:
    rows = {(_unquote(a), _unquote(b)): _unquote(c) for a, b, c in read_table(SPEC, "peer-states")}
    assert all(event in EVENTS for _, event in rows), sorted(rows)
    wrong = [
        f"{state} --{event}--> {rows[(state, event)]} in the spec, {_next_state(state, event)} "
        "in protocol/sync.py"
        for state, event in rows
        if _next_state(state, event) != rows[(state, event)]
    ]
    missing = [
        f"{state} --{event}--> {_next_state(state, event)} is not in the spec's table"
        for state in STATES
        for event in EVENTS
        if _next_state(state, event) != state and (state, event) not in rows
    ]
    assert not wrong and not missing, "\n".join(wrong + missing)


#: The modules whose errors reach the wire or a puller's verdict (publishing-only errors such as
#: a UCUM unit's are the API's business, docs/api.md).
WIRE_MODULES = {"protocol.errors", "protocol.proofs", "protocol.did"}


def _codes(kind: type[errors.ProtocolError]) -> set[str]:
    found = set()
    for sub in kind.__subclasses__():
        if sub.__module__ in WIRE_MODULES:
            found.add(sub.code)
        found |= _codes(sub)
    return found


def test_the_error_table_names_every_protocol_error() -> None:
    table = {_unquote(row[0]) for row in read_table(SPEC, "errors")}
    # Roots are never raised as such; key and DID format errors reach peers as `unknown_key`.
    internal = {"verification_failed", "http_signature_invalid", "bad_key", "bad_did"}
    missing = _codes(errors.ProtocolError) - internal - table
    assert not missing, f"docs/protocol.md section 10 lacks {sorted(missing)}"


def _sections() -> set[str]:
    return set(re.findall(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", SPEC, re.M))


def test_the_kit_s_sections_exist() -> None:
    sections = _sections()
    assert {r.section for r in REQUIREMENTS} <= sections


@pytest.mark.parametrize("folder", ["citynode", "protocol", "tests"])
def test_the_sections_the_code_cites_exist(folder: str) -> None:
    sections = _sections()
    cited = re.compile(r"docs/protocol\.md[ ,]*(?:section )?(\d+(?:\.\d+)*)")
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for number in cited.findall(path.read_text(encoding="utf-8")):
            if number.rstrip(".") not in sections:
                bad.append(f"{path.relative_to(ROOT)} cites docs/protocol.md {number}")
    assert not bad, "\n".join(bad)
