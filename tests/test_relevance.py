"""The judged relevance set (tests/relevance/) stays at the level the engine reached when it
landed: nDCG@10 and the share of queries that find nothing (figures in bench/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

from tests.relevance.judge import measure, queries

#: Reached by the tantivy engine when it landed (bench/RESULTS.md "Relevance"): 0.858 and 0.
NDCG_AT_10: float = 0.85
ZERO_RESULT_RATE: float = 0.0


def test_the_set_is_big_enough_and_covers_es_en_pt() -> None:
    judged = queries()
    assert len(judged) >= 60
    assert {q.lang for q in judged} >= {"es", "en", "pt"}
    assert {q.kind for q in judged} >= {"question", "word", "misspelt", "cross"}


async def test_ndcg_and_zero_result_rate(tmp_path: Path) -> None:
    figures = await measure(tmp_path)
    assert figures.zero_rate <= ZERO_RESULT_RATE, figures
    assert figures.ndcg >= NDCG_AT_10, figures.misses
