"""The conformance kit (docs/protocol.md 12) against our node, and against a broken one.

Our node must pass every requirement. The broken node is a real node started here with faults
injected by this file only (a middleware that rewrites answers, and subclasses of the node's
own parts swapped in while it runs): for each fault, the kit must fail the requirement the fault
breaks and name it. Nothing in the production code knows about these faults.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from citynode.app import create_app
from citynode.config import build_config, load_config
from citynode.conformance.kit import run_conformance
from citynode.conformance.report import REQUIREMENTS, Report
from citynode.federation.feed import Feed
from citynode.federation.inbound import InboundGuard, RateLimiter
from citynode.federation.ingest import Ingest, Prepared
from citynode.federation.peering import Peering
from citynode.federation.service import Federation
from citynode.federation.verifier import Verdict, Verifier
from citynode.federation.worker import Worker
from citynode.node import create_home
from citynode.server import NodeRunner
from citynode.storage import peers as peer_store
from citynode.storage.peers import Peer
from citynode.storage.records import now_utc
from citynode.storage.tokens import add_token, new_token
from citynode.web.keys import FEDERATION
from protocol.cursor import START
from protocol.errors import (
    BadSignature,
    DigestMismatch,
    InvalidCursor,
    ProtocolError,
    UnknownKey,
)
from protocol.httpsig.profile import TAG
from protocol.httpsig.verification import read_signature
from protocol.messages import ChangesPage, InboxNotice
from protocol.records import parse_record
from tests.drafts import practice
from tests.federation_support import FAST, bound_socket, publish
from tests.support import RunningNode, request_json

#: fault -> the requirements it must make fail (others may fail with it; these must).
FAULTS: dict[str, set[str]] = {
    "descriptor-wrong-did": {"descriptor"},
    "did-document-no-authentication": {"did-document"},
    "accept-unsigned": {"unsigned-refused"},
    "no-challenge": {"refusal-challenge"},
    "skip-signature-bytes": {"forged-refused", "tampered-refused"},
    "no-replay-cache": {"replay-refused"},
    "ignore-expires": {"expired-refused"},
    "no-max-age": {"stale-refused"},
    "no-clock-skew-limit": {"future-refused"},
    "any-key-of-signer": {"unknown-key-refused"},
    "any-tag": {"other-tag-ignored"},
    "skip-digest": {"digest-checked"},
    "digest-optional": {"digest-covered"},
    "no-body-cap": {"oversized-refused"},
    "json-errors-500": {"malformed-refused", "deep-refused"},
    "feed-wrong-node": {"feed-page"},
    "ignore-limit": {"feed-limit"},
    "has-more-false": {"feed-paging"},
    "empty-page-rewinds": {"feed-resume"},
    "lenient-cursor": {"feed-bad-cursor"},
    "tamper-feed-item": {"feed-items-verify"},
    "serve-stale-version": {"feed-versions"},
    "record-after-tombstone": {"feed-tombstones"},
    "digest-off-by-one": {"digest"},
    "search-too-many-hits": {"search"},
    "inbox-accepts-strangers": {"notice-before-peering", "notice-sender-mismatch"},
    "peer-request-odd-status": {"peer-request"},
    "peer-request-no-check": {"peer-request-mismatch"},
    "expired-pull-signatures": {"pulls-signed"},
    "mangle-cursors": {"pull-paging"},
    "accept-forged-records": {"ingest-verifies"},
    "drop-tombstones": {"ingest-tombstone"},
    "refuse-unknown-terms": {"ingest-unknown-terms"},
    "inbox-bad-cursor-accepted": {"notice-bad-cursor"},
    "notice-no-pull": {"notice-accepted"},
    "key-notice-refused": {"key-notice"},
    "plain-text-errors": {"error-shape"},
}


#: The faults switched on for one node (this file's middleware reads them).
FAULTS_ON = web.AppKey("faults", set[str])


def _has(request: web.Request, fault: str) -> bool:
    return fault in request.app[FAULTS_ON]


async def _json_of(response: web.StreamResponse) -> Any:
    assert isinstance(response, web.Response) and response.body is not None
    return msgspec.json.decode(bytes(response.body))  # type: ignore[arg-type]


def _answer(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=msgspec.json.encode(value), content_type="application/json"
    )


@web.middleware
async def faulty_answers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Faults that rewrite what the node answers."""
    path = request.path
    body = await request.read() if request.method == "POST" else b""
    if path == "/fed/v1/inbox" and _has(request, "key-notice-refused") and b'"KeyNotice"' in body:
        return _answer({"code": "invalid_message", "message": "no", "detail": {}}, 400)
    response = await handler(request)
    status = response.status
    if path == "/.well-known/citynode" and _has(request, "descriptor-wrong-did"):
        value = await _json_of(response)
        return _answer({**value, "did": "did:web:elsewhere.example"})
    if path == "/.well-known/did.json" and _has(request, "did-document-no-authentication"):
        return _answer({**await _json_of(response), "authentication": []})
    if path == "/fed/v1/digest" and status == 400 and _has(request, "json-errors-500"):
        return _answer({"code": "internal_error", "message": "oops", "detail": {}}, 500)
    if path == "/fed/v1/changes" and status == 200 and _has(request, "feed-wrong-node"):
        return _answer({**await _json_of(response), "node": "did:web:elsewhere.example"})
    if path == "/fed/v1/changes" and status == 200 and _has(request, "tamper-feed-item"):
        value = await _json_of(response)
        if value["items"]:
            value["items"][0]["version"] += 100
        return _answer(value)
    if path == "/fed/v1/digest" and status == 200 and _has(request, "digest-off-by-one"):
        value = await _json_of(response)
        for origin in value["origins"]:
            origin["count"] += 1
        return _answer(value)
    if path == "/fed/v1/search" and status == 200 and _has(request, "search-too-many-hits"):
        value = await _json_of(response)
        hit = {"id": "https://x.example/r", "origin": "https://x.example", "title": {}, "score": 1}
        return _answer({**value, "hits": [hit] * 6})
    if path == "/fed/v1/inbox" and status == 403 and _has(request, "inbox-accepts-strangers"):
        return _answer({"status": "scheduled"}, 202)
    if path == "/fed/v1/inbox" and status == 400 and _has(request, "inbox-bad-cursor-accepted"):
        return _answer({"status": "scheduled"}, 202)
    if path == "/fed/v1/peers" and status == 200 and _has(request, "peer-request-odd-status"):
        return _answer({**await _json_of(response), "status": "maybe"})
    if path == "/fed/v1/peers" and status == 403 and _has(request, "peer-request-no-check"):
        return _answer({"type": "PeerResponse", "status": "accepted"})
    if status == 401 and _has(request, "no-challenge"):
        del response.headers["WWW-Authenticate"]
        del response.headers["Accept-Signature"]
    if status == 401 and _has(request, "plain-text-errors"):
        return web.Response(status=401, text="unauthorized")
    return response


