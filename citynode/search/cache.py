"""Answers to recent local searches, dropped as soon as the index changes.

Search traffic repeats itself (the landing page, the popular words of the day), and a query takes
milliseconds where serving bytes takes microseconds. An entry is keyed by the normalized query
and valid only for the index position it was computed at (the change-log position the index
had applied, `Engine.position()`), so any write the indexer applies, from this process or
another (`citynode publish` beside `citynode serve`), invalidates every entry at once. Entries
also expire after `MAX_AGE` seconds, which bounds how long a cached answer can outlive a
read-only index refreshed by another process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Final

import msgspec

from citynode.search.query import SearchQuery

MAX_ENTRIES: Final = 2048
MAX_AGE: Final = 1.0


class SearchCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[bytes, tuple[int, float, bytes]] = OrderedDict()
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(query: SearchQuery) -> bytes:
        facets = {name: sorted(values) for name, values in sorted(query.facets.items())}
        return msgspec.json.encode(
            [query.text, facets, query.lang, query.sort, query.limit, query.offset]
        )

    def get(self, key: bytes, generation: int) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation or time.monotonic() - entry[1] > MAX_AGE:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[2]

    def put(self, key: bytes, generation: int, body: bytes) -> None:
        self._entries[key] = (generation, time.monotonic(), body)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
