"""The guarded outbound client, against real aiohttp servers on loopback (no mocks of HTTP).

Tests only ever talk to 127.0.0.0/8: a guard on the event loop's `sock_connect` records every
connection and fails the test on any other address, so a refused target is proved refused
before a connection was attempted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from citynode.addresses import AddressPolicy, address_category
from citynode.errors import (
    OutboundBackoff,
    OutboundBadContentType,
    OutboundBadStatus,
    OutboundBadUrl,
    OutboundConnectionFailed,
    OutboundRefused,
    OutboundTimeout,
    OutboundTooLarge,
    OutboundTooManyRedirects,
)
from citynode.outbound import GuardedClient, make_signer
from protocol.httpsig.verification import verify_request

KEYID = "did:web:medellin.example#key-1"


class Connections:
    """Every address the event loop was asked to connect to."""

    def __init__(self) -> None:
        self.addresses: list[str] = []


@pytest.fixture
async def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    record = Connections()
    loop = asyncio.get_running_loop()
    original = loop.sock_connect

    async def guarded(sock: socket.socket, address: Any) -> None:
        host = address[0]
        record.addresses.append(host)
        if not (host.startswith("127.") or host == "::1"):
            raise AssertionError(f"a test tried to connect to {host}")
        await original(sock, address)

    monkeypatch.setattr(loop, "sock_connect", guarded)
    return record


pytestmark = pytest.mark.usefixtures("connections")


@asynccontextmanager
async def serve(*routes: web.RouteDef, hits: list[str] | None = None) -> AsyncIterator[str]:
    """A real server on 127.0.0.1:0; yields its base URL."""

    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        if hits is not None:
            hits.append(request.path_qs)
        return await handler(request)  # type: ignore[no-any-return]

    app = web.Application(middlewares=[count])
    app.add_routes(routes)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


class NameResolver(AbstractResolver):
    """Answers for test names (aiohttp's fake_server trick); counts lookups."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in addresses
        ]

    async def close(self) -> None:
        pass


def client(**options: Any) -> GuardedClient:
    options.setdefault("allow_http", True)
    options.setdefault("timeout", 5.0)
    return GuardedClient(**options)


async def ok_json(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "path": request.path_qs})


# --- Address policy ---


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.1.1", "link_local"),
        ("fe80::1", "link_local"),
        ("100.64.0.1", "shared"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("64:ff9b::a00:1", "private"),
        ("2002:a00:1::", "private"),
    ],
)
async def test_address_categories(address: str, category: str | None) -> None:
    assert address_category(ipaddress.ip_address(address)) == category


async def test_policy_allow_private_never_allows_metadata() -> None:
    open_policy = AddressPolicy.build(True)
    assert open_policy.refusal(ipaddress.ip_address("10.0.0.1")) is None
    assert open_policy.refusal(ipaddress.ip_address("169.254.169.254")) == "metadata"
    assert open_policy.refusal(ipaddress.ip_address("0.0.0.0")) == "unspecified"
    narrow = AddressPolicy.build(False, ["127.0.0.0/8"])
    assert narrow.refusal(ipaddress.ip_address("127.0.0.2")) is None
    assert narrow.refusal(ipaddress.ip_address("::1")) == "loopback"


# --- Refusals before any connection ---

SSRF_TARGETS = [
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00:ec2::254]/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://127.0.0.1:1/",
]


@pytest.mark.parametrize("url", SSRF_TARGETS)
async def test_ssrf_targets_refused_without_connecting(connections: Connections, url: str) -> None:
    resolver = NameResolver({})
    async with client(resolver=resolver) as http:
        with pytest.raises(OutboundRefused):
            await http.get_json(url)
        assert http.stats["ssrf_refused"] == 1
    assert connections.addresses == []
    assert resolver.lookups == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://[ff02::1]/",
    ],
)
async def test_some_targets_refused_even_with_private_allowed(
    connections: Connections, url: str
) -> None:
    async with client(allow_private=True) as http:
        with pytest.raises(OutboundRefused):
            await http.get_json(url)
    assert connections.addresses == []


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "file:///etc/passwd", "http://user:pw@127.0.0.1/", "http:///x"]
)
async def test_bad_urls(url: str) -> None:
    async with client(allow_private=True) as http:
        with pytest.raises(OutboundBadUrl):
            await http.get_json(url)


async def test_http_needs_allow_http(connections: Connections) -> None:
    async with client(allow_private=True, allow_http=False) as http:
        with pytest.raises(OutboundBadUrl):
            await http.get_json("http://127.0.0.1:9/")
    assert connections.addresses == []


