"""The kit's own node: a throwaway did:web identity served on loopback, with a scripted feed.

The node under test reads the kit's DID document to check the kit's signatures, pulls its
changes feed once peered, and sends it signed requests; every request the node sends here is
verified against the node's own DID document (docs/protocol.md 5), and kept for the checks.

The feed (docs/protocol.md 7.1) is two pages with cursors of the kit's own making (not citynode
sequence numbers: a node must treat cursors as opaque), holding a record `a` (version 1), a
record `b` whose proof was broken after signing, then `a`'s tombstone (version 2), a record `c`,
a record `d` with a term no vocabulary defines, and a stale copy of `a` version 1 again.
"""

from __future__ import annotations

import copy
import secrets
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocol import proofs
from protocol.did import (
    KeyEntry,
    build_did_document,
    did_from_base_url,
    format_timestamp,
    keys_from_document,
    parse_did_document,
)
from protocol.errors import ProtocolError
from protocol.httpsig.profile import TAG
from protocol.httpsig.verification import verify_request
from protocol.messages import (
    ChangesPage,
    Endpoints,
    NodeDescriptor,
    PeerResponse,
    encode_message,
)
from protocol.records import RECORD_CONTEXT

#: The kit's feed cursors: opaque, and nothing like a citynode cursor.
FIRST: Final = "kit~page-2"
LAST: Final = "kit~end"
_encode = msgspec.json.Encoder().encode


class Seen(msgspec.Struct, kw_only=True):
    """One request the node under test sent to the kit."""

    method: str
    path: str
    query: dict[str, str]
    at: float
    #: None when the signature verified, else the protocol's error code.
    refused: str | None = None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=_encode({"code": code, "message": message, "detail": {}}),
        content_type="application/json",
    )


