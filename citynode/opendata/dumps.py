"""Whole-store dumps: every current record in one file, written a chunk at a time.

One encoder per format, shared by `citynode export` and the `/dumps/...` routes
(web/dumps.py), so the two always write the same bytes:
- `records.jsonld`: a JSON array of the records' exact signed bytes (each keeps its context and
  proof, so every one still verifies);
- `records.ttl`, `records.nq`: the records' triples (`citynode/rdf.py`, the same triples as
  record negotiation and SPARQL); in N-Quads each record is the named graph of its id, and its
  proof a named graph of its own, where JSON-LD puts it (`rdf.proof_nquads`);
- `records.csv`, `results.csv`: the practices and results import templates
  (`citynode/exports.py`, `docs/csv-template.md`), with a text column per language the records
  use (asked of the store in the dump's own read transaction before the first row).

A dump covers the node's own records, or with `origin=all` the whole replica: every record carries
its origin (`publisher`, the origin node's DID, in JSON-LD and RDF; an `origin` column in CSV).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from typing import Final, Literal

import aiosqlite
import msgspec

from citynode import exports, rdf
from citynode.storage import records as store
from citynode.storage.records import DumpState, StoredRecord

Origin = Literal["self", "all"]


class DumpFile(msgspec.Struct, frozen=True, kw_only=True):
    """One dump a node serves: its file name, media type and what it is."""

    name: str
    format: str
    media_type: str
    title: str


#: Every dump, by file name (the catalog's distributions list these).
FILES: Final = {
    f.name: f
    for f in (
        DumpFile(
            name="records.jsonld",
            format="jsonld",
            media_type="application/ld+json",
            title="Signed records (JSON-LD)",
        ),
        DumpFile(name="records.ttl", format="turtle", media_type="text/turtle", title="Turtle"),
        DumpFile(
            name="records.nq",
            format="nquads",
            media_type="application/n-quads",
            title="N-Quads (one named graph per record)",
        ),
        DumpFile(
            name="records.csv",
            format="practices",
            media_type="text/csv",
            title="Practices, as the CSV import template",
        ),
        DumpFile(
            name="results.csv",
            format="results",
            media_type="text/csv",
            title="Results, as the CSV import template (one row per measurement)",
        ),
    )
}
#: The byte order mark Excel needs to read a CSV as UTF-8 (the shipped templates carry it too).
BOM: Final = "\ufeff".encode()


class DumpSlots:
    """How many dumps stream at once: each holds a read transaction and a thread for its
    SQLite connection, so a flood of downloads is refused (429) instead of piling up."""

    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self.running = 0


class Encoder:
    """Turns chunks of stored records into the bytes of one dump file (optionally gzipped)."""

    def __init__(
        self,
        file: DumpFile,
        origin: Origin = "self",
        gzip: bool = False,
        languages: tuple[str, ...] = (),
    ) -> None:
        self.file = file
        self.origin = origin
        self._first = True
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip else None
        # A CSV template's columns: its text columns once per language the records use.
        self.columns: list[str] = []
        if file.format in exports.TEMPLATES:
            self.columns = exports.header(file.format, languages, with_origin=origin == "all")

    @classmethod
    async def opened(
        cls,
        conn: aiosqlite.Connection,
        file: DumpFile,
        origin: Origin,
        origin_did: str | None,
        types: tuple[str, ...] = (),
        gzip: bool = False,
    ) -> Encoder:
        """The encoder of a dump read from `conn` (the dump's read transaction): a CSV's
        language columns are those of the records the same transaction streams."""
        languages: tuple[str, ...] = ()
        if file.format in exports.TEMPLATES:
            terms, nested = exports.LANGUAGE_TERMS[file.format]
            kinds = types or tuple(exports.TEMPLATE_TYPES[file.format])
            languages = tuple(await store.text_languages(conn, origin_did, kinds, terms, nested))
        return cls(file, origin, gzip, languages)

    def start(self) -> bytes:
        if self.file.format == "jsonld":
            head = b"[\n"
        elif self.columns:
            head = BOM + exports.encode_rows([self.columns]).encode("utf-8")
        else:
            head = b""
        return self._out(head)

    def chunk(self, records: list[StoredRecord]) -> bytes:
        """The bytes of these records (CPU work: run it in a thread)."""
        first, self._first = self._first, False
        fmt = self.file.format
        if fmt == "jsonld":
            body = b",\n".join(record.body for record in records)
            return self._out(body if first else b",\n" + body)
        documents = [record.document() for record in records]
        if fmt in exports.TEMPLATES:
            table = exports.rows(documents, fmt, self.columns, with_origin=self.origin == "all")
            return self._out(exports.encode_rows(table).encode("utf-8"))
        return self._out(rdf.serialize_chunk(documents, fmt, first=first))

    def end(self) -> bytes:
        tail = b"\n]\n" if self.file.format == "jsonld" else b""
        out = self._out(tail)
        if self._gzip is not None:
            out += self._gzip.flush()
        return out

    def _out(self, data: bytes) -> bytes:
        return self._gzip.compress(data) if self._gzip is not None else data


async def body(
    encoder: Encoder, batches: AsyncIterator[list[StoredRecord]]
) -> AsyncIterator[bytes]:
    """The dump's bytes, piece by piece: while a thread encodes one batch of records, the next
    is read from SQLite (one encoding at a time: the encoder keeps state, gzip's among it)."""
    yield encoder.start()
    encoding: asyncio.Future[bytes] | None = None
    async for batch in batches:
        if encoding is not None:
            yield await encoding
        encoding = asyncio.ensure_future(asyncio.to_thread(encoder.chunk, batch))
    if encoding is not None:
        yield await encoding
    yield encoder.end()


def etag(
    state: DumpState, file: DumpFile, origin: Origin, gzip: bool, types: tuple[str, ...] = ()
) -> str:
    """A strong validator: the dump changes exactly when a record of its origins does.

    A gzipped body is a different representation, so it has its own tag (RFC 9110 8.8.3).
    """
    kinds = "+".join(types) or "all"
    suffix = "-gzip" if gzip else ""
    return f'"{file.name}-{origin}-{kinds}-{state.last_seq}-{state.records}{suffix}"'
