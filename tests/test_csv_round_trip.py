"""The CSV export is the import template: export a node's records, import them into a fresh node,
and the same records come out (issue 9 item 5), for every sample city, results, measurements,
licences and languages beyond es/en/pt included; `citynode export` and the `/dumps/` CSVs are
the same bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from citynode.demo import SAMPLES, rewrite_addresses, stand_in_base
from citynode.imports.files import read_drafts
from citynode.publishing import NODE_FIELDS
from citynode.storage import records as store
from tests.cli_support import citynode
from tests.drafts import practice, result
from tests.federation_support import publish
from tests.support import RunningNode


def _relative(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace(f"{base}/", "BASE/")
    if isinstance(value, list):
        return [_relative(item, base) for item in value]
    if isinstance(value, dict):
        return {key: _relative(item, base) for key, item in value.items()}
    return value


def _content(document: dict[str, Any], base: str) -> dict[str, Any]:
    """A record without what the node sets, with its own address written relative to it."""
    content: dict[str, Any] = _relative(
        {k: v for k, v in document.items() if k not in NODE_FIELDS}, base
    )
    return content


def _other_languages() -> list[dict[str, Any]]:
    """A practice and a result written in French and Brazilian Portuguese as well: columns
    beyond the template's es/en/pt (any BCP 47 language, issue 9)."""
    texts = {"fr": "Wifi gratuit dans les parcs", "pt-BR": "Wi-Fi grátis nos parques"}
    return [
        practice(
            "wifi-langues",
            title={"es": "Wifi en parques", **texts},
            summary={"es": "Internet en parques.", "fr": "Internet dans les parcs."},
            keywords={"fr": ["wifi", "parcs"]},
        ),
        result(
            "wifi-langues-r",
            of="wifi-langues",
            title={"en": "Connected parks", "pt-BR": "Parques conectados"},
            measurements=[
                {
                    "type": "Measurement",
                    "indicator": {"fr": "Parcs avec wifi"},
                    "value": 12.5,
                    "unit": "parks",
                    "period": "2021",
                }
            ],
        ),
    ]


async def _dump(node: RunningNode, name: str) -> bytes:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{node.url}/dumps/{name}") as response,
    ):
        assert response.status == 200
        return await response.read()


@pytest.mark.parametrize("city", ["medellin", "lisboa", "montevideo"])
async def test_export_import_gives_the_same_records(
    city: str, node_factory: Callable[..., Awaitable[RunningNode]], tmp_path: Path
) -> None:
    source = await node_factory(city.title())
    drafts = read_drafts(SAMPLES / city / "records.jsonld", source.url)
    await publish(source, *rewrite_addresses(drafts, {stand_in_base(city): f"{source.url}/"}))
    await publish(source, *_other_languages())
    rows = await store.all_current(source.node.db.reader, source.did)
    documents = [row.document() for row in rows]
    assert any(d.get("measurements") for d in documents)
    # The CLI writes the two files; the node serves the same bytes as dumps (one encoder).
    for fmt, name, dump in (
        ("csv", "practices.csv", "records.csv"),
        ("results-csv", "results.csv", "results.csv"),
    ):
        out = tmp_path / name
        home = str(source.home)
        await asyncio.to_thread(
            citynode, "export", "--home", home, "--format", fmt, "--output", str(out)
        )
        assert out.read_bytes() == await _dump(source, dump), name
    header = (tmp_path / "practices.csv").read_text("utf-8-sig").splitlines()[0]
    assert "title_fr" in header.split(",") and "title_pt_br" in header.split(",")
    assert "indicator_fr" in (tmp_path / "results.csv").read_text("utf-8-sig").splitlines()[0]
    target = await node_factory(city.title())
    imported = [
        *read_drafts(tmp_path / "practices.csv", target.url),
        *read_drafts(tmp_path / "results.csv", target.url),
    ]
    await publish(target, *imported)
    copies = {
        row.id.removeprefix(target.url): row.document()
        for row in await store.all_current(target.node.db.reader, target.did)
    }
    originals = {doc["id"].removeprefix(source.url): doc for doc in documents}
    assert set(copies) == set(originals)
    for key, original in originals.items():
        assert _content(copies[key], target.url) == _content(original, source.url), key
        assert copies[key]["license"] == original["license"]
