"""Publishing: a draft becomes a validated, signed and stored record version.

A draft is a record without the metadata the node owns (`version`, `previousVersion`, `issued`,
`modified`, `publisher`, `proof`); its `id` and a Result's `resultOf` may be relative
("records/wifi-parques") and are resolved against the node's base URL. A batch is all-or-nothing:
every draft is checked before anything is written, and one transaction stores them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import aiosqlite
import msgspec

from citynode.errors import BadRequest, Conflict, Gone, NotFound, PreconditionFailed
from citynode.identity import Keyring, NodeIdentity
from citynode.origins import Origin
from citynode.record_ids import records_base, resolve_iri, slug_of, slugify, version_iri
from citynode.references import Held, check_references
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.validation import check_shapes, raise_batch_errors
from protocol import proofs
from protocol.did import parse_timestamp
from protocol.errors import InvalidRecord
from protocol.records import (
    DEFAULT_LICENSE,
    MAX_RECORD_BYTES,
    PRACTICE_TYPES,
    RECORD_CONTEXT,
    SHAPES_VERSION,
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


class Published(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: int
    type: str
    outcome: str  # "created" | "updated" | "unchanged" | "withdrawn" | "resigned"


def _content(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in NODE_FIELDS}


#: What `If-Match` asked for, per record id: one of these versions, or None for "*" (any).
Expectations = Mapping[str, frozenset[int] | None]


@dataclass
class _Entry:
    """One draft of a batch and the version built for it against `held`."""

    position: int
    draft: dict[str, Any]
    record_id: str
    held: int | None
    record: Record
    outcome: Published


@dataclass
class _Plan:
    entries: list[_Entry]
    stamp: str
    stamp_given: bool
    require_new: bool
    batch_practices: set[str] = field(default_factory=set)


class Publisher:
    """Turns drafts into signed record versions for one node.

    Why versions are settled inside the write transaction: two writers (two API requests, or
    a CLI `publish` beside `serve`) that both read "version 1 is held" would both build a
    version 2, and the store keeps one of them while both hear "updated, version 2" (issue 7,
    "A lost update"). So a batch is planned and checked (structure, SHACL) against the store
    as it is, outside the write lock, and then, inside the write transaction (`BEGIN
    IMMEDIATE`: one writer across processes), the held versions are read again; a draft whose
    record moved meanwhile is built again on the new version, `If-Match` is judged there, and
    the signing key is the one the keys table holds at that moment. Every writer then gets
    the truth about its own version, and the views that follow the change log (the search
    index, push notices) see exactly what was stored.
    """

    def __init__(self, db: Database, keyring: Keyring, origin: Origin) -> None:
        self.db = db
        self.keyring = keyring
        self.origin = origin
        self.base_url = keyring.base_url

    @property
    def identity(self) -> NodeIdentity:
        return self.keyring.identity

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

    async def _unused_id(
        self, conn: aiosqlite.Connection, draft: dict[str, Any], taken: set[str]
    ) -> str:
        """A fresh id for a draft without one: ids are never reused, even after withdrawal."""
        record_id = self._draft_id(draft, taken)
        if draft.get("id"):
            return record_id
        stem, n = record_id, 2
        while record_id in taken or await store.get_current(conn, record_id):
            record_id = f"{stem}-{n}"
            n += 1
        return record_id

    async def _plan(
        self,
        conn: aiosqlite.Connection,
        drafts: list[dict[str, Any]],
        plan: _Plan,
    ) -> None:
        """Check every draft and build its next version; raise one error listing every problem."""
        errors: list[dict[str, Any]] = []
        taken: set[str] = set()
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
                record_id = await self._unused_id(conn, draft, taken)
                if record_id in taken:
                    raise InvalidRecord(
                        f"record {record_id} appears twice in this batch",
                        record=record_id,
                        field="id",
                        rule="unique-id",
                    )
                taken.add(record_id)
                if draft.get("type") in PRACTICE_TYPES:
                    plan.batch_practices.add(record_id)
                pending.append((position, draft, record_id))
            except InvalidRecord as exc:
                errors.append({"position": position, "message": exc.message, **exc.detail})
        held = await store.held_versions(conn, [rid for _, _, rid in pending])
        for position, draft, record_id in pending:
            try:
                record, outcome = await self._next_version(
                    conn, draft, record_id, held.get(record_id), plan
                )
                plan.entries.append(
                    _Entry(position, draft, record_id, held.get(record_id), record, outcome)
                )
            except InvalidRecord as exc:
                errors.append({"position": position, "message": exc.message, **exc.detail})
        errors.extend(await _link_errors(conn, plan.entries))
        raise_batch_errors(errors)

    async def _settle(
        self, conn: aiosqlite.Connection, plan: _Plan, expected: Expectations | None
    ) -> None:
        """Inside the write transaction: build again what moved since the plan was made."""
        await self.keyring.refresh(conn)
        restamp = not plan.stamp_given and _signs_later(self.identity, plan.stamp)
        if restamp:
            # A key rotated after the plan was stamped: its proofs may not predate the key.
            plan.stamp = store.now_utc()
        held = await store.held_versions(conn, [entry.record_id for entry in plan.entries])
        if expected:
            _check_expectations(expected, held)
        taken = {entry.record_id for entry in plan.entries}
        errors: list[dict[str, Any]] = []
        for entry in plan.entries:
            now_held = held.get(entry.record_id)
            if now_held == entry.held and not restamp:
                continue
            try:
                if now_held is not None and entry.held is None and not entry.draft.get("id"):
                    # Another writer took the id made up for this draft: make up another.
                    taken.discard(entry.record_id)
                    entry.record_id = await self._unused_id(conn, entry.draft, taken)
                    taken.add(entry.record_id)
                    now_held = None
                entry.held = now_held
                entry.record, entry.outcome = await self._next_version(
                    conn, entry.draft, entry.record_id, now_held, plan
                )
            except InvalidRecord as exc:
                errors.append({"position": entry.position, "message": exc.message, **exc.detail})
        # The links again, under the write lock: a record another writer stored or withdrew
        # since the plan may break one (or close a partOf cycle with this batch).
        errors.extend(await _link_errors(conn, plan.entries))
        raise_batch_errors(errors)

    async def _next_version(
        self,
        conn: aiosqlite.Connection,
        draft: dict[str, Any],
        record_id: str,
        held: int | None,
        plan: _Plan,
    ) -> tuple[Record, Published]:
        current = await store.get_current(conn, record_id) if held else None
        if current is not None and current.type == "Tombstone":
            raise InvalidRecord(
                f"record {record_id} was withdrawn; withdrawn ids are never reused",
                record=record_id,
                field="id",
                rule="id-never-reused",
            )
        if current is not None and plan.require_new:
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
            "issued": previous["issued"] if previous else plan.stamp,
            "modified": plan.stamp,
            "publisher": self.identity.did,
        }
        if current is not None:
            full["previousVersion"] = version_iri(record_id, current.version)
        state_defaults(full)
        record = parse_record(full)
        check_context(record)
        if previous is not None and _content(previous) == _content(record_to_builtins(record)):
            # Re-publishing identical content (a re-run import) makes no new version.
            return parse_record(previous), Published(
                id=record_id, version=version - 1, type=record_type(record), outcome="unchanged"
            )
        if isinstance(record, Result):
            await self._check_result_of(conn, record, plan.batch_practices)
        return record, Published(
            id=record_id,
            version=version,
            type=record_type(record),
            outcome="updated" if current is not None else "created",
        )

    async def _check_result_of(
        self, conn: aiosqlite.Connection, record: Result, batch_practices: set[str]
    ) -> None:
        target = record.result_of
        if target in batch_practices:
            return
        held = await store.get_current(conn, target)
        if held is None or held.type not in PRACTICE_TYPES:
            raise InvalidRecord(
                f"record {record.id}: resultOf {target} is not a practice held by this node",
                record=record.id,
                field="resultOf",
                rule="result-of-known-practice",
            )

    def sign(self, record: Record) -> tuple[dict[str, Any], bytes]:
        """The signed JSON of a record, with the key the node signs with now."""
        identity = self.identity
        document = record_to_builtins(record)
        document.pop("proof", None)
        signed = proofs.sign(
            document,
            identity.active.private_key,
            identity.verification_method,
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
        expected: Expectations | None = None,
        progress: Callable[[int], None] | None = None,
        shacl: bool = True,
    ) -> list[Published]:
        """Validate, sign and store a batch of drafts, all or nothing.

        Validation is the Structs (every record) and then the SHACL shapes (`shacl`, in a worker
        thread: about 5 ms a record, so bulk paths that already passed the shapes may skip it).
        `expected` (from `If-Match`): the version each record must be at, else
        `PreconditionFailed` and nothing is written.
        """
        plan = _Plan(
            entries=[],
            stamp=now or store.now_utc(),
            stamp_given=now is not None,
            require_new=require_new,
        )
        await self._plan(self.db.reader, drafts, plan)
        if shacl:
            changed = [
                (entry.position, entry.record)
                for entry in plan.entries
                if entry.outcome.outcome != "unchanged"
            ]
            await asyncio.to_thread(check_shapes, changed)
        async with self.db.transaction() as conn:
            await self._settle(conn, plan, expected)
            items: list[store.NewVersion] = []
            for entry in plan.entries:
                if entry.outcome.outcome == "unchanged":
                    continue
                signed, body = self.sign(entry.record)
                items.append(store.new_version_of(signed, body))
                if progress is not None:
                    progress(1)
            if items:
                # Only the store: the search index, push notices and every other view follow
                # the change log (storage/log.py) and pick this write up from there.
                stored = await store.append(conn, items)
                if len(stored) != len(items):  # cannot happen while we hold the write lock
                    raise RuntimeError("a settled version was not stored; nothing was written")
        return [entry.outcome for entry in plan.entries]

    async def withdraw(
        self,
        record_id: str,
        reason: dict[str, str] | None = None,
        *,
        now: str | None = None,
        expected: Expectations | None = None,
    ) -> Published:
        """Publish a signed tombstone for a record of this node (read and written in one
        write transaction, so a concurrent update is never silently dropped)."""
        record_id = resolve_iri(record_id, self.base_url)
        slug_of(record_id, self.base_url)
        async with self.db.transaction() as conn:
            await self.keyring.refresh(conn)
            stamp = now or store.now_utc()
            current = await store.get_current(conn, record_id)
            if expected:
                held = {record_id: current.version} if current is not None else {}
                _check_expectations(expected, held)
            if current is None:
                raise NotFound(f"there is no record {record_id} on this node", record=record_id)
            if current.type == "Tombstone":
                raise Gone(f"record {record_id} was already withdrawn", record=record_id)
            previous = current.document()
            if previous.get("publisher") != self.identity.did:
                raise Conflict(
                    f"record {record_id} was not published by this node", record=record_id
                )
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
            signed, body = self.sign(parse_record(tombstone))
            await store.append(conn, [store.new_version_of(signed, body)])
        return Published(
            id=record_id, version=current.version + 1, type="Tombstone", outcome="withdrawn"
        )


def state_defaults(document: dict[str, Any]) -> None:
    """Write out what a record means by default, so every RDF tool reads it too (issue 7,
    "RDF says everything the record means"): the licence, the shapes it conforms to, and each
    measurement's role. A draft that states them keeps its own values."""
    if document.get("type") == "Tombstone":
        return
    document.setdefault("license", DEFAULT_LICENSE)
    document.setdefault("conformsTo", SHAPES_VERSION)
    measurements = document.get("measurements")
    if isinstance(measurements, list):
        document["measurements"] = [
            {**item, "role": item.get("role") or "observed"} if isinstance(item, dict) else item
            for item in measurements
        ]