def _wrong_while(fault: str, wrong: Any, name: str) -> Any:
    """A verification choice of the guard that is `wrong` while `fault` is on, else the guard's
    own (a property of the class is read before the instance's attribute of that name)."""
    return property(lambda self: wrong if fault in self.faults else vars(self)[name])


class FaultyGuard(InboundGuard):
    faults: set[str]
    max_age = _wrong_while("no-max-age", 10**7, "max_age")
    clock_skew = _wrong_while("no-clock-skew-limit", 10**7, "clock_skew")
    required = _wrong_while("digest-optional", ("@method", "@target-uri"), "required")
    tag = _wrong_while("any-tag", None, "tag")

    async def authenticate(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes,
        source: str | None = None,
    ) -> str:
        if "accept-unsigned" in self.faults and "signature-input" not in {
            k.lower() for k in headers
        }:
            return "did:web:anyone.example"
        return await super().authenticate(method, raw_path, headers, body, source)

    def check_size(self, content_length: int | None) -> None:
        if "no-body-cap" not in self.faults:
            super().check_size(content_length)

    def seen_nonce(self, did: str, nonce: str, until: int) -> bool:
        return "no-replay-cache" not in self.faults and super().seen_nonce(did, nonce, until)

    def verify(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        resolve: Callable[[str], Ed25519PublicKey],
        did: str,
        now: int,
    ) -> None:
        faults = self.faults
        if "ignore-expires" in faults:
            expires = read_signature(headers, tag=TAG).signature_input.params.get("expires")
            if isinstance(expires, int) and now > expires:
                now = expires  # as if it were checked the moment it ended
        if "any-key-of-signer" in faults:
            exact = resolve

            def resolve(key_id: str) -> Ed25519PublicKey:
                try:
                    return exact(key_id)
                except (KeyError, UnknownKey):
                    return exact(f"{did}#key-1")

        try:
            super().verify(method, url, headers, body, resolve, did, now)
        except BadSignature:
            if "skip-signature-bytes" not in faults:
                raise
        except DigestMismatch:
            if "skip-digest" not in faults:
                raise


