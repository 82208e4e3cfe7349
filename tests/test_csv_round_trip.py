"""The CSV export is the import template: export a node's records, import them into a fresh node,
and the same records come out (issue 9 item 5), for every sample city, results, measurements
and licences included."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from citynode.demo import SAMPLES, rewrite_addresses, stand_in_base
from citynode.exports import template_csvs
from citynode.imports.files import read_drafts
from citynode.publishing import NODE_FIELDS
from citynode.storage import records as store
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


@pytest.mark.parametrize("city", ["medellin", "lisboa", "montevideo"])
async def test_export_import_gives_the_same_records(
    city: str, node_factory: Callable[..., Awaitable[RunningNode]], tmp_path: Path
) -> None:
    source = await node_factory(city.title())
    drafts = read_drafts(SAMPLES / city / "records.jsonld", source.url)
    await publish(source, *rewrite_addresses(drafts, {stand_in_base(city): f"{source.url}/"}))
    rows = await store.all_current(source.node.db.reader, source.did)
    documents = [row.document() for row in rows]
    assert any(d.get("measurements") for d in documents)
    for name, text in template_csvs(documents, source.url).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
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
