"""docs/protocol.md 5, 6.2, 7.1.4 and 7.2: peering with the node, its pulls, notices, ingest.

The kit asks to peer; once accepted, the node should pull the kit's feed (two pages with the
kit's own cursors) with signed requests, take the good records and the tombstone, leave out the
forged record and the stale copy, and (if it relays) serve what it took.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from citynode.conformance.checks import Skipped, check
from citynode.conformance.checks_feed import digest_of, walk
from citynode.conformance.context import Context, Failed, expect_message, expect_refusal
from citynode.conformance.peer import FIRST, LAST
from protocol.messages import (
    Endpoints,
    InboxNotice,
    KeyNotice,
    PeerRequest,
    PeerResponse,
    encode_message,
    origin_digest,
)

STATUSES = ("accepted", "pending", "refused")


def _pulls(ctx: Context) -> list[Any]:
    return [s for s in ctx.kit.seen if s.path == "/fed/v1/changes"]


async def _eventually(ctx: Context, done: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await done():
            return True
        await asyncio.sleep(0.1)
    return bool(await done())


def _peered(ctx: Context) -> None:
    if ctx.peering != "accepted":
        raise Skipped(f"the node did not accept the kit as a peer ({ctx.peering or 'no answer'})")


@check("notice-before-peering")
async def notice_before_peering(ctx: Context) -> str | None:
    body = encode_message(InboxNotice(sender=ctx.kit.did, cursor=LAST))
    answer = await ctx.client.signed("POST", ctx.inbox_url, body, what="a stranger's notice")
    expect_refusal(answer, 403, "peer_refused")
    if _pulls(ctx):
        raise Failed("the node pulled from the kit on a notice from a node it had not peered")
    return None


@check("peer-request-mismatch")
async def peer_request_mismatch(ctx: Context) -> str | None:
    other = "http://127.0.0.1:9"
    descriptor = msgspec.structs.replace(
        ctx.kit.descriptor(),
        did="did:web:127.0.0.1%3A9",
        base_url=other,
        endpoints=Endpoints(
            changes=f"{other}/fed/v1/changes",
            inbox=f"{other}/fed/v1/inbox",
            did_document=f"{other}/.well-known/did.json",
        ),
    )
    body = encode_message(PeerRequest(descriptor=descriptor))
    answer = await ctx.client.signed(
        "POST", ctx.endpoint("peers"), body, what="a peer request for another node"
    )
    expect_refusal(answer, 403, "peer_refused")
    return None


async def _ask_to_peer(ctx: Context) -> PeerResponse:
    body = encode_message(PeerRequest(descriptor=ctx.kit.descriptor(), note="conformance kit"))
    answer = await ctx.client.signed("POST", ctx.endpoint("peers"), body, what="a peer request")
    return expect_message(answer, PeerResponse, f"POST {ctx.endpoint('peers')}")


@check("peer-request")
async def peer_request(ctx: Context) -> str | None:
    reply = await _ask_to_peer(ctx)
    if reply.status not in STATUSES:
        raise Failed(f"status {reply.status!r} is not one of {', '.join(STATUSES)}")
    if reply.descriptor is not None and reply.descriptor.did != ctx.did:
        raise Failed(f"the answer carries the descriptor of {reply.descriptor.did}")
    deadline = time.monotonic() + ctx.approval_wait
    while reply.status == "pending" and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        reply = await _ask_to_peer(ctx)
    ctx.peering = reply.status
    return f"{reply.status}" + (f" ({reply.reason})" if reply.reason else "")


async def _pulled_all(ctx: Context) -> bool:
    return any(s.query.get("after") == FIRST and not s.refused for s in _pulls(ctx))


async def _whole_feed_pulled(ctx: Context) -> bool:
    """Whether the node asked for the kit's second page (waited for once, then remembered)."""
    if ctx.pulled_all is None:
        ctx.pulled_all = await _eventually(ctx, lambda: _pulled_all(ctx), ctx.wait)
    return ctx.pulled_all


async def _pulled(ctx: Context) -> bool:
    return bool(_pulls(ctx))


@check("pulls-signed")
async def pulls_signed(ctx: Context) -> str | None:
    _peered(ctx)
    if not await _eventually(ctx, lambda: _pulled(ctx), ctx.wait):
        raise Failed(f"the node did not pull from the kit within {ctx.wait} s of accepting it")
    # Let the pull run its course (both pages), then judge every request it sent.
    await _whole_feed_pulled(ctx)
    refused = [s for s in ctx.kit.seen if s.refused]
    if refused:
        first = refused[0]
        raise Failed(f"{first.method} {first.path} was not signed per the profile: {first.refused}")
    return f"{len(ctx.kit.seen)} request(s) verified"


@check("pull-paging")
async def pull_paging(ctx: Context) -> str | None:
    _peered(ctx)
    await _whole_feed_pulled(ctx)
    pulls = _pulls(ctx)
    if not pulls:
        raise Failed("the node never pulled the kit's feed")
    if pulls[0].query.get("after"):
        raise Failed(f"the first pull sent the cursor {pulls[0].query['after']!r}; it has none")
    issued = {FIRST, LAST}
    for pull in pulls:
        after = pull.query.get("after")
        if after and after not in issued:
            raise Failed(f"the node sent a cursor the kit never issued: {after!r}")
    if not any(p.query.get("after") == FIRST for p in pulls):
        raise Failed("the node did not follow hasMore to the second page")
    return None


