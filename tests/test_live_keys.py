"""Trust that changes live: `key rotate` and `key revoke` run in another process beside a running
node take effect at once there, and every node holding the records shows them as revoked.

The CLI runs as a real separate process on the node's home; the nodes are real servers.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.cli_support import ROOT, citynode, served
from tests.drafts import practice
from tests.federation_support import FAST, fed, follow, publish, wait_for
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]
#: The issue's bound: every node shows a revocation within a minute.
MINUTE = 60.0


def _get(url: str, accept: str = "application/json") -> tuple[bytes, Any]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), response.headers


def _json(url: str) -> Any:
    return json.loads(_get(url)[0])


def _signature_in_search(base: str, slug: str, q: str) -> str | None:
    hits = _json(f"{base}/api/search?q={q}&limit=50")["hits"]
    return next((h["signature"] for h in hits if h["id"].endswith(f"/records/{slug}")), None)


def _until(check: Callable[[], bool], within: float, what: str) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def test_rotate_revoke_and_resign_beside_serve(home: Path, tmp_path: Path) -> None:
    token = citynode("token", "create", "--home", str(home)).stdout.strip()
    drafts = tmp_path / "antes.jsonld"
    drafts.write_text(json.dumps(practice("antes")))
    citynode("publish", "--home", str(home), str(drafts))
    with served(home) as (_, url):
        signed_before = _json(f"{url}/records/antes")
        assert signed_before["proof"]["verificationMethod"].endswith("#key-1")
        citynode("key", "rotate", "--home", str(home))
        # At once, with no wait: the DID document and the next record use the new key.
        document = _json(f"{url}/.well-known/did.json")
        assert [m.rsplit("#", 1)[1] for m in document["authentication"]] == ["key-2"]
        request = urllib.request.Request(
            f"{url}/api/records",
            data=json.dumps(practice("despues")).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        after = _json(f"{url}/records/despues")
        assert after["proof"]["verificationMethod"].endswith("#key-2")
        out = citynode("verify", "--home", str(home), f"{url}/records/despues").stdout
        assert "signature: holds" in out

        # key-1 turns out to have been compromised since before "antes" was signed.
        at = signed_before["proof"]["created"]
        citynode("key", "revoke", "--home", str(home), "key-1", "--at", at)
        took = _until(
            lambda: _signature_in_search(url, "antes", "wifi") == "revoked",
            MINUTE,
            "the search hit shows revoked",
        )
        assert _signature_in_search(url, "despues", "wifi") == "verified"
        page = _get(f"{url}/records/antes", "text/html")[0].decode()
        # The page's signature badge (web/templates/macros.html), in the reader's language.
        assert '<span class="badge revoked">' in page and "clave revocada" in page
        listing = {
            i["id"].rsplit("/", 1)[1]: i["signature"] for i in _json(f"{url}/records")["items"]
        }
        assert listing == {"antes": "revoked", "despues": "verified"}, listing
        done = citynode("verify", "--home", str(home), f"{url}/records/antes", check=False)
        assert done.returncode == 1 and "REVOKED" in done.stdout and "key_revoked" in done.stdout
        assert took < MINUTE
        print(f"revoked in search {took:.2f} s after key revoke returned")

        # Re-signed under the current key as a new version: trusted again.
        out = citynode("key", "resign", "--home", str(home)).stdout
        assert "re-signed 1 record(s)" in out, out
        resigned = _json(f"{url}/records/antes")
        assert resigned["version"] == 2 and resigned["proof"]["verificationMethod"].endswith(
            "#key-2"
        )
        assert {k: v for k, v in resigned.items() if k not in _META} == {
            k: v for k, v in signed_before.items() if k not in _META
        }
        _until(
            lambda: _signature_in_search(url, "antes", "wifi") == "verified",
            MINUTE,
            "the re-signed record shows verified",
        )
        assert (
            "signature: holds"
            in citynode("verify", "--home", str(home), f"{url}/records/antes").stdout
        )


_META = {"version", "previousVersion", "modified", "proof"}


async def _search_status(node: RunningNode, record_id: str) -> str | None:
    _, body, _ = await request_json("GET", f"{node.url}/api/search?q=wifi&limit=50")
    return next((h["signature"] for h in body["hits"] if h["id"] == record_id), None)


async def _shows(node: RunningNode, record_id: str, status: str) -> None:
    async def check() -> bool:
        return await _search_status(node, record_id) == status

    await wait_for(check, within=20, what=f"{record_id} {status} in {node.url}'s search")


async def test_a_revocation_reaches_peers_and_relayed_copies(node_factory: Factory) -> None:
    # DID documents are cached for the default 5 minutes: only the notice can make this fast.
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    c = await node_factory("Montevideo", **FAST)
    await follow(b, a)
    await follow(c, b)  # C holds A's records only through B (a relay)
    await publish(a, practice("wifi"))
    record_id = f"{a.url}/records/wifi"
    await fed(b).worker.sync_now(a.did)
    await fed(c).worker.sync_now(b.did)
    for node in (a, b, c):  # the index follows the store: wait until it has the record
        await _shows(node, record_id, "verified")
    _, record, _ = await request_json("GET", record_id)
    at = record["proof"]["created"]

    started = time.monotonic()
    revoke = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "citynode.cli",
        "key",
        "revoke",
        "--home",
        str(a.home),
        "key-1",
        "--at",
        at,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = await revoke.communicate()
    assert revoke.returncode == 0, err.decode()

    async def revoked_everywhere() -> bool:
        return all([await _search_status(n, record_id) == "revoked" for n in (a, b, c)])

    await wait_for(revoked_everywhere, within=MINUTE, what="revoked on A, B and C")
    elapsed = time.monotonic() - started
    print(f"revoked on A, B and C {elapsed:.2f} s after the CLI started")
    assert elapsed < MINUTE
    # Remembered, not only in memory: B's store holds A's key states as A's DID document says.
    with sqlite3.connect(b.node.db.path) as db:
        rows = dict(db.execute("SELECT method, revoked FROM origin_keys WHERE did = ?", (a.did,)))
    assert rows[f"{a.did}#key-1"] == at and rows[f"{a.did}#key-2"] is None, rows
    # A signs with its new key at once, and what it signs now is trusted everywhere.
    await publish(a, practice("wifi-nuevo"))
    await fed(b).worker.sync_now(a.did)
    await fed(c).worker.sync_now(b.did)
    newer = f"{a.url}/records/wifi-nuevo"
    for node in (b, c):
        await _shows(node, newer, "verified")
    assert fed(b).key_changes.stats["sent"] >= 1  # B passed the news on to C
