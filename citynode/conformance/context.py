"""What the checks share: the node under test as the kit has learned it, the kit, the report."""

from __future__ import annotations

from typing import Any

from citynode.conformance.client import Answer, TargetClient
from citynode.conformance.peer import KitPeer
from citynode.conformance.report import Report, Status
from protocol.errors import ProtocolError
from protocol.messages import M, NodeDescriptor, decode_as


class Failed(Exception):
    """A requirement does not hold: the message says what the kit saw."""


class Context:
    def __init__(
        self,
        url: str,
        kit: KitPeer,
        client: TargetClient,
        report: Report,
        *,
        wait: float,
        approval_wait: float,
    ) -> None:
        self.url = url.rstrip("/")
        self.kit = kit
        self.client = client
        self.report = report
        #: How long to wait for the node to act on its own (a pull after peering or a notice).
        self.wait = wait
        self.approval_wait = approval_wait
        self.descriptor: NodeDescriptor | None = None
        self.did_document: dict[str, Any] | None = None
        #: The node's feed as the kit walked it: every item, and the cursor after the last one.
        self.feed_items: list[dict[str, Any]] | None = None
        self.feed_end: str | None = None
        self.peering: str | None = None
        #: The kit's records as the node serves them once it pulled them (if it relays).
        self.relayed: list[dict[str, Any]] | None = None
        #: Whether the node pulled both pages of the kit's feed (None: not looked yet).
        self.pulled_all: bool | None = None

    @property
    def did(self) -> str:
        assert self.descriptor is not None
        return self.descriptor.did

    @property
    def changes_url(self) -> str:
        assert self.descriptor is not None
        return self.descriptor.endpoints.changes

    @property
    def inbox_url(self) -> str:
        assert self.descriptor is not None
        return self.descriptor.endpoints.inbox

    def endpoint(self, name: str) -> str:
        assert self.descriptor is not None
        value = getattr(self.descriptor.endpoints, name)
        return value if isinstance(value, str) else f"{self.url}/fed/v1/{name}"

    def outcome(self, requirement: str, status: Status, detail: str = "") -> None:
        self.report.add(requirement, status, detail)


def expect_message(answer: Answer, kind: type[M], where: str) -> M:
    """The answer is a 200 carrying a `kind` message (`where`: the request, for the report)."""
    if answer.status != 200:
        raise Failed(f"{where}: {answer.describe()}")
    try:
        return decode_as(answer.body, kind)
    except ProtocolError as exc:
        raise Failed(exc.message) from None


def expect_refusal(answer: Answer, status: int, *codes: str) -> None:
    """The answer is a refusal with this status and (when given) one of these codes."""
    if answer.status != status:
        raise Failed(f"expected HTTP {status}, got {answer.describe()}")
    if codes and answer.code not in codes:
        raise Failed(f"expected code {' or '.join(codes)}, got {answer.describe()}")
