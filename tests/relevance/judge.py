"""The judged relevance set: the three sample cities plus generated records, and its figures.

`queries.tsv` holds each query with the records a person would expect in its top 5. `measure`
builds a real store and index (the same store -> log -> index path a node runs), asks every
query and returns nDCG@10 (binary gains: an expected record scores 1 / log2(rank + 1)) and the
share of queries that found nothing. The test (test_relevance.py) asserts both stay at the level
the engine reached; `make bench` prints them.
"""

from __future__ import annotations

import itertools
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.search_corpus import corpus
from citynode.origins import Origin
from tests.search_support import opened, signed_fields

HERE: Final = Path(__file__).parent
SAMPLES: Final = HERE.parents[1] / "citynode" / "samples"
CITIES: Final = {
    "m": (
        "medellin",
        Origin(
            did="did:web:medellin.example",
            base_url="https://medellin.example",
            city="Medellín",
            country="CO",
        ),
    ),
    "l": (
        "lisboa",
        Origin(
            did="did:web:lisboa.example",
            base_url="https://lisboa.example",
            city="Lisboa",
            country="PT",
        ),
    ),
    "v": (
        "montevideo",
        Origin(
            did="did:web:montevideo.example",
            base_url="https://montevideo.example",
            city="Montevideo",
            country="UY",
        ),
    ),
}
#: Generated records from many other (made-up) cities, as distractors.
GENERATED: Final = 2_000
CUTOFF: Final = 10


@dataclass(slots=True)
class Judged:
    lang: str
    kind: str
    text: str
    expected: list[str]


@dataclass(slots=True)
class Figures:
    ndcg: float
    zero_rate: float
    queries: int
    by_kind: dict[str, float] = field(default_factory=dict)
    misses: list[tuple[str, float, list[str]]] = field(default_factory=list)


def queries() -> list[Judged]:
    judged = []
    for line in (HERE / "queries.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, kind, text, *expected = line.split("\t")
        judged.append(Judged(lang, kind, text, [_record_id(e) for e in expected]))
    return judged


def _record_id(short: str) -> str:
    city, slug = short.split(":")
    return f"{CITIES[city][1].base_url}/records/{slug}"


def sample_records() -> list[tuple[dict[str, Any], Origin]]:
    """The sample cities' records as stored records (ids resolved, metadata filled)."""
    found = []
    for folder, origin in CITIES.values():
        graph = json.loads((SAMPLES / folder / "records.jsonld").read_text())["@graph"]
        for n, draft in enumerate(graph):
            doc = {
                **draft,
                "id": f"{origin.base_url}/{draft['id']}",
                "version": 1,
                "issued": "2026-01-01T00:00:00Z",
                "modified": f"2026-01-01T00:{n:02d}:00Z",
                "publisher": origin.did,
                **signed_fields(origin.did),
            }
            if isinstance(doc.get("resultOf"), str) and not doc["resultOf"].startswith("http"):
                doc["resultOf"] = f"{origin.base_url}/{doc['resultOf']}"
            found.append((doc, origin))
    return found


def dcg(ranked: list[str], relevant: set[str]) -> float:
    return sum(
        1 / math.log2(rank + 2) for rank, rid in enumerate(ranked[:CUTOFF]) if rid in relevant
    )


async def measure(folder: Path | None = None) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        async with opened(folder or Path(tmp)) as index:
            await index.put(*sample_records())
            generated = list(itertools.islice(corpus(GENERATED, seed=11, cities=300), GENERATED))
            for start in range(0, len(generated), 500):
                await index.put(*generated[start : start + 500])
            judged = queries()
            scores: dict[str, list[float]] = {}
            zero = 0
            misses = []
            for item in judged:
                result = await index.ask(item.text, lang=item.lang, limit=CUTOFF)
                ranked = [hit.id for hit in result.hits]
                relevant = set(item.expected)
                ideal = dcg(item.expected, relevant)
                score = dcg(ranked, relevant) / ideal if ideal else 0.0
                scores.setdefault(item.kind, []).append(score)
                zero += result.total == 0
                if score < 0.5:
                    misses.append((item.text, round(score, 3), ranked[:5]))
    every = [s for kind in scores.values() for s in kind]
    return Figures(
        ndcg=sum(every) / len(every),
        zero_rate=zero / len(judged),
        queries=len(judged),
        by_kind={kind: sum(v) / len(v) for kind, v in sorted(scores.items())},
        misses=misses,
    )
