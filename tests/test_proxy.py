"""The shipped nginx configuration (deploy/nginx/citynode.conf), run for real: two cities on a
private LAN in network namespaces, each behind its own nginx terminating TLS with a certificate
from a CA the test makes. Federation requests are signed end to end through both proxies,
pages come through them, and the node sees the real client behind its proxy."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable

import pytest

from tests.drafts import practice
from tests.netns import City, cities, peer_all, publish, write_drafts

__all__ = ["cities"]  # the fixture

Cities = Callable[[list[str]], Awaitable[list[City]]]


@pytest.mark.timeout(600)  # processes start slowly while the rest of the suite runs
async def test_federation_and_pages_through_nginx_with_tls(cities: Cities) -> None:
    medellin, lisboa = await cities(["Medellin", "Lisboa"])
    for city in (medellin, lisboa):
        await city.start()
    for city in (medellin, lisboa):
        await city.wait_ready()

    # Peering: each side's signed POST /fed/v1/peers crosses the other's nginx, and the
    # receiver reads the sender's DID document through the sender's nginx (https, did:web).
    await peer_all([medellin, lisboa])

    drafts = [practice(f"lisboa-{i}") for i in range(5)]
    stored = await publish(lisboa, write_drafts(lisboa.folder / "drafts.json", drafts))
    assert stored == [f"{lisboa.url}/records/lisboa-{i}" for i in range(5)]

    # A pull: signed GETs of /fed/v1/changes?after=...&limit=... through Lisboa's proxy (the
    # query string is part of @target-uri), every record verified under Lisboa's DID.
    done = await medellin.host.run(
        sys.executable, "-m", "citynode.cli", "sync", "--home", str(medellin.home), env=medellin.env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    held = medellin.held()
    assert all(record_id in held for record_id in stored), sorted(held)

    # A request signed for the node's internal address (what a proxy rewriting the target
    # would produce) is refused; the same notice signed for the public URL is accepted.
    inbox = f"{lisboa.url}/fed/v1/inbox"
    wrong = await medellin.host.agent(
        "signed", "--home", str(medellin.home), inbox,
        "--signed-for", "http://127.0.0.1:8700/fed/v1/inbox", env=medellin.env,
    )  # fmt: skip
    assert wrong["status"] == 401, wrong
    right = await medellin.host.agent(
        "signed", "--home", str(medellin.home), inbox, "--signed-for", inbox, env=medellin.env
    )
    assert right["status"] == 202, right

    # HTML through the proxy, with the request id nginx made and the node returned.
    page = await medellin.host.agent(
        "get", f"{lisboa.url}/records/lisboa-3", "--accept", "text/html", env=medellin.env
    )
    assert page["status"] == 200, page
    headers = {k.lower(): v for k, v in page["headers"].items()}
    assert headers["content-type"].startswith("text/html")
    assert "Parques con wifi lisboa-3" in page["body"] or "Parks with wifi lisboa-3" in page["body"]
    assert headers["strict-transport-security"].startswith("max-age=")
    request_id = headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    # The node's JSON log has that request, from Medellín's LAN address (X-Forwarded-For from
    # the trusted proxy), not from the proxy's loopback address.
    entries = [json.loads(line) for line in lisboa.log.read_text().splitlines() if line[:1] == "{"]
    access = [e for e in entries if e.get("request_id") == request_id]
    assert len(access) == 1 and access[0]["client"] == medellin.host.address, access
    assert access[0]["route"] == "/records/{slug}" and access[0]["status"] == 200

    # Record ids, DID document and descriptor all name the public https address.
    did = await medellin.host.agent("get", f"{lisboa.url}/.well-known/did.json", env=medellin.env)
    assert json.loads(did["body"])["id"] == lisboa.did == "did:web:" + lisboa.host.address

    # /metrics: refused to the LAN, served to the host itself.
    outside = await medellin.host.agent("get", f"{lisboa.url}/metrics", env=medellin.env)
    assert outside["status"] == 403
    inside = await lisboa.host.agent("get", "https://127.0.0.1/metrics", env=lisboa.env)
    assert inside["status"] == 200 and "citynode_records{" in inside["body"], inside["status"]
    # Plain http is sent to https.
    plain = await medellin.host.agent("get", f"http://{lisboa.host.address}/", env=medellin.env)
    assert plain["status"] == 200  # urllib followed the 301 to https
    assert not [e for city in (medellin, lisboa) for e in city.log_errors()]
