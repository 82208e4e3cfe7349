"""The index is a derived view: rebuilt from the store when its analyser changes, read beside
its writer, and its lag reported."""

from __future__ import annotations

import json
from pathlib import Path

from citynode.origins import Origin
from citynode.search.engine import META, Engine, IndexBusy
from tests.search_support import opened, signed_fields

ORIGIN = Origin(did="did:web:a.example", base_url="https://a.example", city="A", country="CO")


def _doc(n: int, title: str) -> dict[str, object]:
    return {
        **signed_fields(ORIGIN.did),
        "type": "Project",
        "id": f"https://a.example/records/{n}",
        "version": 1,
        "issued": "2022-01-01T00:00:00Z",
        "modified": f"2022-01-{n:02d}T00:00:00Z",
        "publisher": ORIGIN.did,
        "title": {"es": title},
        "summary": {"fr": "La connectivité des quartiers."},
        "status": "https://w3id.org/citynode/status#ongoing",
    }


async def test_a_changed_analyser_rebuilds_the_index_from_the_store(tmp_path: Path) -> None:
    async with opened(tmp_path) as index:
        await index.put(*((_doc(n, f"Parque {n}"), ORIGIN) for n in range(1, 21)))
        before = {h.id for h in (await index.ask("parque", limit=50)).hits}
    meta = tmp_path / "search-index" / META
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps({**data, "analyser": "an older analyser"}))
    async with opened(tmp_path) as index:
        assert index.engine.rebuilt and index.engine.position() == 0
        assert (await index.ask("parque")).total == 0
        assert await index.following.step() == 20
        assert {h.id for h in (await index.ask("parque", limit=50)).hits} == before


async def test_one_writer_and_readers_beside_it(tmp_path: Path) -> None:
    async with opened(tmp_path) as index:
        await index.put((_doc(1, "Parque"), ORIGIN))
        try:
            Engine.open(tmp_path / "search-index", writable=True)
        except IndexBusy:
            pass
        else:
            raise AssertionError("a second writer opened the index")
        reader = Engine.open(tmp_path / "search-index", writable=False)
        assert reader.position() == index.engine.position() > 0
        assert reader.searcher.num_docs == 1
        await index.put((_doc(2, "Parque"), ORIGIN))
        reader.refresh()
        assert reader.searcher.num_docs == 2


async def test_french_text_is_stemmed_and_any_language_is_folded(tmp_path: Path) -> None:
    async with opened(tmp_path) as index:
        other = {**_doc(2, "Parc"), "summary": {"ca": "Connectivitat als barris"}}
        await index.put((_doc(1, "Parque"), ORIGIN), (other, ORIGIN))
        assert [h.id for h in (await index.ask("connectivite", lang="fr")).hits] == [
            _doc(1, "")["id"]
        ]
        result = await index.ask("connectivitat")
        assert [h.id for h in result.hits] == [other["id"]]
        assert "<mark>Connectivitat</mark>" in result.hits[0].snippet


def test_the_faster_portuguese_plural_pattern_matches_what_the_analyser_version_names() -> None:
    """analysis._PT_PLURAL is a faster spelling of the rule the analyser version names; the
    index is not rebuilt for it, so it must rewrite exactly the same texts the same way."""
    import random
    import re

    from citynode.search import analysis

    named = re.compile(analysis._PT_PLURAL_VERSIONED, re.IGNORECASE)
    rng = random.Random(8)
    samples = ["inclusões", "INCLUSÕES", "Educacaoes", "oes", "_oes", "a-oes", "mães pães"]
    samples += [
        "".join(rng.choice("aoesõãAOES _-xyzé.\n") for _ in range(rng.randint(1, 40)))
        for _ in range(5000)
    ]
    for text in samples:
        assert analysis._PT_PLURAL.sub("ão", text) == named.sub("ão", text), text