class FaultyFeed(Feed):
    faults: set[str]

    async def changes_page(self, after: str | None, limit: int | None) -> bytes:
        if "lenient-cursor" in self.faults:
            try:
                await super().changes_page(after, 1)
            except InvalidCursor:
                after = None
        if "ignore-limit" in self.faults:
            limit = self.max_page_size
        page = msgspec.json.decode(await super().changes_page(after, limit), type=ChangesPage)
        if "has-more-false" in self.faults:
            page.has_more = False
        if "empty-page-rewinds" in self.faults and not page.items:
            page.next = START
        stale = self.faults & {"serve-stale-version", "record-after-tombstone"}
        if stale and page.items and not page.has_more:
            page.items.extend(await self._stale())
        return msgspec.json.encode(page)

    async def _stale(self) -> list[dict[str, Any]]:
        """Superseded versions: of updated records, or of the withdrawn one."""
        kind = "Tombstone" if "record-after-tombstone" in self.faults else "Project"
        sql = (
            "SELECT r.body FROM records r JOIN current c ON c.id = r.id "
            "WHERE r.version = c.version - 1 AND c.type = ?"
        )
        async with self.db.reader.execute(sql, (kind,)) as cursor:
            return [msgspec.json.decode(row[0]) for row in await cursor.fetchall()]


class FaultyPeering(Peering):
    faults: set[str]

    async def handle_notice(self, signer: str, notice: InboxNotice) -> str:
        if "notice-no-pull" in self.faults and notice.sender == signer:
            peer = await peer_store.get_peer(self.node.db.reader, signer)
            if peer is not None and peer.sync.state in ("idle", "due", "syncing", "backoff"):
                return "scheduled"
        return await super().handle_notice(signer, notice)


class FaultyVerifier(Verifier):
    faults: set[str]

    async def verify(self, documents: list[dict[str, Any]], *args: Any) -> list[Verdict]:
        if "accept-forged-records" in self.faults:
            return [None] * len(documents)
        return await super().verify(documents, *args)


class FaultyIngest(Ingest):
    faults: set[str]

    async def prepare(self, page: ChangesPage) -> Prepared:
        if "drop-tombstones" in self.faults:
            page = msgspec.structs.replace(
                page, items=[i for i in page.items if i.get("type") != "Tombstone"]
            )
        if "refuse-unknown-terms" in self.faults:
            page = msgspec.structs.replace(page, items=[i for i in page.items if _strict(i)])
        return await super().prepare(page)


def _strict(item: dict[str, Any]) -> bool:
    """The publishing check, wrongly applied to a peer's record (docs/protocol.md 3.7)."""
    try:
        parse_record(item)
    except ProtocolError:
        return False
    return True


class FaultyWorker(Worker):
    faults: set[str]

    async def _fetch(self, peer: Peer, cursor: str | None) -> ChangesPage:
        if "mangle-cursors" in self.faults and cursor:
            cursor = cursor.upper()
        return await super()._fetch(peer, cursor)


