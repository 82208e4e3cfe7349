"""`make bench`: every figure the issues ask for, in one run, with ratios to this machine.

Sections: the machine's primitives (bare Ed25519 sign and verify), the node (publish, verify,
serve start-up), federation (ingest, propagation, cold sync) and search (latency, throughput,
fan-out). `python -m bench --only node` runs one section; sizes are flags.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

import uvloop

from bench import (
    engine_choice,
    federation_bench,
    node_bench,
    opendata_bench,
    ops_bench,
    pages_bench,
    primitives,
    search_bench,
    search_http,
)
from tests.relevance import judge


def section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def node(sign: float, verify: float, records: int) -> None:
    section(f"node ({records:,} records, SQLite, one process)")
    figures = asyncio.run(node_bench.run(verify, records))
    print(
        f"publish, structure only (validate+sign+store+index) {figures['publish_per_s']:>8,.0f} /s"
        f" = {figures['publish_per_s'] / sign:.3f} x bare sign   (issue: >= 3,000 /s)"
    )
    print(
        f"publish with SHACL shapes as well                   "
        f"{figures['publish_shacl_per_s']:>8,.0f} /s = "
        f"{figures['publish_shacl_per_s'] / sign:.3f} x bare sign"
    )
    print(
        f"verify (decode+JCS+verify)            {figures['verify_per_s']:>8,.0f} /s  "
        f"= {figures['verify_ratio']:.2f} x bare verify (issue: >= 0.60)"
    )
    print(
        f"serve ready with {figures['records']:,} records     {figures['startup_s']:>8.2f} s"
        "                         (issue: < 1 s)"
    )


def federation(verify: float, records: int) -> None:
    section(f"federation (three nodes on loopback, cold sync of {records:,} records)")
    figures = asyncio.run(federation_bench.run(verify, records))
    for line in federation_bench.report(figures):
        print(line)


def search(sizes: list[int], rounds: int) -> None:
    section("search relevance (tests/relevance: judged queries over the sample cities)")
    figures = asyncio.run(judge.measure())
    print(
        f"nDCG@10 {figures.ndcg:.3f}   zero-result rate {figures.zero_rate:.3f}   "
        f"({figures.queries} queries; by kind: "
        + ", ".join(f"{kind} {value:.3f}" for kind, value in figures.by_kind.items())
        + ")"
    )
    section("search engine choice (same corpus: SQLite FTS5 ranking every match vs tantivy)")
    for line in asyncio.run(engine_choice.run(min(max(sizes), 100_000), rounds)):
        print(line)
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            section(f"search ({size:,} records, in process)")
            folder = Path(tmp) / f"search-{size}"
            rate = asyncio.run(search_bench.build(folder, size))
            print(f"index build {rate:>8,.0f} records/s   (issue: >= 8,000 /s)")
            print(
                f"{'query kind':<18}{'p50 ms':>9}{'p99 ms':>9}{'total':>10}{'CPU p99 ms':>12}"
                f"   (issue: p99 <= {20 if size <= 100_000 else 100} ms)"
            )
            for kind, (p50, p99, total, cpu) in asyncio.run(
                search_bench.latencies(folder, rounds)
            ).items():
                print(f"{kind:<18}{p50:>9.2f}{p99:>9.2f}{total:>10,}{cpu:>12.2f}")
            print(f"load average {os.getloadavg()[0]:.1f}")
            print(f"peak RSS of the bench process so far {search_bench.peak_rss_mb():,.0f} MB")
    section("search over HTTP")
    for line in uvloop.run(search_http.run()):
        print(line)


def pages(size: int, rounds: int) -> None:
    section(f"pages ({size:,} records, server time per request)")
    for line in pages_bench.report(asyncio.run(pages_bench.run(size, rounds))):
        print(line)


def opendata(records: int) -> None:
    section(f"open data ({records:,} records of 300 cities; node as its own process)")
    for line in opendata_bench.report(opendata_bench.run(records)):
        print(line, flush=True)


def ops(records: int, seconds: float) -> None:
    section(f"operations ({records:,} records, `citynode serve` in its own process)")
    for line in ops_bench.report(asyncio.run(ops_bench.memory_under_search(records, seconds))):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", choices=["node", "federation", "search", "opendata", "ops", "pages"]
    )
    parser.add_argument(
        "--page-records", type=int, default=100_000, help="records for the pages bench"
    )
    parser.add_argument("--records", type=int, default=10_000, help="records for the node bench")
    parser.add_argument(
        "--sync-records", type=int, default=100_000, help="records for the federation cold sync"
    )
    parser.add_argument(
        "--search-sizes",
        default="10000,100000",
        help="corpus sizes for the search bench (add 1000000: ~8 min, 8 GB)",
    )
    parser.add_argument("--rounds", type=int, default=200, help="queries per kind")
    parser.add_argument(
        "--opendata-records", type=int, default=100_000, help="records for the open-data bench"
    )
    parser.add_argument(
        "--ops-records", type=int, default=100_000, help="records for the memory bench"
    )
    parser.add_argument("--ops-seconds", type=float, default=60.0, help="search load duration")
    args = parser.parse_args()

    section("machine (one core)")
    sign = primitives.ed25519_sign_rate()
    verify = primitives.ed25519_verify_rate()
    print(f"bare Ed25519 sign           {sign:>10,.0f} /s")
    print(f"bare Ed25519 verify         {verify:>10,.0f} /s")
    if args.only in (None, "node"):
        node(sign, verify, args.records)
    if args.only in (None, "federation"):
        federation(verify, args.sync_records)
    if args.only in (None, "search"):
        search([int(s) for s in args.search_sizes.split(",") if s], args.rounds)
    if args.only in (None, "pages"):
        pages(args.page_records, args.rounds * 2)
    if args.only in (None, "opendata"):
        opendata(args.opendata_records)
    if args.only in (None, "ops"):
        ops(args.ops_records, args.ops_seconds)


if __name__ == "__main__":
    main()
