"""Slow clients (slow-drip headers and bodies) are cut off at their deadline and hold nothing:
everyone else is answered meanwhile, and the connections are closed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import msgspec

from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]
TIMEOUTS = {"server": {"header_timeout_seconds": 1.0, "body_timeout_seconds": 1.0}}


async def drip(
    host: str, port: int, head: bytes, body: bytes, gap: float, head_gap: float | None = None
) -> tuple[bytes, float]:
    """Send `head` then `body` a byte at a time, `head_gap` then `gap` seconds apart (a head
    gap of 0 sends it whole); what the server answered, and how long until it closed."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()

    async def send() -> None:
        with contextlib.suppress(ConnectionError):
            for chunk, pause in ((head, gap if head_gap is None else head_gap), (body, gap)):
                if not pause:
                    writer.write(chunk)
                    continue
                for i in range(len(chunk)):
                    writer.write(chunk[i : i + 1])
                    await writer.drain()
                    await asyncio.sleep(pause)

    async def read_until_closed() -> bytes:
        # A server that closes while the client still sends may reset the connection (data
        # it never read): that is a close too, and what arrived before it is the answer.
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := await reader.read(65536):
                answer += chunk
        return answer

    sender = asyncio.create_task(send())
    try:
        answer = await asyncio.wait_for(read_until_closed(), 30)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.close()
    return answer, time.monotonic() - started


async def test_slow_drip_headers_and_bodies_time_out_without_holding_others(
    node_factory: Factory,
) -> None:
    node = await node_factory(sections=TIMEOUTS)
    host, port = "127.0.0.1", int(node.url.rsplit(":", 1)[1])
    head = b"GET /records HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    body_head = (
        b"POST /api/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + node.token.encode() + b"\r\nContent-Length: 500\r\n\r\n"
    )
    slow = [drip(host, port, head, b"", 0.2) for _ in range(30)]
    slow += [drip(host, port, body_head, b"[" + b" " * 498 + b"]", 0.05, 0) for _ in range(10)]
    gathered = asyncio.gather(*slow)
    # While 40 slow clients are connected, everyone else is answered at once.
    for _ in range(20):
        status, body, _ = await request_json("GET", f"{node.url}/healthz")
        assert status == 200 and body == {"status": "alive"}
    answers = await gathered

    for answer, seconds in answers[:30]:
        # Cut off with no answer at all, about a header timeout after connecting (the head
        # would have taken 45 s at this pace).
        assert answer == b"", answer[:200]
        assert seconds < 10, seconds
    for answer, seconds in answers[30:]:
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 408 Request Timeout", answer[:200]
        error = msgspec.json.decode(rest.split(b"\r\n\r\n", 1)[1])
        assert error["code"] == "request_timeout"
        assert seconds < 10, seconds
    counters = await node.node.counters()
    assert sum(counters["rejected.request_timeout"].values()) == 10

    # A client that takes its time within the deadlines is served normally.
    answer, _ = await drip(
        host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"", 0.005
    )
    assert answer.startswith(b"HTTP/1.1 200 OK"), answer[:200]