def _inject(federation: Federation, faults: set[str]) -> None:
    """Swap the node's parts for the faulty subclasses above (same state, other methods)."""
    for part, kind in (
        (federation.guard, FaultyGuard),
        (federation.feed, FaultyFeed),
        (federation.peering, FaultyPeering),
        (federation.ingest.verifier, FaultyVerifier),
        (federation.ingest, FaultyIngest),
        (federation.worker, FaultyWorker),
    ):
        part.__class__ = kind
        part.faults = faults  # type: ignore[attr-defined]
    # Every kit run is a new signer: let them all in at once (the node's own bound on new DIDs
    # per source would make each run wait a second).
    federation.guard.new_dids_per_source = RateLimiter(1000.0, 1000)
    signer = federation.client.signer
    assert signer is not None

    def sign(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Any:
        if "expired-pull-signatures" in faults:
            federation.clock = lambda: time.time() - 1000
            try:
                return signer(method, url, headers, body)
            finally:
                federation.clock = time.time
        return signer(method, url, headers, body)

    federation.client.signer = sign


async def _node(
    home: Path, kits: list[socket.socket], faults: set[str] | None = None
) -> RunningNode:
    """A node whose allow list names every kit socket, with the faults middleware if asked."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    allowed = [f"http://127.0.0.1:{kit.getsockname()[1]}" for kit in kits]
    config = build_config(
        node={"base_url": url, "name": "Medellín", "country": "CO"},
        server={"host": "127.0.0.1", "port": port},
        federation={
            "allow_private_peers": True,
            "allow": allowed,
            "live_search": True,
            "inbound_source_rate_per_second": 1000.0,
            "inbound_source_burst": 5000,
            **FAST,
        },
    )
    await create_home(config, home)
    app = create_app(load_config(home))
    if faults is not None:
        app[FAULTS_ON] = faults
        app.middlewares.insert(0, faulty_answers)
    runner = NodeRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    running = RunningNode(home, runner, url)
    token_id, token = new_token()
    async with running.node.db.transaction() as conn:
        await add_token(conn, token_id, token, "test", now_utc())
    running.token = token
    if faults is not None:
        _inject(app[FEDERATION], faults)
    try:
        # Records, an update (version 2 of p0) and a withdrawal (a tombstone for p1).
        await publish(running, *(practice(f"p{n}") for n in range(4)))
        for method, slug, draft in (
            ("PUT", "p0", practice("p0", title={"en": "Parks with wifi, second version"})),
            ("DELETE", "p1", {"reason": {"en": "Published twice"}}),
        ):
            status, body, _ = await request_json(
                method, f"{url}/api/records/{slug}", headers=running.auth(), json=draft
            )
            assert status == 200, body
    except BaseException:
        await running.stop()
        raise
    return running


def _summary(report: Report) -> str:
    return "\n".join(f"{o.status} {o.id}: {o.detail}" for o in report.outcomes)


async def test_our_node_meets_every_requirement(tmp_path: Path) -> None:
    kit = bound_socket()
    node = await _node(tmp_path / "node", [kit])
    try:
        report = await run_conformance(node.url, sock=kit, wait=10)
    finally:
        await node.stop()
        kit.close()
    assert [o.id for o in report.outcomes] == [r.id for r in REQUIREMENTS]
    assert all(o.status == "pass" for o in report.outcomes), _summary(report)


async def test_each_broken_requirement_is_named(tmp_path: Path) -> None:
    kits = [bound_socket() for _ in range(len(FAULTS) + 1)]
    active: set[str] = set()
    node = await _node(tmp_path / "broken", kits, active)
    wrong: list[str] = []
    try:
        # With no fault switched on, the same node passes: the failures below are the faults'.
        control = await run_conformance(node.url, sock=kits[0], wait=5)
        assert not control.failed, _summary(control)
        for kit, (fault, expected) in zip(kits[1:], FAULTS.items(), strict=True):
            active.clear()
            active.add(fault)
            report = await run_conformance(node.url, sock=kit, wait=2)
            failed = {o.id for o in report.failed}
            if not expected <= failed:
                wrong.append(f"{fault}: expected {sorted(expected)} to fail, got {sorted(failed)}")
            elif not all(f"§{BY_SECTION[r]}" in report.text() for r in expected):
                wrong.append(f"{fault}: the report does not name the section")
    finally:
        active.clear()
        await node.stop()
        for kit in kits:
            kit.close()
    assert not wrong, "\n".join(wrong)


BY_SECTION = {r.id: r.section for r in REQUIREMENTS}


async def test_the_command_reports_and_exits_non_zero_on_a_failure(tmp_path: Path) -> None:
    kits = [bound_socket(), bound_socket()]
    active: set[str] = set()
    node = await _node(tmp_path / "node", kits, active)
    ports = [kit.getsockname()[1] for kit in kits]
    for kit in kits:
        kit.close()  # the command binds the port itself
    try:
        runs = []
        for port, fault in zip(ports, (None, "accept-unsigned"), strict=True):
            active.clear()
            if fault:
                active.add(fault)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "citynode.cli", "conformance", node.url,
                "--port", str(port), "--wait", "5",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(process.communicate(), 60)
            runs.append((process.returncode, out.decode(), err.decode()))
    finally:
        await node.stop()
    (ok_code, ok_out, ok_err), (bad_code, bad_out, _) = runs
    assert ok_code == 0, ok_out + ok_err
    assert f"{len(REQUIREMENTS)} passed, 0 failed" in ok_out
    assert bad_code == 1, bad_out
    assert "FAIL  §5.1    unsigned-refused" in bad_out


async def test_without_a_descriptor_nothing_else_is_claimed(tmp_path: Path) -> None:
    kit = bound_socket()
    node = await _node(tmp_path / "node", [kit], {"descriptor-wrong-did"})
    try:
        report = await run_conformance(node.url, sock=kit, wait=1)
    finally:
        await node.stop()
        kit.close()
    assert [o.id for o in report.failed] == ["descriptor"]
    assert {o.status for o in report.outcomes if o.id != "descriptor"} == {"skip"}


async def test_the_kit_waits_for_an_operator_s_approval(tmp_path: Path) -> None:
    kit = bound_socket()
    node = await _node(tmp_path / "node", [])  # no allow list: the kit's request waits
    said: list[str] = []
    try:
        running = asyncio.ensure_future(
            run_conformance(node.url, sock=kit, wait=10, approval_wait=30, progress=said.append)
        )
        federation = node.runner.app[FEDERATION]
        deadline = time.monotonic() + 30
        while not running.done() and time.monotonic() < deadline:
            pending = [p for p in await federation.peer_views() if p["state"] == "pending_approval"]
            if pending:
                await federation.peering.approve(pending[0]["did"])
                break
            await asyncio.sleep(0.1)
        report = await asyncio.wait_for(running, 60)
    finally:
        await node.stop()
        kit.close()
    assert said and "citynode peer approve" in said[0]
    assert all(o.status == "pass" for o in report.outcomes), _summary(report)
