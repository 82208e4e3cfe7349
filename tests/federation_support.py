"""Helpers for the federation tests: peering real nodes, bounded waits, held records."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tantivy import Query

from citynode.federation.service import Federation
from citynode.storage import records as store
from citynode.web.keys import FEDERATION, SEARCH
from protocol import proofs
from protocol.cursor import START, encode_cursor
from protocol.did import KeyEntry, build_did_document, did_from_base_url
from protocol.httpsig.signing import sign_request
from protocol.messages import Endpoints, NodeDescriptor, PeerResponse, encode_message
from tests.support import RunningNode, request_json

#: Short timings so a test never waits long; every wait below is a bounded poll.
FAST: dict[str, Any] = {
    "request_timeout_seconds": 2.0,
    "did_refresh_seconds": 0.0,
    "notice_min_gap_seconds": 0.0,
    "push_debounce_seconds": 0.01,
}


def fed(node: RunningNode) -> Federation:
    return node.runner.app[FEDERATION]


async def follow(follower: RunningNode, followed: RunningNode) -> None:
    """`follower` adds `followed` as a peer and `followed`'s operator approves it back."""
    await fed(follower).peering.add(followed.url)
    await fed(followed).peering.approve(follower.did)


async def publish(node: RunningNode, *drafts: dict[str, Any]) -> Any:
    status, body, _ = await request_json(
        "POST", f"{node.url}/api/records", json=list(drafts), headers=node.auth()
    )
    assert status == 201, body
    return body


async def wait_for(
    check: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "condition"
) -> float:
    """Poll `check` until true; the seconds it took. Fails the test after `timeout`."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > within:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def current(node: RunningNode, record_id: str) -> store.StoredRecord | None:
    return await store.get_current(node.node.db.reader, record_id)


async def versions(node: RunningNode) -> dict[str, int]:
    """id -> current version of every record held (own and replicated, tombstones too)."""
    async with node.node.db.reader.execute("SELECT id, version FROM current") as cursor:
        return {row[0]: row[1] for row in await cursor.fetchall()}


async def stored_rows(node: RunningNode) -> list[tuple[str, int]]:
    async with node.node.db.reader.execute("SELECT id, version FROM records") as cursor:
        return [(row[0], row[1]) for row in await cursor.fetchall()]


def bound_socket(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (a given port: a node restarting where it was)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class Hostile:
    """A peer that is not a citynode: it signs its requests with its own key and serves whatever
    the test sets as its changes feed (garbage, forged records...). Not a mock of our HTTP: a
    real server on loopback, the way a hostile peer on the network would be."""

    def __init__(self) -> None:
        self.sock = bound_socket()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.did = did_from_base_url(self.url)
        self.key = Ed25519PrivateKey.generate()
        self.keyid = f"{self.did}#key-1"
        self.feed: Callable[[web.Request], Awaitable[web.StreamResponse]] = self._empty
        self.requests: list[str] = []
        app = web.Application()
        app.router.add_get("/.well-known/did.json", self._did_document)
        app.router.add_get("/.well-known/citynode", self._descriptor)
        app.router.add_get("/fed/v1/changes", self._changes)
        app.router.add_post("/fed/v1/peers", self._peers)
        app.router.add_post("/fed/v1/inbox", self._inbox)
        self.runner = web.AppRunner(app, access_log=None)

    async def start(self) -> Hostile:
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    def serve_items(self, items: list[dict[str, Any]]) -> None:
        body = msgspec.json.encode(
            {
                "type": "ChangesPage",
                "node": self.did,
                "items": items,
                "next": encode_cursor(len(items)),
                "hasMore": False,
            }
        )

        async def feed(request: web.Request) -> web.Response:
            after = request.query.get("after")
            if after and after != START:
                return web.Response(
                    body=msgspec.json.encode(
                        {"type": "ChangesPage", "node": self.did, "items": [], "next": after}
                    ),
                    content_type="application/json",
                )
            return web.Response(body=body, content_type="application/json")

        self.feed = feed

    def sign_record(self, document: dict[str, Any], key: Ed25519PrivateKey, method: str) -> dict:
        unsigned = {k: v for k, v in document.items() if k != "proof"}
        return proofs.sign(unsigned, key, method, unsigned["modified"])

    def signed_headers(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        *,
        created: int | None = None,
        keyid: str | None = None,
    ) -> dict[str, str]:
        created = int(time.time()) if created is None else created
        headers = {"Content-Type": "application/json"} if body else {}
        headers.update(
            sign_request(
                method,
                url,
                headers,
                body,
                self.key,
                keyid or self.keyid,
                created,
                created + 300,
                secrets.token_urlsafe(16),
            )
        )
        return headers

    async def _empty(self, request: web.Request) -> web.Response:
        return web.Response(
            body=msgspec.json.encode(
                {"type": "ChangesPage", "node": self.did, "items": [], "next": START}
            ),
            content_type="application/json",
        )

    async def _did_document(self, request: web.Request) -> web.Response:
        key = KeyEntry(
            fragment="key-1",
            public_key=self.key.public_key(),
            created=datetime(2020, 1, 1, tzinfo=UTC),
        )
        document = build_did_document(self.did, [key], f"{self.url}/.well-known/citynode")
        return web.json_response(document)

    async def _descriptor(self, request: web.Request) -> web.Response:
        descriptor = NodeDescriptor(
            did=self.did,
            base_url=self.url,
            name="Hostile",
            country="ZZ",
            endpoints=Endpoints(
                changes=f"{self.url}/fed/v1/changes",
                inbox=f"{self.url}/fed/v1/inbox",
                did_document=f"{self.url}/.well-known/did.json",
                peers=f"{self.url}/fed/v1/peers",
            ),
        )
        return web.Response(body=encode_message(descriptor), content_type="application/json")

    async def _changes(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(str(request.rel_url))
        return await self.feed(request)

    async def _peers(self, request: web.Request) -> web.Response:
        return web.Response(
            body=encode_message(PeerResponse(status="accepted")), content_type="application/json"
        )

    async def _inbox(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=202)


def indexed_ids(node: RunningNode) -> set[str]:
    """The record ids a running node's search index holds (every live document)."""
    engine = node.runner.app[SEARCH].engine
    searcher = engine.searcher
    found = searcher.search(Query.all_query(), max(1, searcher.num_docs), count=False)
    return {searcher.doc(address)["id"][0] for _, address in found.hits}
