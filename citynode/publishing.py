"""Publishing: a draft becomes a validated, signed and stored record version.

A draft is a record without the metadata the node owns (`version`, `previousVersion`, `issued`,
`modified`, `publisher`, `proof`); its `id` and a Result's `resultOf` may be relative
("records/wifi-parques") and are resolved against the node's base URL. A batch is all-or-nothing:
every draft is checked before anything is written, and one transaction stores them all.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable
from typing import Any, Final

import msgspec
from rdflib import Graph

import vocab
from citynode.errors import BadRequest, Conflict, Gone, NotFound
from citynode.identity import NodeIdentity
from citynode.origins import Origin
from citynode.storage import records as store
from citynode.storage.db import Database
from protocol import proofs
from protocol.errors import InvalidRecord
from protocol.records import (
    PRACTICE_TYPES,
    RECORD_CONTEXT,
    Record,
    Result,
    check_context,
    parse_record,
    record_to_builtins,
)

#: Fields the node sets; a draft may carry them (an exported record re-published) but they are
#: recomputed, never trusted.
NODE_FIELDS: Final = frozenset(
    {"@context", "version", "previousVersion", "issued", "modified", "publisher", "proof"}
)
#: One signed record may not be larger than this (peers enforce the same limit).
MAX_RECORD_BYTES: Final = 256 * 1024
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class Published(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int
    type: str
    outcome: str  # "created" | "updated" | "unchanged" | "withdrawn"


class BatchInvalid(InvalidRecord):
    """Several drafts are invalid; `detail["errors"]` lists each one."""

    code = "invalid_records"


def records_base(base_url: str) -> str:
    return f"{base_url}/records/"


def slug_of(record_id: str, base_url: str) -> str:
    prefix = records_base(base_url)
    if not record_id.startswith(prefix) or not SLUG.match(record_id[len(prefix) :]):
        raise InvalidRecord(
            f"record id {record_id} must be {prefix}<slug> (slug: lowercase letters, digits and "
            "hyphens)",
            record=record_id,
            field="id",
            rule="id-under-base-url",
        )
    return record_id[len(prefix) :]


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60].strip("-")
    return slug or "record"


def resolve_iri(value: str, base_url: str) -> str:
    """A relative record IRI ("records/x" or "/records/x") resolved against the base URL."""
    if value.startswith(("http://", "https://")):
        return value
    return f"{base_url}/{value.lstrip('/')}"


def _content(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in NODE_FIELDS}


def version_iri(record_id: str, version: int) -> str:
    return f"{record_id}/versions/{version}"


class Publisher:
    """Turns drafts into signed record versions for one node."""

    def __init__(self, db: Database, identity: NodeIdentity, origin: Origin) -> None:
        self.db = db
        self.identity = identity
        self.origin = origin
        self.base_url = identity.base_url

    def _draft_id(self, draft: dict[str, Any], taken: set[str]) -> str:
        raw = draft.get("id")
        if isinstance(raw, str) and raw:
            record_id = resolve_iri(raw, self.base_url)
            slug_of(record_id, self.base_url)
            return record_id
        title = draft.get("title")
        text = next(iter(title.values()), "") if isinstance(title, dict) and title else ""
        base = slugify(str(text))
        record_id = f"{records_base(self.base_url)}{base}"
        n = 2
        while record_id in taken:
            record_id = f"{records_base(self.base_url)}{base}-{n}"
            n += 1
        return record_id

    async def _unused_id(self, draft: dict[str, Any], taken: set[str]) -> str:
        """A fresh id for a draft without one: ids are never reused, even after withdrawal."""
        record_id = self._draft_id(draft, taken)
        if draft.get("id"):
            return record_id
        stem, n = record_id, 2
        while record_id in taken or await store.get_current(self.db.reader, record_id):
            record_id = f"{stem}-{n}"
            n += 1
        return record_id

    async def prepare(
        self, drafts: list[dict[str, Any]], now: str, *, require_new: bool = False
    ) -> tuple[list[Record], list[Published]]:
        """Check every draft and build its next version; raise one error listing every problem."""
        errors: list[dict[str, Any]] = []
        built: list[Record] = []
        outcomes: list[Published] = []
        taken: set[str] = set()
        batch_practices: set[str] = set()
        pending: list[tuple[int, dict[str, Any], str]] = []
        for position, draft in enumerate(drafts):
            try:
                if not isinstance(draft, dict):
                    raise InvalidRecord("a record must be a JSON object", rule="object")
                context = draft.get("@context")
                if context is not None and context != RECORD_CONTEXT:
                    raise InvalidRecord(
                        f"'@context' must be {RECORD_CONTEXT!r}: other contexts are never fetched",
                        record=draft.get("id"),
                        field="@context",
                        rule="bundled-context",
                    )
                record_id = await self._unused_id(draft, taken)
                if record_id in taken:
                    raise InvalidRecord(
                        f"record {record_id} appears twice in this batch",
                        record=record_id,
                        field="id",
                        rule="unique-id",
                    )
                taken.add(record_id)
                if draft.get("type") in PRACTICE_TYPES:
                    batch_practices.add(record_id)
                pending.append((position, draft, record_id))
            except InvalidRecord as exc:
                errors.append({"position": position, "message": exc.message, **exc.detail})
        held = await store.held_versions(self.db.reader, [rid for _, _, rid in pending])
        for position, draft, record_id in pending:
            try:
                record, outcome = await self._next_version(
                    draft, record_id, held.get(record_id), now, require_new, batch_practices
                )
                built.append(record)
                outcomes.append(outcome)
            except InvalidRecord as exc:
                errors.append({"position": position, "message": exc.message, **exc.detail})
        if errors:
            first = errors[0]["message"]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise BatchInvalid(f"{first}{more}; nothing was published", errors=errors)
        return built, outcomes

    async def _next_version(
        self,
        draft: dict[str, Any],
        record_id: str,
        held: int | None,
        now: str,
        require_new: bool,
        batch_practices: set[str],
    ) -> tuple[Record, Published]:
        current = await store.get_current(self.db.reader, record_id) if held else None
        if current is not None and current.type == "Tombstone":
            raise InvalidRecord(
                f"record {record_id} was withdrawn; withdrawn ids are never reused",
                record=record_id,
                field="id",
                rule="id-never-reused",
            )
        if current is not None and require_new:
            raise InvalidRecord(
                f"record {record_id} already exists; update it with PUT",
                record=record_id,
                field="id",
                rule="id-exists",
            )
        document = _content(draft)
        document["id"] = record_id
        if isinstance(document.get("resultOf"), str):
            document["resultOf"] = resolve_iri(document["resultOf"], self.base_url)
        previous = current.document() if current is not None else None
        version = (current.version + 1) if current is not None else 1
        full: dict[str, Any] = {
            "@context": RECORD_CONTEXT,
            **document,
            "version": version,
            "issued": previous["issued"] if previous else now,
            "modified": now,
            "publisher": self.identity.did,
        }
        if current is not None:
            full["previousVersion"] = version_iri(record_id, current.version)
        record = parse_record(full)
        check_context(record)
        if previous is not None and _content(previous) == _content(record_to_builtins(record)):
            # Re-publishing identical content (a re-run import) makes no new version.
            return parse_record(previous), Published(
                id=record_id, version=version - 1, type=record_type(record), outcome="unchanged"
            )
        if isinstance(record, Result):
            await self._check_result_of(record, batch_practices)
        return record, Published(
            id=record_id,
            version=version,
            type=record_type(record),
            outcome="updated" if current is not None else "created",
        )

    async def _check_result_of(self, record: Result, batch_practices: set[str]) -> None:
        target = record.result_of
        if target in batch_practices:
            return
        held = await store.get_current(self.db.reader, target)
        if held is None or held.type not in PRACTICE_TYPES:
            raise InvalidRecord(
                f"record {record.id}: resultOf {target} is not a practice held by this node",
                record=record.id,
                field="resultOf",
                rule="result-of-known-practice",
            )

    def sign(self, record: Record) -> tuple[dict[str, Any], bytes]:
        document = record_to_builtins(record)
        document.pop("proof", None)
        signed = proofs.sign(
            document,
            self.identity.active.private_key,
            self.identity.verification_method,
            record.modified,
        )
        body = msgspec.json.encode(signed)
        if len(body) > MAX_RECORD_BYTES:
            raise InvalidRecord(
                f"record {record.id} is {len(body)} bytes, over the {MAX_RECORD_BYTES} byte limit "
                "for one record; shorten its texts or split it",
                record=record.id,
                rule="max-record-size",
            )
        return signed, body

    async def publish(
        self,
        drafts: list[dict[str, Any]],
        *,
        now: str | None = None,
        require_new: bool = False,
        progress: Callable[[int], None] | None = None,
        shacl: bool = True,
    ) -> list[Published]:
        """Validate, sign and store a batch of drafts, all or nothing.

        Validation is the Structs (every record) and then the SHACL shapes (`shacl`, in a worker
        thread: about 5 ms a record, so bulk paths that already passed the shapes may skip it).
        """
        stamp = now or store.now_utc()
        records, outcomes = await self.prepare(drafts, stamp, require_new=require_new)
        if shacl:
            changed = [
                (position, record)
                for position, (record, outcome) in enumerate(zip(records, outcomes, strict=True))
                if outcome.outcome != "unchanged"
            ]
            await asyncio.to_thread(check_shapes, changed)
        items: list[store.NewVersion] = []
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome.outcome == "unchanged":
                continue
            signed, body = self.sign(record)
            items.append(new_version_of(signed, body))
            if progress is not None:
                progress(1)
        if items:
            # Only the store: the search index, push notices and every other view follow the
            # change log (storage/log.py) and pick this write up from there.
            async with self.db.transaction() as conn:
                await store.append(conn, items)
        return outcomes

    async def withdraw(
        self, record_id: str, reason: dict[str, str] | None = None, *, now: str | None = None
    ) -> Published:
        """Publish a signed tombstone for a record of this node."""
        record_id = resolve_iri(record_id, self.base_url)
        slug_of(record_id, self.base_url)
        stamp = now or store.now_utc()
        current = await store.get_current(self.db.reader, record_id)
        if current is None:
            raise NotFound(f"there is no record {record_id} on this node", record=record_id)
        if current.type == "Tombstone":
            raise Gone(f"record {record_id} was already withdrawn", record=record_id)
        previous = current.document()
        if previous.get("publisher") != self.identity.did:
            raise Conflict(f"record {record_id} was not published by this node", record=record_id)
        tombstone: dict[str, Any] = {
            "@context": RECORD_CONTEXT,
            "type": "Tombstone",
            "id": record_id,
            "version": current.version + 1,
            "previousVersion": version_iri(record_id, current.version),
            "issued": previous["issued"],
            "modified": stamp,
            "publisher": self.identity.did,
            "formerType": current.type,
        }
        if reason:
            tombstone["reason"] = reason
        record = parse_record(tombstone)
        signed, body = self.sign(record)
        async with self.db.transaction() as conn:
            await store.append(conn, [new_version_of(signed, body)])
        return Published(
            id=record_id, version=current.version + 1, type="Tombstone", outcome="withdrawn"
        )


def check_shapes(records: list[tuple[int, Record]]) -> None:
    """Run the SHACL shapes over (batch position, record) pairs; one error lists every violation."""
    if not records:
        return
    graph = Graph()
    positions: dict[str, int] = {}
    for position, record in records:
        positions[record.id] = position
        graph += vocab.record_graph(record_to_builtins(record))
    violations = vocab.validate_graph(graph)
    if not violations:
        return
    errors = [
        {
            "position": positions.get(v.focus),
            "record": v.focus if v.focus in positions else None,
            "field": v.path,
            "rule": "shacl",
            "message": f"record {v.focus}: {v.message}" if v.focus in positions else v.message,
        }
        for v in violations
    ]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise BatchInvalid(f"{errors[0]['message']}{more}; nothing was published", errors=errors)


def record_type(record: Record) -> str:
    return type(record).__name__


def new_version_of(signed: dict[str, Any], body: bytes) -> store.NewVersion:
    """The storage row for a signed record (federation ingest uses it too)."""
    return store.NewVersion(
        id=signed["id"],
        version=signed["version"],
        type=signed["type"],
        origin=signed["publisher"],
        modified=signed["modified"],
        status=signed.get("status"),
        body=body,
    )


def require_draft_list(payload: Any) -> list[dict[str, Any]]:
    """A body of one draft, a list of drafts, or a JSON-LD document with "@graph"."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and "@graph" in payload:
        graph = payload["@graph"]
        context = payload.get("@context")
        if not isinstance(graph, list):
            raise BadRequest("'@graph' must be a list of records", field="@graph")
        if context is not None and context != RECORD_CONTEXT:
            raise InvalidRecord(
                f"'@context' must be {RECORD_CONTEXT!r}: other contexts are never fetched",
                field="@context",
                rule="bundled-context",
            )
        return graph
    if isinstance(payload, dict):
        return [payload]
    raise BadRequest("the body must be a JSON object (one record) or a list of records")
