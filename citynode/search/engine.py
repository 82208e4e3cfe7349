"""The index on disk: a tantivy index in the node's home, versioned with its analyser.

The index is a derived view of the store (docs/DESIGN.md "The store is the log"): it can be
deleted at any time and rebuilt from the change log (`citynode reindex`, or by itself). Beside
tantivy's own files it keeps `citynode-index.json`: the analyser and schema versions it was built
with and the change-log position it has applied. Opened with other versions, it is emptied and
rebuilt from position 0, never silently mixed (a stemmer change would otherwise leave old records
under old terms).

One process writes (tantivy's writer lock, released when the process dies, even on kill -9);
any number read. The position is written after tantivy's commit (never before), so after a
crash the follower applies the last batch again, which is idempotent: every record is deleted
by id and added again in the same commit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import tantivy

from citynode.search import analysis, schema

log = logging.getLogger("citynode.search")

META: Final = "citynode-index.json"
#: Writer memory: tantivy splits it across its indexing threads (at least 15 MB each). A thread
#: flushes a segment when its share fills: 100 MB each holds a whole catch-up batch
#: (service.INDEX_BATCH, ~35 MB a thread), so a batch makes one segment per thread and the
#: merges have less to do (bench/RESULTS.md "Search engine"). It is a ceiling, not an
#: allocation: an idle writer holds little.
WRITER_HEAP: Final = 200_000_000
WRITER_THREADS: Final = 2


class IndexBusy(Exception):
    """Another process holds the index writer (a running `citynode serve`)."""


def _versions() -> dict[str, object]:
    return {"analyser": analysis.VERSION, "schema": schema.SCHEMA_VERSION}


class Engine:
    """One open index: a reader always, a writer when `writable`."""

    def __init__(self, path: Path, index: tantivy.Index, writer: tantivy.IndexWriter | None):
        self.path = path
        self.index = index
        self._writer = writer
        self._lock = threading.Lock()
        self._position = int(_read_meta(path).get("position", 0))
        self.rebuilt = False
        self.searcher = index.searcher()

    @classmethod
    def open(cls, path: Path, *, writable: bool) -> Engine:
        """Open (or create) the index at `path`.

        Writable: an index of other versions is emptied first (`rebuilt` tells). Raises
        `IndexBusy` when another process writes it. Read-only: an index that does not exist or is
        of other versions opens empty (searches find nothing until the writer has rebuilt it).
        """
        meta = _read_meta(path)
        current = all(meta.get(k) == v for k, v in _versions().items())
        if not writable:
            if not current or not tantivy.Index.exists(str(path)):
                return cls._empty_reader(path)
            index = tantivy.Index.open(str(path))
            analysis.register(index)
            return cls(path, index, None)
        rebuilt = False
        if not current and path.exists():
            try:
                probe = tantivy.Index.open(str(path)) if tantivy.Index.exists(str(path)) else None
                if probe is not None:
                    probe.writer(heap_size=15_000_000, num_threads=1).rollback()
            except ValueError as exc:
                raise IndexBusy(str(exc)) from None
            shutil.rmtree(path)
            rebuilt = bool(meta)
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(schema.build(), path=str(path), reuse=True)
        analysis.register(index)
        try:
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=WRITER_THREADS)
        except ValueError as exc:
            raise IndexBusy(str(exc)) from None
        if not current:
            _write_meta(path, 0)
        engine = cls(path, index, writer)
        engine.rebuilt = rebuilt
        return engine

    @classmethod
    def _empty_reader(cls, path: Path) -> Engine:
        index = tantivy.Index(schema.build())
        analysis.register(index)
        return cls(path, index, None)

    @property
    def writable(self) -> bool:
        return self._writer is not None

    def position(self) -> int:
        """The last change-log position applied (what `citynode-index.json` says)."""
        return int(self._position)

    def write(self, add: Iterable[bytes], delete: Iterable[str], upto: int) -> None:
        """Replace records: delete every id in `delete`, add the documents, commit, record `upto`.

        Blocking (tantivy's commit waits for its indexing threads): call it from a thread.
        """
        writer = self._writer
        if writer is None:
            raise RuntimeError("this index was opened read-only")
        with self._lock:
            for record_id in delete:
                writer.delete_documents_by_term("id", record_id)
            for document in add:
                writer.add_json(document.decode())
            writer.commit()
            _write_meta(self.path, upto)
            self._position = upto
            self.index.reload()
            self.searcher = self.index.searcher()

    def refresh(self) -> None:
        """Read what another process committed (a reader beside the writer)."""
        if self._writer is None and not self._current():
            return  # opened empty (no index of these versions yet): nothing to read
        self.index.reload()
        self.searcher = self.index.searcher()
        self._position = int(_read_meta(self.path).get("position", 0))

    def _current(self) -> bool:
        meta = _read_meta(self.path)
        return all(meta.get(k) == v for k, v in _versions().items()) and tantivy.Index.exists(
            str(self.path)
        )

    def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            with self._lock, contextlib.suppress(Exception):
                writer.wait_merging_threads()


def _read_meta(path: Path) -> dict[str, int | str]:
    try:
        data = json.loads((path / META).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_meta(path: Path, position: int) -> None:
    """Versions and position, replaced atomically and durably (write, fsync, rename)."""
    data = json.dumps({**_versions(), "position": position}).encode()
    tmp = path / f"{META}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path / META)


def remove(path: Path) -> None:
    """Delete the index (`citynode reindex` starts from nothing)."""
    if path.exists():
        shutil.rmtree(path)