async def _link_errors(conn: aiosqlite.Connection, entries: list[_Entry]) -> list[dict[str, Any]]:
    """resultOf aside, the links the batch's records declare (partOf, hasPart, adaptedFrom),
    checked against the rest of the batch and the records held (citynode/references.py)."""
    held_links = Held(conn, [entry.record for entry in entries])
    errors: list[dict[str, Any]] = []
    for entry in entries:
        try:
            await check_references(entry.record, held_links)
        except InvalidRecord as exc:
            errors.append({"position": entry.position, "message": exc.message, **exc.detail})
    return errors


def _signs_later(identity: NodeIdentity, stamp: str) -> bool:
    """Whether the active key started after `stamp` (a proof dated then would not verify)."""
    created = next(k.created for k in identity.keys if k.fragment == identity.active.key_id)
    return created > parse_timestamp(stamp)


def _check_expectations(expected: Expectations, held: Mapping[str, int]) -> None:
    for record_id, versions in expected.items():
        version = held.get(record_id)
        if version is None or (versions is not None and version not in versions):
            wanted = "any version" if versions is None else ", ".join(map(str, sorted(versions)))
            now = f"version {version}" if version is not None else "not held"
            raise PreconditionFailed(
                f"record {record_id} is {now}, not {wanted} as If-Match asked: someone changed "
                "it meanwhile; read it again (its ETag) and retry",
                record=record_id,
                current_version=version,
                expected=None if versions is None else sorted(versions),
            )


def record_type(record: Record) -> str:
    return type(record).__name__


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
