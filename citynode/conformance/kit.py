"""`run_conformance(url)`: play a peer against the node at `url` and report every requirement.

Order matters: discovery first (without a usable descriptor nothing else can be asked), then the
signature refusals and the node's own feed (the kit is a stranger), then the notice a stranger
must not get through, then peering, and what a peer sees: the node's pulls, what it took from
the kit, notices.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from citynode.conformance import checks_discovery, checks_feed, checks_peering, checks_signatures
from citynode.conformance.checks import CHECKS, Skipped
from citynode.conformance.client import TargetClient
from citynode.conformance.context import Context, Failed
from citynode.conformance.peer import KitPeer
from citynode.conformance.report import REQUIREMENTS, Report

# The check modules register themselves when imported.
_MODULES = (checks_discovery, checks_signatures, checks_feed, checks_peering)


async def run_conformance(
    url: str,
    *,
    sock: socket.socket | None = None,
    public_url: str | None = None,
    wait: float = 10.0,
    approval_wait: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """The report on the node at `url`. The kit's node listens on `sock` (default: a free port
    on 127.0.0.1) and is reachable at `public_url` (default: its socket's address)."""
    kit = await KitPeer(sock, public_url).start()
    report = Report(target=url.rstrip("/"), kit=kit.did)
    try:
        async with TargetClient(kit) as client:
            ctx = Context(url, kit, client, report, wait=wait, approval_wait=approval_wait)
            for requirement in REQUIREMENTS:
                if requirement.id == "peer-request" and approval_wait and progress:
                    progress(
                        f"asking to peer as {kit.did}; if the node waits for its operator, "
                        f"approve it within {approval_wait:.0f} s (citynode peer approve {kit.did})"
                    )
                await _run(ctx, requirement.id)
                if requirement.id == "did-document" and ctx.did_document is not None:
                    kit.trust(ctx.url, ctx.did_document)
    finally:
        await kit.stop()
    return report


async def _run(ctx: Context, requirement: str) -> None:
    if requirement not in ("descriptor", "did-document") and (
        ctx.descriptor is None or ctx.did_document is None
    ):
        ctx.outcome(requirement, "skip", "no usable descriptor and DID document")
        return
    if requirement == "did-document" and ctx.descriptor is None:
        ctx.outcome(requirement, "skip", "no usable descriptor")
        return
    try:
        note = await CHECKS[requirement](ctx)
    except Failed as exc:
        ctx.outcome(requirement, "fail", str(exc))
    except Skipped as exc:
        ctx.outcome(requirement, "skip", str(exc))
    except Exception as exc:  # the kit reports a node's odd answer, it never stops on one
        ctx.outcome(requirement, "fail", f"{type(exc).__name__}: {exc}")
    else:
        ctx.outcome(requirement, "pass", note or "")
