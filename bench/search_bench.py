"""Search benchmark: index build rate (store -> log -> index, as `citynode reindex` does) and
query latency per query kind through the search service (ranking over every match, exact facet
counts, hits read from the store).

    .venv/bin/python -m bench.search_bench                 # 10k and 100k
    .venv/bin/python -m bench.search_bench --size 1000000  # 1M (builds for several minutes)

A built store and index are kept in --dir and reused when their size matches (delete to rebuild).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import resource
import shutil
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

import msgspec

from bench.search_corpus import corpus, vocabulary
from citynode.search.engine import Engine
from citynode.search.indexer import Indexer
from citynode.search.query import Searching, SearchQuery
from citynode.search.service import INDEX_BATCH
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.log import Following
from citynode.storage.origins import put_origin

BATCH = 5_000
_words = vocabulary()

QUERIES: dict[str, list[dict[str, Any]]] = {
    "empty": [{"text": ""}],
    "common word": [{"text": t} for t in ("ciudad", "city", "cidade", "proyecto", "programa")],
    # Words drawn ~once per 10k-100k records (Zipf ranks 8,000-15,000 of the made-up tail).
    "rare word": [
        {"text": _words[lang][rank]} for lang in ("es", "en", "pt") for rank in (8_000, 15_000)
    ],
    "several words": [
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
        {"text": "", "facets": {"theme": ["water"], "year": ["2020", "2021"]}},
        {"text": "parque", "facets": {"type": ["project"], "status": ["completed"]}},
        {"text": "", "facets": {"sdg_goal": ["11"]}},
    ],
    "cross-language": [{"text": t} for t in ("connectivity", "conectividad", "water", "mobility")],
    "12-word question": [
        {
            "text": "how can a city give internet access and digital training to poor "
            "households in every neighbourhood"
        },
        {
            "text": "cómo mejorar el transporte público y la movilidad de los barrios con datos "
            "abiertos y participación ciudadana"
        },
        {
            "text": "como a cidade pode melhorar a educação e a saúde das crianças nos bairros "
            "com projetos de inclusão"
        },
    ],
}


def _reusable(folder: Path, size: int) -> bool:
    """True if an earlier benchmark store and index of this size exist; else clear the folder."""
    database = folder / "node.db"
    if database.exists() and (folder / "search-index").exists():
        with contextlib.closing(sqlite3.connect(database)) as conn:
            if conn.execute("SELECT count(*) FROM current").fetchone()[0] == size:
                engine = Engine.open(folder / "search-index", writable=False)
                if engine.searcher.num_docs == size:
                    return True
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return False


async def _fill(db: Database, size: int) -> None:
    """The store: `size` records appended as ingest would (not timed)."""
    records = corpus(size)
    seen: set[str] = set()
    while True:
        batch = list(itertools.islice(records, BATCH))
        if not batch:
            return
        async with db.transaction(notify=False) as conn:
            for _, origin in batch:
                if origin.did not in seen:
                    seen.add(origin.did)
                    await put_origin(conn, origin)
            await store.append(
                conn,
                [
                    store.NewVersion(
                        id=doc["id"],
                        version=1,
                        type=doc["type"],
                        origin=origin.did,
                        modified=doc["modified"],
                        status=doc.get("status"),
                        body=msgspec.json.encode(doc),
                    )
                    for doc, origin in batch
                ],
            )


async def build(folder: Path, size: int) -> float:
    """Build the store (untimed), then the index from the change log; returns records/s."""
    if _reusable(folder, size):
        return float("nan")
    async with Database.opened(folder / "node.db") as db:
        await _fill(db, size)
        engine = Engine.open(folder / "search-index", writable=True)
        following = Following(db, Indexer(db, engine), batch=INDEX_BATCH)
        started = time.perf_counter()
        applied = await following.step()
        elapsed = time.perf_counter() - started
        engine.close()  # waits for segment merges (not timed: they run behind the writer)
    return applied / elapsed


async def latencies(folder: Path, rounds: int) -> dict[str, tuple[float, float, int, float]]:
    """Per query kind: (p50 ms, p99 ms, total of the last answer, CPU p99 ms).

    The CPU time is the process's (every thread: the engine's two as well): on a shared
    machine the load inflates wall times several-fold and CPU times far less.
    """
    result = {}
    async with Database.opened(folder / "node.db") as db:
        searching = Searching(db, Engine.open(folder / "search-index", writable=False))
        for kind, variants in QUERIES.items():
            times = []
            cpu = []
            total = 0
            for variant in variants:  # warm the page cache once, as a running node would be
                await searching.search(SearchQuery(**variant))
            for n in range(rounds):
                variant = variants[n % len(variants)]
                started = time.perf_counter()
                began = time.process_time()
                answer = await searching.search(SearchQuery(**variant))
                cpu.append((time.process_time() - began) * 1000)
                times.append((time.perf_counter() - started) * 1000)
                total = answer.total
            result[kind] = (statistics.median(times), _p99(times), total, _p99(cpu))
    return result


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--size", type=int, action="append", help="records (repeatable; default 10000 and 100000)"
    )
    parser.add_argument("--dir", type=Path, default=Path("/tmp/citynode-search-bench"))
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    for size in args.size or [10_000, 100_000]:
        folder = args.dir / f"search-{size}"
        load = os.getloadavg()[0]
        rate = await build(folder, size)
        print(
            f"\n{size:,} records: index build {rate:,.0f} records/s"
            + (" (reused existing index)" if rate != rate else "")
            + f"; load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
        )
        print(f"{'query kind':<18}{'p50 ms':>9}{'p99 ms':>9}{'total':>10}{'CPU p99 ms':>12}")
        for kind, (p50, p99, total, cpu) in (await latencies(folder, args.rounds)).items():
            print(f"{kind:<18}{p50:>9.2f}{p99:>9.2f}{total:>10,}{cpu:>12.2f}")
        print(f"peak RSS of this process: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    asyncio.run(main())
