"""docs/protocol.md 3, 4, 7.1, 7.3 and 8: the node's changes feed, its records, digests, search.

The kit walks the feed with small pages and with large ones and compares them; it verifies
every record it was served under its origin's DID document, and recomputes the digests.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote, urlsplit

from citynode.conformance.checks import Skipped, check
from citynode.conformance.context import Context, Failed, expect_message, expect_refusal
from protocol.did import (
    DidError,
    KeyEntry,
    did_document_url,
    key_resolver,
    keys_from_document,
    parse_did_document,
)
from protocol.errors import KeyRevoked, ProtocolError
from protocol.messages import (
    ChangesPage,
    DigestRequest,
    DigestResponse,
    SearchRequest,
    SearchResponse,
    decode_as,
    encode_message,
    origin_digest,
)
from protocol.proofs import verify_record
from protocol.records import Tombstone, parse_record

#: Bounds on what the kit reads of a large node's feed.
SMALL_PAGES: Final = 25
FULL_PAGES: Final = 100
MAX_VERIFIED: Final = 5000


async def page(ctx: Context, after: str | None, limit: int | None) -> ChangesPage:
    query = []
    if after is not None:
        query.append(f"after={quote(after, safe='')}")
    if limit is not None:
        query.append(f"limit={limit}")
    url = ctx.changes_url + ("?" + "&".join(query) if query else "")
    answer = await ctx.client.signed("GET", url, what="a feed page")
    if answer.status != 200:
        raise Failed(f"GET {url}: {answer.describe()}")
    try:
        found = decode_as(answer.body, ChangesPage)
    except ProtocolError as exc:
        raise Failed(f"GET {url}: {exc.message}") from None
    if found.node != ctx.did:
        raise Failed(f"GET {url}: the page says it is from {found.node}, not {ctx.did}")
    return found


async def walk(
    ctx: Context, limit: int | None, max_pages: int, after: str | None = None
) -> tuple[list[tuple[str | None, ChangesPage]], bool]:
    """The pages from `after` on, following `next`; whether the walk reached the end."""
    pages: list[tuple[str | None, ChangesPage]] = []
    for _ in range(max_pages):
        found = await page(ctx, after, limit)
        pages.append((after, found))
        if found.items and found.next == after:
            raise Failed(f"a page with items gave back the cursor it was asked with ({after})")
        if not found.has_more:
            return pages, True
        after = found.next
    return pages, False


def _pairs(items: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(item.get("id"), item.get("version")) for item in items]


@check("feed-page")
async def feed_page(ctx: Context) -> str | None:
    first = await page(ctx, None, None)
    return f"{len(first.items)} item(s) on the first page, next {first.next!r}"


@check("feed-limit")
async def feed_limit(ctx: Context) -> str | None:
    assert ctx.descriptor is not None
    one = await page(ctx, None, 1)
    if len(one.items) > 1:
        raise Failed(f"limit=1 gave {len(one.items)} items")
    most = ctx.descriptor.limits.max_page_size
    big = await page(ctx, None, most + 1000)
    if len(big.items) > most:
        raise Failed(f"limit={most + 1000} gave {len(big.items)} items, over maxPageSize {most}")
    if one.has_more and len(big.items) < 2:
        raise Failed("limit=1 said more follow, but a larger page holds one item")
    return f"maxPageSize {most}"


@check("feed-paging")
async def feed_paging(ctx: Context) -> str | None:
    assert ctx.descriptor is not None
    # The whole feed first (in the largest pages): the checks after this one read it.
    full, complete = await walk(ctx, ctx.descriptor.limits.max_page_size, FULL_PAGES)
    everything = [item for _, found in full for item in found.items]
    ctx.feed_items = everything
    ctx.feed_end = full[-1][1].next if complete else None
    small, small_done = await walk(ctx, 2, SMALL_PAGES)
    items = [item for _, found in small for item in found.items]
    if any(len(found.items) > 2 for _, found in small):
        raise Failed("a page asked with limit=2 holds more than 2 items")
    pairs = _pairs(items)
    if len(set(pairs)) != len(pairs):
        raise Failed("following `next` served an item twice")
    if _pairs(everything[: len(items)]) != pairs:
        raise Failed("pages of 2 and pages of maxPageSize hold different items in the same order")
    if small_done and len(everything) > len(items):
        raise Failed(
            f"pages of 2 said no more follow after {len(items)} items, but the feed holds "
            f"{len(everything)}"
        )
    extent = "the whole feed" if complete else f"the first {len(everything)} items"
    return f"{len(items)} items in pages of 2 matched {extent}"


@check("feed-resume")
async def feed_resume(ctx: Context) -> str | None:
    small, complete = await walk(ctx, 2, 6)
    if len(small) >= 2:
        cursor = small[0][1].next
        again = await page(ctx, cursor, 2)
        if _pairs(again.items) != _pairs(small[1][1].items):
            raise Failed(f"asking again after {cursor!r} gave other items than the first time")
    end = ctx.feed_end if ctx.feed_end is not None else (small[-1][1].next if complete else None)
    if end is None:
        return "the end of the feed was not reached; resumption checked at its start"
    last = await page(ctx, end, None)
    if last.items or last.has_more:
        raise Failed(f"after the last cursor {end!r} the page is not empty")
    if last.next != end:
        raise Failed(f"an empty page after {end!r} gives next {last.next!r}, not the same cursor")
    return None


@check("feed-bad-cursor")
async def feed_bad_cursor(ctx: Context) -> str | None:
    url = f"{ctx.changes_url}?after={quote('not a cursor!', safe='')}"
    answer = await ctx.client.signed("GET", url, what="a cursor outside the wire form")
    expect_refusal(answer, 400, "invalid_cursor")
    return None


async def _keys(
    ctx: Context, did: str, cache: dict[str, dict[str, KeyEntry] | None]
) -> dict[str, KeyEntry] | None:
    """The assertion keys of a publisher; None when its DID document cannot be read now (a
    relayed origin may be offline: its records cannot be judged, which is not the node's fault).
    """
    if did in cache:
        return cache[did]
    if did == ctx.did and ctx.did_document is not None:
        body: Any = ctx.did_document
    else:
        try:
            url = did_document_url(did, urlsplit(ctx.url).scheme)
        except DidError as exc:
            raise Failed(
                f"a record's publisher {did} is not a did:web DID: {exc.message}"
            ) from None
        answer = await ctx.client.get(url, f"the DID document of {did}")
        if answer.status != 200:
            cache[did] = None
            return None
        body = answer.body
    try:
        cache[did] = keys_from_document(parse_did_document(body), "assertionMethod")
    except ProtocolError:
        cache[did] = None
    return cache[did]


def _feed(ctx: Context) -> list[dict[str, Any]]:
    if ctx.feed_items is None:
        raise Skipped("the feed could not be walked (see feed-paging)")
    return ctx.feed_items


@check("feed-items-verify")
async def feed_items_verify(ctx: Context) -> str | None:
    assert ctx.descriptor is not None
    items = _feed(ctx)[:MAX_VERIFIED]
    cache: dict[str, dict[str, KeyEntry] | None] = {}
    allow_http = urlsplit(ctx.url).scheme == "http"
    verified = unjudged = revoked = 0
    for item in items:
        publisher = item.get("publisher")
        if not isinstance(publisher, str):
            raise Failed(f"item {item.get('id')} names no publisher")
        if not ctx.descriptor.relays and publisher != ctx.did:
            raise Failed(f"the node does not relay, but serves {item.get('id')} of {publisher}")
        keys = await _keys(ctx, publisher, cache)
        if keys is None:
            if publisher == ctx.did:
                raise Failed("the node's own DID document lists no usable keys")
            unjudged += 1
            continue
        try:
            verify_record(item, key_resolver(keys), allow_http=allow_http)
        except KeyRevoked:
            # Signed after a revocation its publisher declared later: the feed is a log of
            # what was stored, and the reader judges it (docs/protocol.md 4.3).
            revoked += 1
            continue
        except ProtocolError as exc:
            raise Failed(f"{exc.code}: {exc.message}") from None
        verified += 1
    if not items:
        return "empty feed"
    note = f"{verified} record(s) verified"
    if revoked:
        note += f", {revoked} signed with a key since revoked"
    if unjudged:
        note += f", {unjudged} of origins whose DID document could not be read"
    return note


@check("feed-versions")
async def feed_versions(ctx: Context) -> str | None:
    last: dict[str, int] = {}
    for item in _feed(ctx):
        record_id, version = item.get("id"), item.get("version")
        if not isinstance(record_id, str) or type(version) is not int or version < 1:
            raise Failed(f"an item has no id or no positive integer version: {record_id!r}")
        if record_id in last and version <= last[record_id]:
            raise Failed(f"{record_id}: version {version} served after version {last[record_id]}")
        last[record_id] = version
    return None


@check("feed-tombstones")
async def feed_tombstones(ctx: Context) -> str | None:
    items = _feed(ctx)
    tombstones = [(n, item) for n, item in enumerate(items) if item.get("type") == "Tombstone"]
    if not tombstones:
        raise Skipped("the node's feed holds no tombstone")
    for n, item in tombstones:
        try:
            parsed = parse_record(item)
        except ProtocolError as exc:
            raise Failed(f"a tombstone is not one: {exc.message}") from None
        if not isinstance(parsed, Tombstone):
            raise Failed(f"{item.get('id')} is typed Tombstone but does not read as one")
        earlier = [i.get("version", 0) for i in items[:n] if i.get("id") == item["id"]]
        if earlier and max(earlier) >= item["version"]:
            raise Failed(f"the tombstone of {item['id']} is not newer than what came before")
        later = [i for i in items[n + 1 :] if i.get("id") == item["id"]]
        if any(i.get("type") != "Tombstone" for i in later):
            raise Failed(f"{item['id']} is served again as a record after its tombstone")
    return f"{len(tombstones)} tombstone(s)"


def _current(items: list[dict[str, Any]], origin: str) -> list[tuple[str, int]]:
    held: dict[str, int] = {}
    for item in items:
        if item.get("publisher") == origin:
            held[item["id"]] = max(held.get(item["id"], 0), item["version"])
    return list(held.items())


async def digest_of(ctx: Context, origin: str) -> tuple[int, str] | None:
    body = encode_message(DigestRequest(origins=[origin]))
    answer = await ctx.client.signed("POST", ctx.endpoint("digest"), body, what="a digest")
    found = expect_message(answer, DigestResponse, f"POST {ctx.endpoint('digest')}")
    if found.node != ctx.did:
        raise Failed(f"the digest says it is from {found.node}, not {ctx.did}")
    entry = next((o for o in found.origins if o.origin == origin), None)
    return None if entry is None else (entry.count, entry.digest)


@check("digest")
async def digest(ctx: Context) -> str | None:
    items = _feed(ctx)
    if ctx.feed_end is None:
        raise Skipped("the feed was not walked to its end, so its digest cannot be recomputed")
    for _ in range(2):
        expected = _current(items, ctx.did)
        found = await digest_of(ctx, ctx.did)
        if expected and found is None:
            raise Failed(f"the digest leaves out the node's own origin {ctx.did}")
        want = (len(expected), origin_digest(expected))
        if found is None or found == want:
            return f"{want[0]} record(s) of the node's own" if found else "no records of its own"
        # Something may have been written meanwhile: read on from where the walk ended.
        more, _ = await walk(ctx, None, FULL_PAGES, ctx.feed_end)
        items = items + [item for _, p in more for item in p.items]
    raise Failed(f"the digest is {found}, but the feed's records give {want}")


@check("search")
async def search(ctx: Context) -> str | None:
    assert ctx.descriptor is not None
    url = ctx.descriptor.endpoints.search
    body = encode_message(SearchRequest(query="conformance", limit=5))
    if url is None:
        answer = await ctx.client.signed(
            "POST", ctx.endpoint("search"), body, what="an unoffered search"
        )
        if answer.status == 200 or answer.status >= 500 or answer.status == 0:
            raise Failed(f"live search is not offered, but POST answered {answer.describe()}")
        raise Skipped("the node does not offer live search (no endpoints.search)")
    answer = await ctx.client.signed("POST", url, body, what="a live search")
    found = expect_message(answer, SearchResponse, f"POST {url}")
    if found.node != ctx.did:
        raise Failed(f"the answer says it is from {found.node}, not {ctx.did}")
    if len(found.hits) > 5:
        raise Failed(f"asked for 5 hits, got {len(found.hits)}")
    return f"{len(found.hits)} hit(s)"
