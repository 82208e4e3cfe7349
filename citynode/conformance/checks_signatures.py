"""docs/protocol.md 5, 9 and 10: the node checks every signature, and refuses what it must.

Each check sends one request that breaks one rule of the signing profile and expects the
refusal the spec names; `signed-accepted` first shows that the same request, signed right, is
taken, so a refusal below is about the broken rule and not about the kit.
"""

from __future__ import annotations

import time

from citynode.conformance.checks import check
from citynode.conformance.client import Signing
from citynode.conformance.context import Context, Failed, expect_refusal
from protocol.errors import ProtocolError
from protocol.messages import DigestRequest, InboxNotice, encode_message
from protocol.structured_fields import InnerList, parse_dictionary


def _feed(ctx: Context) -> str:
    return f"{ctx.changes_url}?limit=1"


async def _feed_refused(ctx: Context, signing: Signing, what: str, code: str) -> None:
    """A feed request signed as `signing` says must get a 401 naming `code`."""
    answer = await ctx.client.signed("GET", _feed(ctx), signing=signing, what=what)
    expect_refusal(answer, 401, code)


@check("unsigned-refused")
async def unsigned(ctx: Context) -> str | None:
    answer = await ctx.client.get(_feed(ctx), "an unsigned feed request")
    expect_refusal(answer, 401, "signature_missing")
    return None


@check("refusal-challenge")
async def refusal_challenge(ctx: Context) -> str | None:
    answer = await ctx.client.get(_feed(ctx), "an unsigned feed request")
    challenge = next((v for k, v in answer.headers.items() if k.lower() == "www-authenticate"), "")
    if answer.status != 401 or not challenge.startswith("Signature "):
        raise Failed(f"the 401 carries no Signature challenge ({challenge!r})")
    if 'error="signature_missing"' not in challenge:
        raise Failed(f"the challenge does not name the refusal's code: {challenge!r}")
    wanted = next((v for k, v in answer.headers.items() if k.lower() == "accept-signature"), "")
    try:
        members = list(parse_dictionary(wanted).values())
    except ProtocolError as exc:
        raise Failed(f"Accept-Signature {wanted!r}: {exc.message}") from None
    components = [str(item.value) for m in members if isinstance(m, InnerList) for item in m.items]
    if not {"@method", "@target-uri"} <= set(components):
        raise Failed(f"Accept-Signature does not ask for @method and @target-uri: {wanted!r}")
    return None


@check("signed-accepted")
async def signed(ctx: Context) -> str | None:
    answer = await ctx.client.signed("GET", _feed(ctx), what="a signed feed request")
    if answer.status == 200:
        return None
    hint = ""
    if ctx.kit.did_reads == 0:
        hint = (
            f" (the node never read the kit's DID document at {ctx.kit.url}/.well-known/did.json:"
            " it must reach the kit's address, e.g. allow private peers for a loopback kit)"
        )
    raise Failed(f"{answer.describe()}{hint}")


@check("forged-refused")
async def forged(ctx: Context) -> str | None:
    signing = Signing(key=ctx.kit.stranger)
    await _feed_refused(ctx, signing, "a forged signature", "bad_signature")
    return None


@check("tampered-refused")
async def tampered(ctx: Context) -> str | None:
    signing = Signing(signed_url=f"{ctx.changes_url}?limit=2")
    await _feed_refused(ctx, signing, "a changed URL", "bad_signature")
    return None


@check("replay-refused")
async def replayed(ctx: Context) -> str | None:
    url = _feed(ctx)
    headers = ctx.client.headers_for("GET", url, None, Signing())
    first = await ctx.client.send("GET", url, headers=headers, what="a request to replay")
    if first.status != 200:
        raise Failed(f"the first request was refused: {first.describe()}")
    again = await ctx.client.send("GET", url, headers=headers, what="the same request again")
    expect_refusal(again, 401, "nonce_replayed")
    return None


@check("expired-refused")
async def expired(ctx: Context) -> str | None:
    now = int(time.time())
    signing = Signing(created=now - 120, expires=now - 60)
    await _feed_refused(ctx, signing, "an expired one", "signature_expired")
    return None


@check("stale-refused")
async def stale(ctx: Context) -> str | None:
    now = int(time.time())
    signing = Signing(created=now - 3600, expires=now + 600)
    await _feed_refused(ctx, signing, "an hour old", "signature_expired")
    return None


@check("future-refused")
async def future(ctx: Context) -> str | None:
    signing = Signing(created=int(time.time()) + 600)
    await _feed_refused(ctx, signing, "from the future", "signature_not_yet_valid")
    return None


@check("unknown-key-refused")
async def unknown_key(ctx: Context) -> str | None:
    signing = Signing(keyid=f"{ctx.kit.did}#key-9")
    await _feed_refused(ctx, signing, "an unknown key", "unknown_key")
    return None


@check("other-tag-ignored")
async def other_tag(ctx: Context) -> str | None:
    signing = Signing(tag="other-app")
    await _feed_refused(ctx, signing, "another tag", "signature_missing")
    return None


def _notice(ctx: Context) -> bytes:
    return encode_message(InboxNotice(sender=ctx.kit.did, cursor="kit~page-2"))


@check("digest-checked")
async def digest_checked(ctx: Context) -> str | None:
    body = _notice(ctx)
    signing = Signing(signed_body=body.replace(b"page-2", b"page-3"))
    answer = await ctx.client.signed(
        "POST", ctx.inbox_url, body, signing=signing, what="a body its digest does not match"
    )
    expect_refusal(answer, 401, "digest_mismatch")
    return None


@check("digest-covered")
async def digest_covered(ctx: Context) -> str | None:
    signing = Signing(components=("@method", "@target-uri"))
    answer = await ctx.client.signed(
        "POST", ctx.inbox_url, _notice(ctx), signing=signing, what="a digest not covered"
    )
    expect_refusal(answer, 401, "component_not_covered")
    return None


@check("oversized-refused")
async def oversized(ctx: Context) -> str | None:
    assert ctx.descriptor is not None
    limit = ctx.descriptor.limits.max_body_bytes
    head = b'{"type":"InboxNotice","sender":"' + ctx.kit.did.encode() + b'","cursor":"k","pad":"'
    body = head + b"x" * (limit + 1 - len(head) - 2) + b'"}'
    answer = await ctx.client.signed("POST", ctx.inbox_url, body, what="an oversized body")
    expect_refusal(answer, 413, "payload_too_large")
    return f"limits.maxBodyBytes = {limit}"


@check("malformed-refused")
async def malformed(ctx: Context) -> str | None:
    answer = await ctx.client.signed(
        "POST", ctx.endpoint("digest"), b'{"type": "DigestRequest", ', what="broken JSON"
    )
    expect_refusal(answer, 400, "invalid_message")
    # The same endpoint takes the well-formed message (so the refusal was about the JSON).
    fine = await ctx.client.signed("POST", ctx.endpoint("digest"), encode_message(DigestRequest()))
    if fine.status != 200:
        raise Failed(f"a well-formed DigestRequest was refused too: {fine.describe()}")
    return None


@check("deep-refused")
async def deep(ctx: Context) -> str | None:
    body = b"[" * 10_000 + b"]" * 10_000
    answer = await ctx.client.signed("POST", ctx.endpoint("digest"), body, what="deep JSON")
    if not 400 <= answer.status < 500:
        raise Failed(f"expected a 4xx, got {answer.describe()}")
    return None
