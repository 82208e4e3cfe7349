"""`make bench`: every figure the issues ask for, in one run, with ratios to this machine.

Sections: the machine's primitives (bare Ed25519 sign and verify), the node (publish, verify,
serve start-up), search (see bench/search_bench.py) and federation (bench/federation_bench.py).
`python -m bench --only node` runs one section.
"""

from __future__ import annotations

import argparse
import asyncio

from bench import node_bench, primitives


def section(title: str) -> None:
    print(f"\n== {title} ==")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["node", "search", "federation"])
    parser.add_argument("--records", type=int, default=10_000, help="records for the node bench")
    args = parser.parse_args()

    section("machine (one core)")
    sign = primitives.ed25519_sign_rate()
    verify = primitives.ed25519_verify_rate()
    print(f"bare Ed25519 sign           {sign:>10,.0f} /s")
    print(f"bare Ed25519 verify         {verify:>10,.0f} /s")

    if args.only in (None, "node"):
        section(f"node ({args.records:,} records, SQLite, one process)")
        figures = asyncio.run(node_bench.run(verify, args.records))
        print(f"publish (validate+sign+store+index) {figures['publish_per_s']:>8,.0f} /s  "
              f"= {figures['publish_per_s'] / sign:.2f} x bare sign   (issue: >= 3,000 /s)")
        print(f"verify (decode+JCS+verify)          {figures['verify_per_s']:>8,.0f} /s  "
              f"= {figures['verify_ratio']:.2f} x bare verify (issue: >= 0.60)")
        print(f"serve ready with {figures['records']:,} records   {figures['startup_s']:>8.2f} s"
              "                       (issue: < 1 s)")


if __name__ == "__main__":
    main()
