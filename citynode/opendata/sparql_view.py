"""The SPARQL store: an Oxigraph (RocksDB) store on disk that follows the change log.

docs/DESIGN.md "The store is the log": the store is a derived view. `SparqlView` is a change-log
follower (storage/log.py). Every current record's triples (the ones `citynode/rdf.py` reads from
it, the same as the dumps and record negotiation) are in the store's default graph, with the
cities records come from (`foaf:name`, country, homepage, Wikidata place) so queries can name
cities: the default graph is what a query reads, stored as it is, not a union computed per
query. (Layout 1 kept each record in a named graph and let queries read their union; the
engine then matched every pattern across 100k graphs, and the typical queries took 1.3-1.4x as
long on the same records: bench/RESULTS.md.) The named graph `<{base}/sparql#dataset>` says
what the view is: the log position it reflects, its layout version, and the city triples it
stated.

A new version replaces a record's triples, a tombstone removes them. A record's triples are
about its id, and about its nested values, which are blank nodes under it (labels unique to one
reading of one record): so they are found again from the id. A record whose triples also have
other subjects (no record of today's vocabulary; a newer record read by a JSON-LD processor
could) keeps those in the named graph of its id as well, so they are removed with it; a triple
is removed from the default graph only when no named graph still states it.

The position is written in the same Oxigraph transaction as the batch it ends (`Store.load`),
so the view and its position cannot disagree; a batch re-applied after a crash replaces its
records again and changes nothing. `VIEW_VERSION` changes when what a record becomes in the
store changes: a store of another version is emptied and rebuilt from the log (`citynode sparql
rebuild` does the same by hand).

Queries never read this store: they read checkpoints of it (`checkpoint()`), made on demand when
the view has moved, in worker processes (`sparql_queries.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Final

import pyoxigraph as ox

from citynode import rdf
from citynode.origins import Origin
from citynode.storage import log
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from citynode.storage.records import StoredRecord

#: Bump when the triples a record becomes in the store change (a rebuild follows).
#: 2: records in the default graph (1: each record the named graph of its id).
VIEW_VERSION: Final = 2
CN: Final = "https://w3id.org/citynode/vocab#"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
DCTERMS: Final = "http://purl.org/dc/terms/"
VCARD: Final = "http://www.w3.org/2006/vcard/ns#"
XSD_INTEGER: Final = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
RDF_TYPE: Final = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DEFAULT: Final = ox.DefaultGraph()
POSITION: Final = ox.NamedNode(CN + "logPosition")
VERSION: Final = ox.NamedNode(CN + "viewVersion")
#: Quads written before the store's memtables are flushed to disk.
FLUSH_QUADS: Final = 200_000
#: A batch this large is a backlog (the follower's full batch).
BACKLOG: Final = log.BATCH
#: Quads written before the store is compacted, once the follower has caught up.
OPTIMIZE_QUADS: Final = 500_000
#: A checkpoint younger than this is reused even if the view moved on since (bounds the cost
#: of a burst of queries during a burst of writes).
CHECKPOINT_MIN_AGE: Final = 0.2


def _return_freed_memory() -> None:
    """Give memory freed by the flush back to the system (glibc keeps it otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _in(triple: ox.Triple, graph: ox.NamedNode | ox.DefaultGraph) -> ox.Quad:
    return ox.Quad(triple.subject, triple.predicate, triple.object, graph)


def _record_text(document: dict[str, Any]) -> str:
    """A record as N-Quads: its triples in the default graph and, when some are about another
    subject than the record and its blank nodes, all of them in the named graph of its id too
    (so that `_remove_record` finds them). Without the proof graph: the proof is a JSON-level
    signature, checked on the signed JSON (docs/DESIGN.md)."""
    statements = rdf.record_statements(document)
    own = f"<{document['id']}> "
    text = "".join(f"{s} .\n" for s in statements)
    if all(s.startswith((own, "_:")) for s in statements):
        return text
    return text + "".join(f"{s} {own}.\n" for s in statements)


class SparqlView:
    """The Oxigraph store of one node, kept in step with its change log."""

    name = "sparql"

    def __init__(self, db: Database, root: Path, base_url: str, store: ox.Store) -> None:
        self.db = db
        self.root = root
        self.base_url = base_url
        self.store = store
        self.dataset = ox.NamedNode(f"{base_url}/sparql#dataset")
        self._lock = threading.Lock()  # the store's writes and checkpoints, one at a time
        self._position = 0
        self._checkpoint = ""
        self._checkpoint_position = -1
        self._checkpoint_time = 0.0
        self._numbers = itertools.count()
        self._unflushed = 0
        self._unoptimized = 0
        self.backlog = BACKLOG
        #: The city triples the store states, and the origins they were made from (read from
        #: the store on the first batch; a batch whose origins did not change writes none).
        self._cities: set[ox.Triple] | None = None
        self._origins: dict[str, Origin] = {}
        #: The last batch was written whole by this process (see `_apply`).
        self._clean = False

    @classmethod
    async def open(cls, db: Database, root: Path, base_url: str) -> SparqlView:
        def opened() -> SparqlView:
            (root / "checkpoints").mkdir(parents=True, exist_ok=True)
            # Checkpoints of an earlier run are not in use by anyone now.
            for old in (root / "checkpoints").iterdir():
                shutil.rmtree(old, ignore_errors=True)
            view = cls(db, root, base_url, ox.Store(str(root / "store")))
            if view._stored_int(VERSION) not in (None, VIEW_VERSION):
                view.store.clear()
            view._position = view._stored_int(POSITION) or 0
            return view

        return await asyncio.to_thread(opened)

    def _stored_int(self, predicate: ox.NamedNode) -> int | None:
        values = [
            int(q.object.value)
            for q in self.store.quads_for_pattern(None, predicate, None, self.dataset)
            if isinstance(q.object, ox.Literal)
        ]
        return max(values) if values else None

    # --- the Follower protocol ---------------------------------------------------------------

    async def position(self) -> int:
        return self._position

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        origins = await all_origins(self.db.reader)
        await asyncio.to_thread(self._apply, entries, upto, origins)
        if self._unoptimized >= OPTIMIZE_QUADS and upto >= await log.head(self.db.reader):
            # Caught up after many writes: compact, or every lookup reads many small files
            # (measured: a store of 30k records answered 4x slower before this).
            await self.optimize()

    def _apply(self, entries: list[StoredRecord], upto: int, origins: dict[str, Origin]) -> None:
        # The batch is written as N-Quads text and loaded by Oxigraph (no Python object per
        # triple). A live batch is one transaction, position included (`Store.load`). A full
        # batch is a backlog (a rebuild, a big sync): its records go through `bulk_load`
        # (sorted files written directly: faster, and laid out the way queries read best), then
        # the position in its own transaction; a crash in between re-applies the batch, which
        # replaces each record's triples again.
        records: list[str] = []
        for entry in entries:
            if entry.type != "Tombstone":
                records.append(_record_text(entry.document()))
        backlog = len(entries) >= self.backlog
        text = "".join(records)
        with self._lock:
            # A first version past the view's position (most of a rebuild or a big sync) is
            # not in the store yet, unless this batch was partly written before: by a run that
            # stopped (the first batch after opening) or by an attempt that failed (the
            # Following retries it). Only those skip the lookups (~100k in a rebuild).
            clean, self._clean = self._clean, False
            for entry in entries:
                if not (clean and entry.version == 1 and entry.seq > self._position):
                    self._remove_record(ox.NamedNode(entry.id))
            dataset, stale, cities = self._dataset_text(upto, origins)
            if backlog:
                self.store.bulk_load(text, format=ox.RdfFormat.N_QUADS)
                self.store.load(dataset, format=ox.RdfFormat.N_QUADS)
            else:
                self.store.load(text + dataset, format=ox.RdfFormat.N_QUADS)
            for quad in stale:
                if quad.graph_name == self.dataset or not self._stated_elsewhere(quad):
                    self.store.remove(quad)
            self._cities, self._origins = cities, dict(origins)
            self._clean = True
            self._position = upto
            written = text.count("\n")
            self._unflushed += written
            self._unoptimized += written
            if self._unflushed >= FLUSH_QUADS:
                # RocksDB keeps writes in memtables until they fill: without this a rebuild of
                # 100k records grew the node by ~2 GB (bench/opendata_bench.py).
                self.store.flush()
                self._unflushed = 0
                _return_freed_memory()

    def _remove_record(self, record: ox.NamedNode) -> None:
        """Remove what a record stated: the triples of its id and of the blank nodes under it,
        and those about other subjects it keeps in the named graph of its id."""
        subjects: list[ox.NamedNode | ox.BlankNode] = [record]
        seen: set[ox.BlankNode] = set()
        stated: list[ox.Quad] = []
        while subjects:
            for quad in self.store.quads_for_pattern(subjects.pop(), None, None, DEFAULT):
                stated.append(quad)
                if isinstance(quad.object, ox.BlankNode) and quad.object not in seen:
                    seen.add(quad.object)
                    subjects.append(quad.object)
        if self.store.contains_named_graph(record):
            others = list(self.store.quads_for_pattern(None, None, None, record))
            self.store.remove_graph(record)
            stated += [_in(q.triple, DEFAULT) for q in others]
        for quad in stated:
            if not self._stated_elsewhere(quad):
                self.store.remove(quad)

    def _stated_elsewhere(self, quad: ox.Quad) -> bool:
        """Whether a named graph (another record's, the dataset's) still states the triple."""
        return any(
            not isinstance(other.graph_name, ox.DefaultGraph)
            for other in self.store.quads_for_pattern(quad.subject, quad.predicate, quad.object)
        )

    def _dataset_text(
        self, upto: int, origins: dict[str, Origin]
    ) -> tuple[str, list[ox.Quad], set[ox.Triple]]:
        """What the dataset graph gains at `upto` (the position, and city triples not stated
        yet, which go to the default graph too) as N-Quads; what to remove once that is
        written (the earlier positions, the city triples no origin states any more); and the
        city triples stated then. (Removed after the load, not before: a crash in between
        leaves the newest position readable, `_stored_int` takes the highest.)"""
        g = self.dataset
        position = ox.Literal(str(upto), datatype=XSD_INTEGER)
        quads = [ox.Quad(g, POSITION, position, g)]
        stale = [
            q for q in self.store.quads_for_pattern(g, POSITION, None, g) if q.object != position
        ]
        if self._cities is None:  # what an earlier run stated
            self._cities = {
                q.triple
                for q in self.store.quads_for_pattern(None, None, None, g)
                if q.predicate not in (POSITION, VERSION)
            }
            if self._stored_int(VERSION) is None:
                version = ox.Literal(str(VIEW_VERSION), datatype=XSD_INTEGER)
                quads.append(ox.Quad(g, VERSION, version, g))
        cities = self._cities
        if origins != self._origins:
            cities = set(self._city_triples(origins))
            for triple in self._cities - cities:
                stale += [_in(triple, g), _in(triple, DEFAULT)]
            for triple in cities - self._cities:
                quads += [_in(triple, g), _in(triple, DEFAULT)]
        return rdf.write(quads, ox.RdfFormat.N_QUADS).decode(), stale, cities

    @staticmethod
    def _city_triples(origins: dict[str, Origin]) -> list[ox.Triple]:
        triples = []
        for origin in origins.values():
            city = ox.NamedNode(origin.did)
            triples += [
                ox.Triple(city, RDF_TYPE, ox.NamedNode(FOAF + "Organization")),
                ox.Triple(city, ox.NamedNode(FOAF + "name"), ox.Literal(origin.city)),
                ox.Triple(city, ox.NamedNode(VCARD + "country-name"), ox.Literal(origin.country)),
                ox.Triple(city, ox.NamedNode(FOAF + "homepage"), ox.NamedNode(origin.base_url)),
            ]
            if origin.wikidata:
                place = ox.NamedNode(origin.wikidata)
                triples.append(ox.Triple(city, ox.NamedNode(DCTERMS + "spatial"), place))
        return triples

    # --- checkpoints for the query processes --------------------------------------------------

    async def checkpoint(self) -> str:
        """The newest checkpoint (made now if the view moved since the last one)."""
        fresh = self._checkpoint_position == self._position
        young = time.monotonic() - self._checkpoint_time < CHECKPOINT_MIN_AGE
        if self._checkpoint and (fresh or young):
            return self._checkpoint
        return await asyncio.to_thread(self._make_checkpoint)

    def _make_checkpoint(self) -> str:
        with self._lock:
            if self._checkpoint and self._checkpoint_position == self._position:
                return self._checkpoint
            position = self._position
            path = self.root / "checkpoints" / f"{position}-{next(self._numbers)}"
            self.store.backup(str(path))
        self._checkpoint, self._checkpoint_position = str(path), position
        self._checkpoint_time = time.monotonic()
        return self._checkpoint

    async def prune(self, in_use: set[str]) -> None:
        """Remove checkpoints no query process has open and that are not the newest."""
        keep = {*in_use, self._checkpoint}

        def remove() -> None:
            for path in (self.root / "checkpoints").iterdir():
                if str(path) not in keep:
                    shutil.rmtree(path, ignore_errors=True)

        await asyncio.to_thread(remove)

    async def optimize(self) -> None:
        """Compact the store (after a rebuild: queries read fewer, larger files)."""

        def optimize() -> None:
            with self._lock:
                self.store.optimize()
                self._unoptimized = 0
            _return_freed_memory()

        await asyncio.to_thread(optimize)

    async def clear(self) -> None:
        """Empty the store: the follower then rebuilds it from the start of the log."""

        def clear() -> None:
            with self._lock:
                self.store.clear()
                self._position = 0
                self._cities, self._origins = None, {}

        await asyncio.to_thread(clear)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                self.store.flush()
                # RocksDB's lock on the folder goes with the last reference to the store (a
                # node restarted in the same process opens it again).
                del self.store

        await asyncio.to_thread(close)
