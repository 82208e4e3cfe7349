"""Federation wire messages (`/fed/v1/...` and `/.well-known/citynode`).

Every message is a msgspec Struct in one tagged union (the `type` field names the message),
decoded by one reused `Decoder` and dispatched with `match`:

    match decode_message(body):
        case InboxNotice(sender=sender, cursor=cursor): ...
        case PeerRequest(descriptor=descriptor): ...

Wire types never forbid unknown fields, and every field added after `citynode/1` gets a
default, so an older node reads a newer node's messages. Field names are camelCase on the wire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct

from protocol.cursor import MAX_PAGE_SIZE
from protocol.errors import InvalidMessage
from protocol.records import CONTEXT_URL, SHAPES_VERSION

__all__ = [
    "PROTOCOL_VERSION",
    "ChangesPage",
    "DigestRequest",
    "DigestResponse",
    "Endpoints",
    "InboxNotice",
    "KeyNotice",
    "Limits",
    "Message",
    "NodeDescriptor",
    "OriginDigest",
    "PeerRequest",
    "PeerResponse",
    "Population",
    "SearchFilters",
    "SearchHit",
    "SearchRequest",
    "SearchResponse",
    "check_descriptor",
    "decode_as",
    "decode_message",
    "encode_message",
    "origin_digest",
]

PROTOCOL_VERSION: Final = "citynode/1"
#: Default cap on any federation request or response body.
DEFAULT_MAX_BODY_BYTES: Final = 8 * 1024 * 1024
MAX_SEARCH_LIMIT: Final = 100

PositiveInt = Annotated[int, Meta(ge=1)]


class _Part(Struct, kw_only=True, rename="camel"):
    """A nested part of a message (not tagged)."""


class _Message(
    Struct,
    kw_only=True,
    rename="camel",
    tag_field="type",
    tag=True,
):
    """A top-level message; `type` is the class name."""


# --- Node descriptor (/.well-known/citynode) ---


class Limits(_Part):
    """What the node accepts and serves."""

    max_body_bytes: PositiveInt = DEFAULT_MAX_BODY_BYTES
    max_page_size: PositiveInt = MAX_PAGE_SIZE
    max_search_limit: PositiveInt = MAX_SEARCH_LIMIT


class Endpoints(_Part):
    """Absolute URLs of the node's federation endpoints, all under its base URL.

    `search` is None when the node does not offer live search (it is opt-in).
    """

    changes: str
    inbox: str
    did_document: str
    search: str | None = None
    digest: str | None = None
    peers: str | None = None


class Population(_Part):
    """A city profile's population: how many inhabitants, in which year, by which source
    (per-capita comparisons divide by it). `illustrative` when no source gives the figure."""

    count: Annotated[int, Meta(ge=1, le=10**10)]
    year: Annotated[int, Meta(ge=1800, le=2200)]
    source: Annotated[str, Meta(max_length=400)] | None = None
    illustrative: bool = False


class NodeDescriptor(_Message):
    """Who a node is and how to talk to it; served at `/.well-known/citynode`."""

    did: str
    base_url: str
    name: str
    country: str
    endpoints: Endpoints
    wikidata: str | None = None
    languages: list[str] = []
    protocol: str = PROTOCOL_VERSION
    vocabulary: str = CONTEXT_URL
    shapes: str = SHAPES_VERSION
    limits: Limits = msgspec.field(default_factory=Limits)
    relays: bool = False
    population: Population | None = None


# --- Sync ---


class ChangesPage(_Message):
    """One page of `GET /fed/v1/changes`: records and tombstones in the serving node's order.

    Each item is a record or tombstone as JSON, still under its origin's proof; the receiver
    verifies every item on its own. `next` is the cursor to ask for after this page (the
    request's cursor again when the page is empty).
    """

    node: str
    items: list[dict[str, Any]]
    next: str
    has_more: bool = False


class InboxNotice(_Message):
    """A hint posted to `/fed/v1/inbox` after a write: pull me, I have changes up to `cursor`.

    `kind` is a string, not an enum, so newer kinds reach older nodes (which ignore them).
    """

    sender: str
    cursor: str
    kind: str = "changes"


class KeyNotice(_Message):
    """Posted to `/fed/v1/inbox` when signing keys changed (a rotation or a revocation):
    re-read the DID document of `did` now, instead of when the cached copy expires.

    `did` is the sender itself, or, from a relay, an origin whose records the relay serves. A
    hint only: the receiver trusts nothing in it but re-reads `did`'s own DID document, at most
    once per its refresh gap, and only for DIDs whose records it holds.
    """

    sender: str
    did: str


class PeerRequest(_Message):
    """Ask a node to peer: the requester's descriptor, and a note for the operator."""

    descriptor: NodeDescriptor
    note: str | None = None


class PeerResponse(_Message):
    """The answer to a `PeerRequest`: `accepted`, `pending` (operator approval) or `refused`."""

    status: str
    descriptor: NodeDescriptor | None = None
    reason: str | None = None


# --- Reconcile ---


class DigestRequest(_Message):
    """Ask for per-origin digests; no origins means all the node holds."""

    origins: list[str] = []


class OriginDigest(_Part):
    """Count and `origin_digest` of the current (id, version) pairs held for one origin."""

    origin: str
    count: int
    digest: str


class DigestResponse(_Message):
    """Per-origin digests, computed at the feed position `cursor`."""

    node: str
    origins: list[OriginDigest]
    cursor: str | None = None


def origin_digest(pairs: Iterable[tuple[str, int]]) -> str:
    """The reconcile digest of one origin's records: SHA-256 over its sorted (id, version) pairs.

    The pairs (current version of every record and tombstone held for the origin) are sorted by
    id in Unicode code point order (SQLite's BINARY collation on UTF-8 gives the same order),
    then version; each contributes its JSON array `["id",version]` and a LF. Hex digest.
    """
    hasher = hashlib.sha256()
    for record_id, version in sorted(pairs):
        hasher.update(msgspec.json.encode((record_id, version)))
        hasher.update(b"\n")
    return hasher.hexdigest()


# --- Live search ---


class SearchFilters(_Part):
    """Facet filters; empty lists filter nothing. Values are IRIs or codes as in records.

    `sdgs` are SDG targets, `sdg_goals` goals; `years` the practice's own year, `published` the
    year it was first published.
    """

    types: list[str] = []
    statuses: list[str] = []
    themes: list[str] = []
    sdgs: list[str] = []
    countries: list[str] = []
    cities: list[str] = []
    years: list[int] = []
    languages: list[str] = []
    #: Added after v0.1.0 (older nodes ignore them, so they may answer more than was asked).
    sdg_goals: list[str] = []
    published: list[int] = []


class SearchRequest(_Message):
    """A live search (`/fed/v1/search`) for peers whose records are not replicated."""

    query: str
    filters: SearchFilters = msgspec.field(default_factory=SearchFilters)
    limit: Annotated[int, Meta(ge=1, le=MAX_SEARCH_LIMIT)] = 20
    language: str | None = None


class SearchHit(_Part):
    """One result: the record id, its origin node DID, its title (language map) and score."""

    id: str
    origin: str
    title: dict[str, str]
    score: float
    type: str | None = None
    version: int | None = None
    snippet: str | None = None


class SearchResponse(_Message):
    """Hits in rank order from one node."""

    node: str
    hits: list[SearchHit]
    total: int | None = None


Message = (
    NodeDescriptor
    | ChangesPage
    | InboxNotice
    | KeyNotice
    | PeerRequest
    | PeerResponse
    | DigestRequest
    | DigestResponse
    | SearchRequest
    | SearchResponse
)

_decoder: Final[msgspec.json.Decoder[Message]] = msgspec.json.Decoder(Message)
_encoder: Final = msgspec.json.Encoder()
M = TypeVar("M", bound=_Message)


def encode_message(message: Message) -> bytes:
    """The JSON bytes of a message, with its `type` tag."""
    return _encoder.encode(message)


def decode_message(data: bytes) -> Message:
    """Decode any wire message; `InvalidMessage` names what is wrong."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise InvalidMessage(f"invalid federation message: {exc}", rule="schema") from None
    except msgspec.DecodeError as exc:
        raise InvalidMessage(f"federation message is not JSON: {exc}", rule="json") from None
    except UnicodeDecodeError:
        raise InvalidMessage(
            "federation message is not JSON: not UTF-8 text", rule="utf-8"
        ) from None
    except RecursionError:
        # msgspec decodes nested arrays and objects on the C stack and stops at its limit.
        raise InvalidMessage("federation message is nested too deeply", rule="depth") from None


def decode_as(data: bytes, kind: type[M]) -> M:
    """Decode a message that must be of one kind (e.g. the answer to a request)."""
    message = decode_message(data)
    if not isinstance(message, kind):
        raise InvalidMessage(
            f"expected a {kind.__name__}, got a {type(message).__name__}",
            expected=kind.__name__,
            got=type(message).__name__,
        )
    return message


def check_descriptor(descriptor: NodeDescriptor) -> None:
    """Protocol rules a descriptor must meet beyond its types.

    The base URL is an http(s) origin; every endpoint lies under it (a peer cannot send us
    elsewhere); the protocol major version is ours.
    """
    base = urlsplit(descriptor.base_url)
    if base.scheme not in ("https", "http") or not base.netloc or base.query or base.fragment:
        raise InvalidMessage(
            f"the descriptor's base URL is not an http(s) origin: {descriptor.base_url!r}",
            field="baseUrl",
        )
    if descriptor.protocol.split(".")[0] != PROTOCOL_VERSION:
        raise InvalidMessage(
            f"unsupported protocol {descriptor.protocol!r} (this node speaks {PROTOCOL_VERSION})",
            field="protocol",
        )
    prefix = descriptor.base_url.rstrip("/") + "/"
    for name in msgspec.structs.fields(Endpoints):
        url = getattr(descriptor.endpoints, name.name)
        if url is not None and not url.startswith(prefix):
            raise InvalidMessage(
                f"endpoint {name.encode_name} is not under the base URL: {url!r}",
                field=f"endpoints.{name.encode_name}",
            )