class KitPeer:
    """The kit's node. `start()` serves it; `stop()` ends it."""

    def __init__(self, sock: socket.socket | None = None, public_url: str | None = None) -> None:
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.url = (public_url or f"http://{host}:{port}").rstrip("/")
        self.did = did_from_base_url(self.url)
        self.key = Ed25519PrivateKey.generate()
        self.keyid = f"{self.did}#key-1"
        #: A key the kit's DID document never lists: what a forger holds.
        self.stranger = Ed25519PrivateKey.generate()
        self.created = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        self.seen: list[Seen] = []
        self.did_reads = 0
        self.target_keys: dict[str, Ed25519PublicKey] = {}
        self.target_base = ""
        self._nonces: set[str] = set()
        self.records = self._records()
        app = web.Application(client_max_size=256 * 1024)
        app.router.add_get("/.well-known/did.json", self._did_document)
        app.router.add_get("/.well-known/citynode", self._descriptor)
        app.router.add_get("/fed/v1/changes", self._changes)
        app.router.add_post("/fed/v1/inbox", self._inbox)
        app.router.add_post("/fed/v1/peers", self._peers)
        app.router.add_post("/fed/v1/digest", self._unsupported)
        self.runner = web.AppRunner(app, access_log=None)

    async def start(self) -> KitPeer:
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    def trust(self, target_base: str, did_document: Mapping[str, Any]) -> None:
        """Check the node's requests against the `authentication` keys of its DID document."""
        self.target_base = target_base.rstrip("/")
        document = parse_did_document(dict(did_document))
        self.target_keys = {
            key_id: entry.public_key
            for key_id, entry in keys_from_document(document, "authentication").items()
        }

    # --- what the kit is -----------------------------------------------------------------

    def did_document(self) -> dict[str, Any]:
        key = KeyEntry(fragment="key-1", public_key=self.key.public_key(), created=self.created)
        return build_did_document(self.did, [key], f"{self.url}/.well-known/citynode")

    def descriptor(self) -> NodeDescriptor:
        return NodeDescriptor(
            did=self.did,
            base_url=self.url,
            name="citynode conformance kit",
            country="ZZ",
            languages=["en"],
            endpoints=Endpoints(
                changes=f"{self.url}/fed/v1/changes",
                inbox=f"{self.url}/fed/v1/inbox",
                did_document=f"{self.url}/.well-known/did.json",
                peers=f"{self.url}/fed/v1/peers",
            ),
        )

    def _record(self, slug: str, version: int, signed_at: datetime, **extra: Any) -> dict[str, Any]:
        stamp = format_timestamp(signed_at)
        record: dict[str, Any] = {
            "@context": list(RECORD_CONTEXT),
            "type": "Project",
            "id": f"{self.url}/records/{slug}",
            "version": version,
            "issued": format_timestamp(self.created),
            "modified": stamp,
            "publisher": self.did,
            "title": {"en": f"Conformance kit record {slug}"},
            "summary": {"en": "A record the conformance kit serves to the node under test."},
            "status": "https://w3id.org/citynode/status#ongoing",
            "illustrative": True,
            **extra,
        }
        return proofs.sign(record, self.key, self.keyid, stamp)

    def _records(self) -> dict[str, dict[str, Any]]:
        at = self.created + timedelta(hours=1)
        a1 = self._record("a", 1, at)
        forged = self._record("b", 1, at)
        forged["title"] = {"en": "Changed after signing"}
        a2: dict[str, Any] = {
            "@context": list(RECORD_CONTEXT),
            "type": "Tombstone",
            "id": a1["id"],
            "version": 2,
            "previousVersion": f"{a1['id']}/versions/1",
            "issued": a1["issued"],
            "modified": format_timestamp(at + timedelta(minutes=5)),
            "publisher": self.did,
            "formerType": "Project",
            "reason": {"en": "Withdrawn by the conformance kit"},
        }
        a2 = proofs.sign(a2, self.key, self.keyid, a2["modified"])
        c1 = self._record("c", 1, at + timedelta(minutes=10))
        # A term no vocabulary defines (what a newer node's record looks like to an older one).
        d1 = self._record("d", 1, at + timedelta(minutes=15), conformanceKitNote={"en": "new"})
        return {"a1": a1, "b": forged, "a2": a2, "c1": c1, "d1": d1}

    def pages(self) -> dict[str | None, ChangesPage]:
        r = self.records
        return {
            None: ChangesPage(node=self.did, items=[r["a1"], r["b"]], next=FIRST, has_more=True),
            FIRST: ChangesPage(
                node=self.did,
                items=[r["a2"], r["c1"], r["d1"], copy.deepcopy(r["a1"])],
                next=LAST,
            ),
            LAST: ChangesPage(node=self.did, items=[], next=LAST),
        }

    # --- what the node under test asks ---------------------------------------------------

    def _check(self, request: web.Request, body: bytes) -> Seen:
        seen = Seen(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            at=time.monotonic(),
        )
        if not self.target_keys:
            seen.refused = "unknown_key"
        else:
            try:
                verify_request(
                    request.method,
                    self.url + request.raw_path,
                    request.headers,
                    body,
                    self.target_keys.__getitem__,
                    int(time.time()),
                    seen_nonce=self._seen_nonce,
                    tag=TAG,
                )
            except ProtocolError as exc:
                seen.refused = exc.code
        self.seen.append(seen)
        return seen

    def _seen_nonce(self, nonce: str, until: int) -> bool:
        if nonce in self._nonces:
            return True
        self._nonces.add(nonce)
        return False

    async def _did_document(self, request: web.Request) -> web.Response:
        self.did_reads += 1
        return web.Response(body=_encode(self.did_document()), content_type="application/did+json")

    async def _descriptor(self, request: web.Request) -> web.Response:
        return web.Response(body=encode_message(self.descriptor()), content_type="application/json")

    async def _changes(self, request: web.Request) -> web.Response:
        seen = self._check(request, b"")
        if seen.refused:
            return _error(401, seen.refused, "the kit could not verify this request's signature")
        after = request.query.get("after") or None
        page = self.pages().get(after)
        if page is None:
            return _error(400, "invalid_cursor", f"the kit never issued the cursor {after!r}")
        return web.Response(body=encode_message(page), content_type="application/json")

    async def _inbox(self, request: web.Request) -> web.Response:
        seen = self._check(request, await request.read())
        if seen.refused:
            return _error(401, seen.refused, "the kit could not verify this request's signature")
        return web.Response(
            status=202, body=b'{"status":"ignored"}', content_type="application/json"
        )

    async def _peers(self, request: web.Request) -> web.Response:
        seen = self._check(request, await request.read())
        if seen.refused:
            return _error(401, seen.refused, "the kit could not verify this request's signature")
        answer = PeerResponse(status="accepted", descriptor=self.descriptor())
        return web.Response(body=encode_message(answer), content_type="application/json")

    async def _unsupported(self, request: web.Request) -> web.Response:
        self._check(request, await request.read())
        return _error(404, "not_found", "the kit serves no digests")

    def fresh_nonce(self) -> str:
        return secrets.token_urlsafe(16)
