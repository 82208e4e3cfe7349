"""Search benchmark: index build rate and query latency per query kind.

    .venv/bin/python -m bench.search_bench                 # 10k and 100k
    .venv/bin/python -m bench.search_bench --size 1000000  # 1M (builds for several minutes)

A built database is kept in --dir and reused when its size matches (delete it to rebuild).
Latencies are measured in process through aiosqlite, as the HTTP handlers will call search().
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import aiosqlite

from bench.search_corpus import corpus, vocabulary
from citynode.search import index
from citynode.search.query import SearchQuery, search
from citynode.storage.search_schema import STATEMENTS
from citynode.workers import WorkerPool

BATCH = 1_000
_words = vocabulary()
#: Used when vocab has no labels yet, so the cross-language kind still expands.
FALLBACK_LABELS = {
    "connectivity": {"https://w3id.org/citynode/theme#connectivity"},
    "conectividad": {"https://w3id.org/citynode/theme#connectivity"},
    "mobility": {"https://w3id.org/citynode/theme#mobility"},
    "water": {"https://w3id.org/citynode/theme#water"},
}

QUERIES: dict[str, list[dict[str, Any]]] = {
    "empty": [{"text": ""}],
    "common term": [{"text": t} for t in ("ciudad", "city", "cidade", "proyecto", "programa")],
    # Words drawn ~once per 10k-100k records (Zipf ranks 8,000-15,000 of the made-up tail).
    "rare term": [
        {"text": _words[lang][rank]} for lang in ("es", "en", "pt") for rank in (8_000, 15_000)
    ],
    "several terms": [
        {"text": t}
        for t in (
            "parque movilidad biblioteca",
            "water energy waste",
            "bairro escola saúde",
            "ciudad proyecto barrio",
            "tranvía convivencia",
        )
    ],
    "phrase": [
        {"text": t} for t in ('"transporte público"', '"public transport"', '"datos abiertos"')
    ],
    "faceted": [
        {"text": "movilidad", "facets": {"country": ["CO"]}},
        {"text": "city", "facets": {"city": ["Medellín"]}},
        {
            "text": "",
            "facets": {
                "theme": ["https://w3id.org/citynode/theme#water"],
                "year": ["2020", "2021"],
            },
        },
        {
            "text": "parque",
            "facets": {
                "type": ["Project"],
                "status": ["https://w3id.org/citynode/status#completed"],
            },
        },
        {"text": "", "facets": {"sdg_goal": ["http://metadata.un.org/sdg/11"]}},
    ],
    "cross-language": [{"text": t} for t in ("connectivity", "conectividad", "water", "mobility")],
}


async def open_db(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-65536",
        "temp_store=MEMORY",
    ):
        await conn.execute(f"PRAGMA {pragma}")
    return conn


def _reusable(path: Path, size: int) -> bool:
    """True if an earlier benchmark database of this size exists; else remove what is there."""
    if path.exists():
        with contextlib.closing(sqlite3.connect(path)) as conn:
            if conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == size:
                return True
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return False


async def build(path: Path, size: int) -> float:
    """Index `size` records in batches of BATCH per transaction; returns records/s."""
    if _reusable(path, size):
        return float("nan")
    conn = await open_db(path)
    for statement in STATEMENTS:
        await conn.execute(statement)
    # Records are generated batch by batch (1M would not fit in memory as a list); only the
    # indexing transactions are timed.
    records = corpus(size)
    pool = WorkerPool(1, name="search-analysis")
    elapsed = 0.0
    for start in range(0, size, BATCH):
        batch = [(doc, origin, "verified") for doc, origin in itertools.islice(records, BATCH)]
        started = time.perf_counter()
        await conn.execute("BEGIN IMMEDIATE")
        await index.put_many(conn, batch, pool=pool)
        await conn.execute("COMMIT")
        elapsed += time.perf_counter() - started
        if size >= 200_000 and (start // BATCH) % 100 == 0:
            print(f"  indexed {start:,} ({start / max(elapsed, 1e-9):,.0f}/s)", flush=True)
    pool.close()
    await conn.close()
    return size / elapsed


async def latencies(path: Path, rounds: int) -> dict[str, tuple[float, float, int]]:
    """Per query kind: (p50 ms, p99 ms, total of the last answer)."""
    conn = await open_db(path)
    labels = index.concepts.default_labels() or FALLBACK_LABELS
    result = {}
    for kind, variants in QUERIES.items():
        times = []
        total = 0
        for variant in variants:  # warm the page cache once, as a running node would be
            await search(conn, SearchQuery(**variant), labels=labels)
        for n in range(rounds):
            variant = variants[n % len(variants)]
            started = time.perf_counter()
            answer = await search(conn, SearchQuery(**variant), labels=labels)
            times.append((time.perf_counter() - started) * 1000)
            total = answer.total
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        result[kind] = (statistics.median(times), p99, total)
    await conn.close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--size", type=int, action="append", help="records (repeatable; default 10000 and 100000)"
    )
    parser.add_argument("--dir", type=Path, default=Path("/tmp/citynode-search-bench"))
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    for size in args.size or [10_000, 100_000]:
        path = args.dir / f"search-{size}.db"
        rate = await build(path, size)
        print(
            f"\n{size:,} records: index build {rate:,.0f} records/s"
            + (" (reused existing database)" if rate != rate else "")
        )
        print(f"{'query kind':<16}{'p50 ms':>9}{'p99 ms':>9}{'total':>10}")
        for kind, (p50, p99, total) in (await latencies(path, args.rounds)).items():
            print(f"{kind:<16}{p50:>9.2f}{p99:>9.2f}{total:>10,}")


if __name__ == "__main__":
    asyncio.run(main())
