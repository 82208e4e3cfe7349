"""Writes that cannot be lost: concurrent updates of one record, through the API and the CLI.

Each writer sends different content; afterwards the store, the answers and the search index must
agree: every writer was told a distinct version, that version holds exactly its content, and the
index holds the current version's fields (issue 7, "A lost update").
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from tests.cli_support import ROOT, citynode, served
from tests.drafts import practice
from tests.federation_support import wait_for
from tests.support import RunningNode, request_json

WRITERS = 8


def _draft(n: int) -> dict[str, Any]:
    return practice(
        "plaza", title={"es": f"Plaza digital escritor{n}", "en": f"Digital square {n}"}
    )


async def agreement(database: Path, base_url: str, told: dict[int, int]) -> None:
    """`told`: writer -> version it was told. Store, answers and index must agree."""
    record_id = f"{base_url}/records/plaza"
    db = sqlite3.connect(database)
    try:
        rows = db.execute(
            "SELECT version, body FROM records WHERE id = ? ORDER BY version", (record_id,)
        ).fetchall()
        (current,) = db.execute("SELECT version FROM current WHERE id = ?", (record_id,)).fetchone()
    finally:
        db.close()
    stored = {version: json.loads(body) for version, body in rows}
    assert sorted(stored) == list(range(1, len(stored) + 1)), sorted(stored)
    assert len(set(told.values())) == len(told), f"two writers told one version: {told}"
    for writer, version in told.items():
        assert stored[version]["title"]["en"] == f"Digital square {writer}", (writer, version)
    assert current == max(stored)
    # The index follows the change log: it must come to hold the current version's fields,
    # and only them (one hit for the record).
    wanted = stored[current]["title"]["en"]

    async def indexed() -> bool:
        _, body, _ = await request_json(
            "GET", f"{base_url}/api/search?q=digital%20square&lang=en&limit=50"
        )
        hits = [hit for hit in body["hits"] if hit["id"] == record_id]
        assert len(hits) <= 1, hits
        return bool(hits) and hits[0]["version"] == current and hits[0]["title"] == wanted

    await wait_for(indexed, within=20, what="the index to hold the stored current version")


async def _put(
    session: aiohttp.ClientSession, node: RunningNode, n: int, if_match: str | None = None
) -> tuple[int, Any, str | None]:
    headers = node.auth()
    if if_match is not None:
        headers["If-Match"] = if_match
    async with session.put(
        f"{node.url}/api/records/plaza", json=_draft(n), headers=headers
    ) as response:
        return (
            response.status,
            msgspec.json.decode(await response.read()),
            response.headers.get("ETag"),
        )


async def test_concurrent_puts_are_serialised_and_each_told_its_version(
    medellin: RunningNode,
) -> None:
    status, _, _ = await request_json(
        "POST", f"{medellin.url}/api/records", json=_draft(0), headers=medellin.auth()
    )
    assert status == 201
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(_put(session, medellin, n) for n in range(1, 9)))
    told = {0: 1}
    for n, (status, body, etag) in enumerate(answers, start=1):
        assert status == 200, body
        (outcome,) = body["records"]
        assert outcome["outcome"] == "updated"
        assert etag == f'"{outcome["version"]}"'
        told[n] = outcome["version"]
    assert sorted(told.values()) == list(range(1, WRITERS + 2))
    await agreement(medellin.node.db.path, medellin.url, told)


async def test_if_match_lets_one_writer_win_and_tells_the_others_the_version(
    medellin: RunningNode,
) -> None:
    await request_json(
        "POST", f"{medellin.url}/api/records", json=_draft(0), headers=medellin.auth()
    )
    _, _, headers = await request_json("GET", f"{medellin.url}/records/plaza")
    etag = headers["ETag"]
    assert etag == '"1"'
    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(
            *(_put(session, medellin, n, if_match=etag) for n in range(1, WRITERS + 1))
        )
    won = [(n, body) for n, (status, body, _) in enumerate(answers, start=1) if status == 200]
    lost = [body for status, body, _ in answers if status != 200]
    assert len(won) == 1, answers
    assert {status for status, _, _ in answers} == {200, 412}
    for body in lost:
        assert body["code"] == "precondition_failed" and set(body) == {"code", "message", "detail"}
        assert body["detail"]["current_version"] == 2 and body["detail"]["expected"] == [1]
        assert "version 2" in body["message"]
    await agreement(medellin.node.db.path, medellin.url, {0: 1, won[0][0]: 2})
    # A stale tag on DELETE is refused the same way; the right one withdraws.
    status, body, _ = await request_json(
        "DELETE",
        f"{medellin.url}/api/records/plaza",
        headers={**medellin.auth(), "If-Match": '"1"'},
    )
    assert status == 412 and body["detail"]["current_version"] == 2
    status, body, _ = await request_json(
        "DELETE",
        f"{medellin.url}/api/records/plaza",
        headers={**medellin.auth(), "If-Match": 'W/"0", "2"'},
    )
    assert status == 200 and body["version"] == 3, body
    status, body, _ = await request_json(
        "PUT",
        f"{medellin.url}/api/records/plaza",
        json=_draft(9),
        headers={**medellin.auth(), "If-Match": "not a tag"},
    )
    assert status == 400 and body["detail"]["header"] == "If-Match"


async def test_cli_publish_beside_serve_and_api_puts_agree(home: Path, tmp_path: Path) -> None:
    token = citynode("token", "create", "--home", str(home)).stdout.strip()
    first = tmp_path / "w0.jsonld"
    first.write_text(json.dumps(_draft(0)))
    citynode("publish", "--home", str(home), "--quiet", str(first))
    files = []
    for n in range(1, WRITERS // 2 + 1):
        path = tmp_path / f"w{n}.jsonld"
        path.write_text(json.dumps(_draft(n)))
        files.append((n, path))
    with served(home) as (_, url):

        async def cli(n: int, path: Path) -> tuple[int, int]:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "citynode.cli",
                "publish",
                "--home",
                str(home),
                "--quiet",
                "--skip-shapes",
                str(path),
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            assert process.returncode == 0, err.decode()
            _, version, outcome = out.decode().strip().split("\t")
            assert outcome == "updated"
            return n, int(version.removeprefix("version "))

        async def api(n: int) -> tuple[int, int]:
            status, body, _ = await request_json(
                "PUT",
                f"{url}/api/records/plaza",
                json=_draft(n),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert status == 200, body
            return n, int(body["records"][0]["version"])

        results = await asyncio.gather(
            *(cli(n, path) for n, path in files),
            *(api(n) for n in range(WRITERS // 2 + 1, WRITERS + 1)),
        )
        told = {0: 1, **dict(results)}
        assert sorted(told.values()) == list(range(1, WRITERS + 2)), told
        await agreement(home / "citynode.db", url, told)
