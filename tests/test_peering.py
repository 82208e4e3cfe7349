"""Peering handshake and the operator's tools: allow/deny lists, approval, the peer list, CLI."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from citynode.federation.errors import PeerRefused
from tests.drafts import practice
from tests.federation_support import FAST, bound_socket, current, fed, publish
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]
ROOT = Path(__file__).resolve().parents[1]


async def state_at(node: RunningNode, did: str) -> str | None:
    return next((p["state"] for p in await fed(node).peer_views() if p["did"] == did), None)


async def test_allow_list_auto_approves_and_others_wait_for_the_operator(
    node_factory: Factory,
) -> None:
    a_sock = bound_socket()
    a_url = f"http://127.0.0.1:{a_sock.getsockname()[1]}"
    a = await node_factory("Medellín", sock=a_sock, **FAST)
    allowing = await node_factory("Lisboa", allow=[a_url], **FAST)
    # No background worker at the waiting node: once approved, A's push notice after the
    # publish below would wake it and it could pull the record before the operator's sync
    # does, which then truly stores 0 (the race behind this test's rare failure under load).
    waiting = await node_factory("Montevideo", worker=False, **FAST)

    peer = await fed(a).peering.add(allowing.url)
    assert peer.remote_status == "accepted"
    assert await state_at(allowing, a.did) in ("due", "syncing", "idle")  # it pulls from A

    peer = await fed(a).peering.add(waiting.url)
    assert peer.remote_status == "pending"
    assert await state_at(waiting, a.did) == "pending_approval"
    # The operator approves through the API (editor token).
    status, body, _ = await request_json(
        "POST", f"{waiting.url}/api/peers/approve", json={"peer": a.url}, headers=waiting.auth()
    )
    assert status == 200 and body["state"] == "due", body
    await publish(a, practice("wifi"))
    status, body, _ = await request_json(
        "POST", f"{waiting.url}/api/peers/sync", json={"peer": a.did}, headers=waiting.auth()
    )
    # A's push notice may have had the waiting node pull it already: stored here or before.
    assert status == 200 and body["peers"][0]["stored"] in (0, 1), body
    assert await current(waiting, f"{a.url}/records/wifi") is not None


async def test_deny_lists_refuse_both_ways(node_factory: Factory) -> None:
    b_sock = bound_socket()
    b_url = f"http://127.0.0.1:{b_sock.getsockname()[1]}"
    a = await node_factory("Medellín", deny=[b_url], **FAST)
    b = await node_factory("Lisboa", sock=b_sock, **FAST)
    with pytest.raises(PeerRefused):
        await fed(a).peering.add(b.url)  # our operator cannot add a denied node by mistake
    peer = await fed(b).peering.add(a.url)
    assert peer.remote_status == "refused"  # and the denied node's request is refused
    assert await state_at(a, b.did) is None


async def test_blocked_peer_is_refused_and_not_pulled(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    await fed(b).peering.add(a.url)
    await fed(a).peering.approve(b.did)
    await fed(a).peering.block(b.did, "spam")
    await publish(b, practice("x"))
    outcomes = await fed(a).worker.sync_now(b.did)
    assert [o.stored for o in outcomes] == [0] and outcomes[0].state == "blocked"
    # B's pulls from A are refused now.
    outcomes = await fed(b).worker.sync_now(a.did)
    assert outcomes[0].state == "backoff" and "403" in (outcomes[0].error or "")


async def test_peer_api_shows_what_the_operator_needs(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    status, body, _ = await request_json("GET", f"{a.url}/api/peers")
    assert status == 401
    status, body, _ = await request_json(
        "POST", f"{a.url}/api/peers", json={"url": b.url}, headers=a.auth()
    )
    assert status == 201, body
    await publish(b, practice("uno"), practice("dos"))
    await fed(a).worker.sync_now()
    status, body, _ = await request_json("GET", f"{a.url}/api/peers", headers=a.auth())
    (view,) = body["peers"]
    assert view["city"] == "Lisboa" and view["state"] == "idle"
    assert view["cursor"] and view["lag_records"] == 0 and view["lag_seconds"] == 0
    assert view["last_success"] and view["last_error"] is None and view["rejected"] == 0
    assert view["records_pulled"] == 2


async def test_a_peer_url_the_policy_refuses_is_a_4xx(node_factory: Factory) -> None:
    node = await node_factory("Medellín", allow_private_peers=False, **FAST)
    for url, reason in (
        ("http://127.0.0.1:9", "loopback"),
        ("https://10.1.2.3", "private"),
        ("http://169.254.169.254", "metadata"),
        ("https://[::1]:8443", "loopback"),
    ):
        status, body, _ = await request_json(
            "POST", f"{node.url}/api/peers", json={"url": url}, headers=node.auth()
        )
        assert (status, body["code"]) == (422, "peer_address_refused"), (url, body)
        assert body["detail"]["reason"] == reason and "allow_private_peers" in body["message"]
    status, body, _ = await request_json(
        "POST", f"{node.url}/api/peers", json={"url": "ftp://city.example"}, headers=node.auth()
    )
    assert (status, body["code"]) == (400, "bad_url"), body
    assert await fed(node).peer_views() == []


async def run_cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "citynode.cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_cli_peer_add_list_sync_block_remove(node_factory: Factory) -> None:
    # A's own worker stays off: it would find the peer the CLI added (it polls the peers
    # table) and could pull the record before `citynode sync` does, which then says 0.
    a = await node_factory("Medellín", worker=False, **FAST)
    b = await node_factory("Lisboa", **FAST)
    await publish(b, practice("uno"))
    home = str(a.home)
    code, out = await run_cli("peer", "add", "--home", home, b.url)
    assert code == 0 and "added Lisboa" in out, out
    code, out = await run_cli("sync", "--home", home, "--peer", b.url)
    # The running node's worker may have pulled it first (peering wakes it): 1 or 0 new here.
    assert code == 0 and "new record version(s), now idle" in out, out
    assert await current(a, f"{b.url}/records/uno") is not None
    code, out = await run_cli("peer", "list", "--home", home)
    assert code == 0 and "Lisboa (CO)" in out and "idle" in out and "0 rec / 0 s" in out, out
    code, out = await run_cli("peer", "block", "--home", home, b.url, "--reason", "testing")
    assert code == 0, out
    code, out = await run_cli("peer", "list", "--home", home)
    assert "blocked" in out and "last error: testing" in out, out
    code, out = await run_cli("peer", "remove", "--home", home, b.did)
    assert code == 0, out
    code, out = await run_cli("peer", "add", "--home", home, "http://127.0.0.1:9")
    assert code == 1 and "does not answer as a citynode node" in out, out
