"""The previous release (v0.1.0, built from the commit tests/release.py pins it to, with its own
lock file, in a cached venv) and this code side by side, syncing both ways (issue 9 item 4:
additions stay additive within citynode/v1).

- The new node reads everything the old one publishes.
- The old node reads what the new one publishes in the terms it knows; a record that uses the
  new terms (an indicator IRI, a French title, adaptedFrom) is refused by the old node, which
  is the old release's own rule, and the rest of the page is still taken: the federation goes on.
- The descriptor and every /fed/ message of the new node are read by the old one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from citynode.storage import records as store
from tests.federation_support import FAST, fed, publish, wait_for
from tests.release import OldNode, free_port, release_venv
from tests.support import RunningNode, free_socket, request_json

TAG = "v0.1.0"
STATUS = "https://w3id.org/citynode/status#ongoing"
IND = "https://w3id.org/citynode/indicator#"


@pytest.fixture
def old_node(tmp_path: Path) -> OldNode:
    executable = release_venv(TAG)
    return OldNode(executable, tmp_path / "old", f"http://127.0.0.1:{free_port()}")


@pytest.mark.timeout(600)  # the first run builds the old release's venv (cached afterwards)
async def test_old_and_new_releases_sync_both_ways(
    old_node: OldNode, node_factory: Callable[..., Awaitable[RunningNode]], tmp_path: Path
) -> None:
    sock = free_socket()
    new_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    old_node.init("Envigado", allow=[new_url])
    drafts = tmp_path / "old-drafts.jsonld"
    drafts.write_text(
        json.dumps(
            [
                {
                    "id": "records/huertas",
                    "type": "Project",
                    "title": {"es": "Huertas comunitarias conectadas"},
                    "summary": {"es": "Sensores y datos abiertos en huertas de barrio."},
                    "status": STATUS,
                }
            ]
        ),
        encoding="utf-8",
    )
    old_node.run("publish", str(drafts))
    old_node.serve()
    try:
        new = await node_factory("Medellín", sock=sock, allow=[old_node.url], **FAST)
        await publish(
            new,
            {
                "id": "records/plain",
                "type": "Programme",
                "title": {"es": "Formación digital"},
                "summary": {"es": "Cursos en bibliotecas."},
                "status": STATUS,
            },
            {
                "id": "records/new-terms",
                "type": "Programme",
                "title": {"fr": "Ateliers numériques"},
                "summary": {"fr": "Des ateliers dans les médiathèques."},
                "status": STATUS,
                "stage": "https://w3id.org/citynode/stage#pilot",
            },
            {
                "id": "records/plain-result",
                "type": "Result",
                "resultOf": "records/plain",
                "title": {"es": "Personas formadas"},
                "status": STATUS,
                "measurements": [
                    {
                        "type": "Measurement",
                        "indicator": {"es": "Personas formadas"},
                        "value": 120,
                        "unit": "personas",
                        "period": "2024",
                    }
                ],
            },
        )
        # The new node peers with the old one (the old node's allow list approves it).
        await fed(new).peering.add(old_node.url)
        # new <- old: everything the old release publishes is read.
        await fed(new).worker.sync_now()
        old_id = f"{old_node.url}/records/huertas"
        assert await store.get_current(new.node.db.reader, old_id) is not None
        # old <- new: the old node asks to peer (the new node's allow list approves), then pulls.
        await old_node.call("peer", "add", new.url)
        out = await old_node.call("sync")
        assert "Medellín" in out, out
        _, listing, _ = await request_json("GET", f"{old_node.url}/records?origin=all")
        held = {item["id"] for item in listing["items"]}
        assert f"{new.url}/records/plain" in held
        assert f"{new.url}/records/plain-result" in held
        # The record in the new terms is the old release's to refuse, and it does; the rest of
        # the page was taken, and the old node's record still reaches the new node.
        assert f"{new.url}/records/new-terms" not in held
        listed = await old_node.call("peer", "list")
        assert "Medellín" in listed
        # A second round in both directions finds nothing new and fails nothing.
        out = await old_node.call("sync")
        assert "last error" not in out, out
        for outcome in await fed(new).worker.sync_now():
            assert not outcome.error, outcome

        async def both_hold_each_other() -> bool:
            return await store.get_current(new.node.db.reader, old_id) is not None

        await wait_for(both_hold_each_other, what="the old node's record at the new node")
    finally:
        old_node.stop()