async def _kit_items(ctx: Context) -> list[dict[str, Any]]:
    """What the node now serves of the kit's records, read on from where the kit's walk ended."""
    if ctx.feed_end is None:
        raise Skipped("the node's feed was not walked to its end (see feed-paging)")
    pages, _ = await walk(ctx, None, 50, ctx.feed_end)
    return [
        item for _, page in pages for item in page.items if item.get("publisher") == ctx.kit.did
    ]


async def _relayed(ctx: Context) -> list[dict[str, Any]]:
    assert ctx.descriptor is not None
    _peered(ctx)
    if not ctx.descriptor.relays:
        raise Skipped("the node does not relay, so what it took cannot be seen")
    if not await _whole_feed_pulled(ctx):
        raise Skipped("the node did not pull the kit's whole feed (see pull-paging)")
    if ctx.relayed is None:
        c1 = ctx.kit.records["c1"]["id"]
        found: list[dict[str, Any]] = []

        async def arrived() -> bool:
            found[:] = await _kit_items(ctx)
            return any(item.get("id") == c1 for item in found)

        ctx.relayed = found if await _eventually(ctx, arrived, ctx.wait) else []
    if not ctx.relayed:
        raise Failed(f"the kit's records did not appear in the node's feed within {ctx.wait} s")
    return ctx.relayed


@check("ingest-verifies")
async def ingest_verifies(ctx: Context) -> str | None:
    items = await _relayed(ctx)
    forged = ctx.kit.records["b"]["id"]
    if any(item.get("id") == forged for item in items):
        raise Failed(f"the node relays {forged}, whose proof does not hold")
    return None


@check("ingest-tombstone")
async def ingest_tombstone(ctx: Context) -> str | None:
    items = await _relayed(ctx)
    a = ctx.kit.records["a1"]["id"]
    versions = [(item.get("type"), item.get("version")) for item in items if item.get("id") == a]
    if ("Tombstone", 2) not in versions:
        raise Failed(f"the node does not serve the tombstone of {a} (it serves {versions})")
    after = versions[versions.index(("Tombstone", 2)) + 1 :]
    if after:
        raise Failed(f"after the tombstone of {a} the node serves {after}")
    found = await digest_of(ctx, ctx.kit.did)
    held = [(a, 2), (ctx.kit.records["c1"]["id"], 1), (ctx.kit.records["d1"]["id"], 1)]
    want = (len(held), origin_digest(held))
    if found != want:
        raise Failed(f"the digest of the kit's records is {found}, not {want}")
    return None


@check("ingest-unknown-terms")
async def ingest_unknown_terms(ctx: Context) -> str | None:
    items = await _relayed(ctx)
    sent = ctx.kit.records["d1"]
    found = next((item for item in items if item.get("id") == sent["id"]), None)
    if found is None:
        raise Failed(f"the node did not take {sent['id']}, which carries a term it may not know")
    if found != sent:
        raise Failed(f"the node serves {sent['id']} changed from what was signed")
    return None


@check("notice-sender-mismatch")
async def notice_sender_mismatch(ctx: Context) -> str | None:
    _peered(ctx)
    body = encode_message(InboxNotice(sender="did:web:127.0.0.1%3A9", cursor=LAST))
    answer = await ctx.client.signed("POST", ctx.inbox_url, body, what="a notice for another")
    expect_refusal(answer, 403, "peer_refused")
    return None


@check("notice-bad-cursor")
async def notice_bad_cursor(ctx: Context) -> str | None:
    _peered(ctx)
    body = msgspec.json.encode({"type": "InboxNotice", "sender": ctx.kit.did, "cursor": "a b"})
    answer = await ctx.client.signed("POST", ctx.inbox_url, body, what="a notice's bad cursor")
    expect_refusal(answer, 400, "invalid_message")
    return None


@check("notice-accepted")
async def notice_accepted(ctx: Context) -> str | None:
    _peered(ctx)
    before = len(_pulls(ctx))
    body = encode_message(InboxNotice(sender=ctx.kit.did, cursor="kit~later"))
    answer = await ctx.client.signed("POST", ctx.inbox_url, body, what="a peer's notice")
    value = answer.json
    if (
        answer.status != 202
        or not isinstance(value, dict)
        or not isinstance(value.get("status"), str)
    ):
        raise Failed(f"expected 202 with a status, got {answer.describe()}")

    async def pulled() -> bool:
        return len(_pulls(ctx)) > before

    if not await _eventually(ctx, pulled, ctx.wait):
        raise Failed(f"no pull followed the notice within {ctx.wait} s")
    return f"answered {value['status']!r}"


@check("key-notice")
async def key_notice(ctx: Context) -> str | None:
    _peered(ctx)
    body = encode_message(KeyNotice(sender=ctx.kit.did, did=ctx.kit.did))
    answer = await ctx.client.signed("POST", ctx.inbox_url, body, what="a key notice")
    if answer.status != 202:
        raise Failed(f"expected 202, got {answer.describe()}")
    return None


@check("error-shape")
async def error_shape(ctx: Context) -> str | None:
    refusals = ctx.client.refusals
    wrong = [what for what, answer in refusals if not answer.error_shaped()]
    if wrong:
        raise Failed(f"{len(wrong)} refusal(s) not in the error shape, e.g. {wrong[0]}")
    return f"{len(refusals)} refusal(s), all in the error shape"