async def test_names_resolving_to_refused_addresses(connections: Connections) -> None:
    resolver = NameResolver(
        {
            "inside.test": [["10.0.0.7"]],
            "mixed.test": [["127.0.0.1", "10.0.0.5"]],
            "metadata.test": [["169.254.169.254"]],
        }
    )
    async with client(resolver=resolver, allow_networks=["127.0.0.0/8"]) as http:
        for name in resolver.answers:
            with pytest.raises(OutboundRefused):
                await http.get_json(f"http://{name}/")
        assert http.stats["ssrf_refused"] == 3
    assert sorted(resolver.lookups) == sorted(resolver.answers)
    assert connections.addresses == []


# --- Loopback: refused, then allowed ---


async def test_loopback_refused_unless_private_allowed(connections: Connections) -> None:
    hits: list[str] = []
    async with serve(web.get("/x", ok_json), hits=hits) as base:
        async with client() as http:
            with pytest.raises(OutboundRefused):
                await http.get_json(f"{base}/x")
        assert hits == [] and connections.addresses == []
        async with client(allow_private=True) as http:
            assert await http.get_json(f"{base}/x") == b'{"ok": true, "path": "/x"}'
        assert hits == ["/x"]
        async with client(allow_networks=["127.0.0.1/32"]) as http:
            await http.get_json(f"{base}/x")
        assert hits == ["/x", "/x"]


async def test_names_are_pinned_to_the_checked_address(connections: Connections) -> None:
    async with serve(web.get("/x", ok_json)) as first, serve(web.get("/x", ok_json)) as second:
        port1, port2 = first.rsplit(":", 1)[1], second.rsplit(":", 1)[1]
        resolver = NameResolver({"peer.test": [["127.0.0.1"], ["10.9.9.9"]]})
        async with client(resolver=resolver, allow_networks=["127.0.0.0/8"]) as http:
            assert b'"ok": true' in await http.get_json(f"http://peer.test:{port1}/x")
            # A pooled connection goes on to the address checked when it was opened.
            await http.get_json(f"http://peer.test:{port1}/x")
            assert resolver.lookups == ["peer.test"]
            # The name now answers a private address: a new connection checks it again.
            with pytest.raises(OutboundRefused):
                await http.get_json(f"http://peer.test:{port2}/x")
            assert resolver.lookups == ["peer.test", "peer.test"]
    assert set(connections.addresses) == {"127.0.0.1"}
    assert len(connections.addresses) == 1


# --- Redirects ---


async def test_redirects_are_followed_and_rechecked(connections: Connections) -> None:
    async def hop(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/hop/{n - 1}" if n > 0 else "/x")

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["where"])

    async with (
        serve(web.get("/hop/{n}", hop), web.route("*", "/to", to), web.get("/x", ok_json)) as base,
        client(allow_networks=["127.0.0.0/8"]) as http,
    ):
        assert b'"/x"' in await http.get_json(f"{base}/hop/2")  # 3 redirects: allowed
        assert http.stats["redirects"] == 3
        with pytest.raises(OutboundTooManyRedirects):
            await http.get_json(f"{base}/hop/3")
        for target in [
            "http://10.0.0.1/",
            "http://169.254.169.254/",
            "http://[::1]/",
            "http://2130706433/",
        ]:
            with pytest.raises(OutboundRefused):
                await http.get_json(f"{base}/to?where={target}")
        with pytest.raises(OutboundTooManyRedirects):
            await http.post_json(f"{base}/to?where=/x", b"{}")
    assert set(connections.addresses) == {"127.0.0.1"}


async def test_redirect_to_a_name_that_resolves_inside(connections: Connections) -> None:
    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://internal.test/admin")

    resolver = NameResolver({"internal.test": [["192.168.0.1"]]})
    async with (
        serve(web.get("/to", to)) as base,
        client(resolver=resolver, allow_networks=["127.0.0.0/8"]) as http,
    ):
        with pytest.raises(OutboundRefused):
            await http.get_json(f"{base}/to")
    assert resolver.lookups == ["internal.test"]
    assert set(connections.addresses) == {"127.0.0.1"}


# --- Size and time ---


async def test_oversized_body_is_aborted() -> None:
    async def big(request: web.Request) -> web.Response:
        return web.json_response({"pad": "x" * 5000})

    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            for _ in range(10_000):
                await response.write(b"x" * 65536)
                sent.append(1)
        except ConnectionResetError:
            pass
        return response

    async with (
        serve(web.get("/big", big), web.get("/endless", endless)) as base,
        client(allow_private=True) as http,
    ):
        with pytest.raises(OutboundTooLarge):
            await http.get_json(f"{base}/big", max_bytes=1000)  # Content-Length says so
        assert await http.get_json(f"{base}/big", max_bytes=6000)
        started = time.monotonic()
        with pytest.raises(OutboundTooLarge):
            await http.get_json(f"{base}/endless", max_bytes=200_000)  # chunked, no length
        assert time.monotonic() - started < 3
        assert http.stats["too_large"] == 2
    assert len(sent) < 10_000  # the server saw the connection go away


