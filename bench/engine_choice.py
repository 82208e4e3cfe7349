"""The measurement behind the engine choice (issue 8 item 1): SQLite FTS5 asked to do what the
search must do (BM25 over every match, an exact total, exact facet counts), on the bench corpus.

FTS5 gets its best case: no stemming (plain `unicode61 remove_diacritics 2`), one table, the
facets of each record in a plain table joined by rowid. The same query kinds are then measured on
the tantivy index by search_bench.py; bench/RESULTS.md puts both side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Final

from bench.search_corpus import corpus

QUERIES: Final = {
    "common word": ["ciudad", "city", "cidade"],
    "several words (OR)": ["parque OR movilidad OR biblioteca", "water OR energy OR waste"],
    "phrase": ['"transporte público"', '"public transport"'],
    "12-word question (OR)": [
        "internet OR access OR digital OR training OR poor OR households OR neighbourhood OR "
        "city OR give OR every OR can OR how"
    ],
}


def _build(path: Path, size: int) -> float:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(title, summary, body,"
        " tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE TABLE facets (docid INTEGER, facet TEXT, value TEXT)")
    conn.execute("CREATE INDEX facets_docid ON facets (docid)")
    records = list(itertools.islice(corpus(size), size))  # generated before the clock starts
    started = time.perf_counter()
    for n, (doc, origin) in enumerate(records):
        text = {
            name: " ".join((doc.get(name) or {}).values())
            for name in ("title", "summary", "description", "problem", "approach")
        }
        body = " ".join(text[k] for k in ("description", "problem", "approach"))
        conn.execute(
            "INSERT INTO fts (rowid, title, summary, body) VALUES (?, ?, ?, ?)",
            (n, text["title"], text["summary"], body),
        )
        values = [("city", origin.city), ("type", doc["type"]), ("status", doc["status"])]
        values += [("theme", t) for t in doc.get("themes", [])]
        conn.executemany("INSERT INTO facets VALUES (?, ?, ?)", [(n, f, v) for f, v in values])
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return size / elapsed


def _measure(path: Path, rounds: int) -> dict[str, tuple[float, float]]:
    conn = sqlite3.connect(path)
    found: dict[str, tuple[float, float]] = {}
    for kind, variants in QUERIES.items():
        times = []
        for n in range(rounds):
            match = variants[n % len(variants)]
            started = time.perf_counter()
            conn.execute(
                "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 10.0, 4.0, 1.0)"
                " LIMIT 10",
                (match,),
            ).fetchall()
            conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (match,)).fetchone()
            conn.execute(
                "SELECT facet, value, count(*) FROM facets WHERE docid IN"
                " (SELECT rowid FROM fts WHERE fts MATCH ?) GROUP BY facet, value",
                (match,),
            ).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        found[kind] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))])
    conn.close()
    return found


async def run(size: int, rounds: int = 50) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fts5.db"
        rate = await asyncio.to_thread(_build, path, size)
        figures = await asyncio.to_thread(_measure, path, min(rounds, 50))
        with contextlib.suppress(OSError):
            path.unlink()
    lines = [f"SQLite FTS5, {size:,} records: build {rate:,.0f} records/s (no stemming)"]
    lines.append(f"{'kind (top 10 by bm25 + count + facets)':<42}{'p50 ms':>9}{'p99 ms':>9}")
    lines += [f"{kind:<42}{p50:>9.2f}{p99:>9.2f}" for kind, (p50, p99) in figures.items()]
    return lines


if __name__ == "__main__":
    for line in asyncio.run(run(100_000)):
        print(line)
