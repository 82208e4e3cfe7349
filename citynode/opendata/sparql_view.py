"""The SPARQL store: an Oxigraph (RocksDB) store on disk that follows the change log.

docs/DESIGN.md "The store is the log": the store is a derived view. `SparqlView` is a change-log
follower (storage/log.py): each current record is the named graph of its id (the triples
`citynode/rdf.py` reads from it, the same as the dumps and record negotiation); a new version
replaces its graph, a tombstone removes it. The view also keeps one graph about the dataset
itself, `<{base}/sparql#dataset>`: the cities records come from (`foaf:name`, country, Wikidata
place) so queries can name cities, and the log position the store reflects.

That position is written in the same Oxigraph transaction as the batch it ends (`Store.extend`),
so the view and its position cannot disagree; a batch re-applied after a crash changes nothing.
`VIEW_VERSION` changes when what a record becomes in the store changes: a store of another
version is emptied and rebuilt from the log (`citynode sparql rebuild` does the same by hand).

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
from typing import Final

import pyoxigraph as ox

from citynode import rdf
from citynode.origins import Origin
from citynode.storage import log
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from citynode.storage.records import StoredRecord

#: Bump when the triples a record becomes in the store change (a rebuild follows).
VIEW_VERSION: Final = 1
CN: Final = "https://w3id.org/citynode/vocab#"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
DCTERMS: Final = "http://purl.org/dc/terms/"
VCARD: Final = "http://www.w3.org/2006/vcard/ns#"
XSD_INTEGER: Final = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
RDF_TYPE: Final = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
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
        # replaces each record's graph again.
        records: list[str] = []
        replaced: list[ox.NamedNode] = []
        for entry in entries:
            replaced.append(ox.NamedNode(entry.id))
            if entry.type != "Tombstone":
                # Without the proof graph: a record is exactly the graph of its id here, so a
                # new version or a tombstone replaces or removes all of it (the proof is a
                # JSON-level signature, checked on the signed JSON: docs/DESIGN.md).
                records.append(rdf.record_nquads(entry.document(), proof=False))
        dataset = rdf.write(self._dataset_quads(upto, origins), ox.RdfFormat.N_QUADS).decode()
        backlog = len(entries) >= self.backlog
        text = "".join(records)
        with self._lock:
            for graph in replaced:
                if self.store.contains_named_graph(graph):
                    self.store.remove_graph(graph)
            self.store.remove_graph(self.dataset)
            if backlog:
                self.store.bulk_load(text, format=ox.RdfFormat.N_QUADS)
                self.store.load(dataset, format=ox.RdfFormat.N_QUADS)
            else:
                self.store.load(text + dataset, format=ox.RdfFormat.N_QUADS)
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

    def _dataset_quads(self, upto: int, origins: dict[str, Origin]) -> list[ox.Quad]:
        g = dataset = self.dataset
        quads = [
            ox.Quad(dataset, POSITION, ox.Literal(str(upto), datatype=XSD_INTEGER), g),
            ox.Quad(dataset, VERSION, ox.Literal(str(VIEW_VERSION), datatype=XSD_INTEGER), g),
        ]
        for origin in origins.values():
            city = ox.NamedNode(origin.did)
            quads += [
                ox.Quad(city, RDF_TYPE, ox.NamedNode(FOAF + "Organization"), g),
                ox.Quad(city, ox.NamedNode(FOAF + "name"), ox.Literal(origin.city), g),
                ox.Quad(city, ox.NamedNode(VCARD + "country-name"), ox.Literal(origin.country), g),
                ox.Quad(city, ox.NamedNode(FOAF + "homepage"), ox.NamedNode(origin.base_url), g),
            ]
            if origin.wikidata:
                place = ox.NamedNode(origin.wikidata)
                quads.append(ox.Quad(city, ox.NamedNode(DCTERMS + "spatial"), place, g))
        return quads

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

        await asyncio.to_thread(clear)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                self.store.flush()
                # RocksDB's lock on the folder goes with the last reference to the store (a
                # node restarted in the same process opens it again).
                del self.store

        await asyncio.to_thread(close)