async def test_slow_server_times_out() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.json_response({})

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(b" ")
            await asyncio.sleep(0.1)
        return response

    async with (
        serve(web.get("/slow", slow), web.get("/trickle", trickle)) as base,
        client(allow_private=True, backoff_base=0.0) as http,
    ):
        for path in ("/slow", "/trickle"):
            started = time.monotonic()
            with pytest.raises(OutboundTimeout):
                await http.get_json(f"{base}{path}", deadline=0.3)
            # Semantics, not speed: the server would take 10 s; the deadline ended it.
            assert time.monotonic() - started < 5
        assert http.stats["timeout"] == 2


# --- Statuses, media types, backoff ---


async def test_bad_status_and_content_type() -> None:
    async def text(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPGone()

    async with (
        serve(web.get("/text", text), web.get("/gone", missing)) as base,
        client(allow_private=True) as http,
    ):
        with pytest.raises(OutboundBadContentType):
            await http.get_json(f"{base}/text")
        with pytest.raises(OutboundBadStatus) as caught:
            await http.get_json(f"{base}/gone")
        assert caught.value.http_status == 410 and caught.value.sync_kind == "gone"


async def test_host_backoff_after_server_errors() -> None:
    hits: list[str] = []
    now = [1000.0]

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, headers={"Retry-After": "30"})

    async with (
        serve(web.get("/broken", broken), hits=hits) as base,
        client(allow_private=True, clock=lambda: now[0]) as http,
    ):
        with pytest.raises(OutboundBadStatus) as caught:
            await http.get_json(f"{base}/broken")
        assert caught.value.sync_kind == "server_error"
        assert caught.value.detail["retry_after"] == 30
        with pytest.raises(OutboundBackoff):
            await http.get_json(f"{base}/broken")
        assert len(hits) == 1
        now[0] += 31
        with pytest.raises(OutboundBadStatus):
            await http.get_json(f"{base}/broken")
        assert len(hits) == 2


async def test_connection_refused_is_a_connection_failure() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with client(allow_private=True, clock=lambda: 1000.0) as http:
        with pytest.raises(OutboundConnectionFailed) as caught:
            await http.get_json(f"http://127.0.0.1:{port}/")
        assert caught.value.sync_kind == "network"
        with pytest.raises(OutboundBackoff):
            await http.get_json(f"http://127.0.0.1:{port}/")


# --- Signing ---


async def test_requests_are_signed_and_verify_at_the_receiver() -> None:
    key = Ed25519PrivateKey.generate()
    seen: dict[str, int] = {}
    verified: list[tuple[str, ...]] = []

    def seen_nonce(nonce: str, until: int) -> bool:
        if nonce in seen:
            return True
        seen[nonce] = until
        return False

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        # The receiver rebuilds the target URI from its base URL and the raw path.
        url = f"http://127.0.0.1:{request.url.port}{request.raw_path}"
        result = verify_request(
            request.method,
            url,
            request.headers,
            body,
            {KEYID: key.public_key()}.__getitem__,
            int(time.time()),
            seen_nonce=seen_nonce,
        )
        verified.append(result.covered)
        return web.json_response({"accepted": True}, status=202 if body else 200)

    async with serve(web.post("/fed/v1/inbox", inbox), web.get("/fed/v1/changes", inbox)) as base:
        signer = make_signer(key, KEYID)
        async with client(allow_private=True, signer=signer) as http:
            response = await http.post_json(f"{base}/fed/v1/inbox", b'{"type":"InboxNotice"}')
            assert response.status == 202
            assert await http.get_json(f"{base}/fed/v1/changes?after=1.AQ&limit=50")
            with pytest.raises(OutboundBadStatus):  # unsigned: the handler refuses (500 here)
                await http.get_json(f"{base}/fed/v1/changes", sign=False)
    assert verified == [
        ("@method", "@target-uri", "content-digest"),
        ("@method", "@target-uri"),
    ]


async def test_lifetime() -> None:
    http = client()
    with pytest.raises(RuntimeError):
        await http.get_json("https://example.org/")
    await http.start()
    await http.start()
    await http.close()
    await http.close()
    with pytest.raises(RuntimeError):
        await http.get_json("https://example.org/")
