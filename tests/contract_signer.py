"""A signing peer for the contract run: schemathesis talks to it, it signs every `/fed/` request
(RFC 9421, as a real peer would) and forwards it to the node unchanged, byte for byte.

So the generated bodies of `/fed/v1/inbox`, `/peers`, `/digest` and `/search` reach the
node's message decoders, not just its signature check. The signer is a did:web of this server
(it serves its own DID document), so the node verifies the signatures for real. Any other
request is forwarded without a signature.

Usage: python -m tests.contract_signer NODE_URL PORT   (run by tests/contract_run.py)
"""

from __future__ import annotations

import secrets
import sys
import time
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from yarl import URL

from protocol.did import KeyEntry, build_did_document, did_from_base_url
from protocol.httpsig.signing import sign_request

#: Headers that belong to one connection, not to the request (RFC 9110 section 7.6.1), and the
#: ones the client recomputes.
_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
    "date",
    "server",
}


def make_app(node_url: str, port: int) -> web.Application:
    own_url = f"http://127.0.0.1:{port}"
    did = did_from_base_url(own_url)
    key = Ed25519PrivateKey.generate()
    keyid = f"{did}#key-1"

    async def did_document(request: web.Request) -> web.Response:
        entry = KeyEntry(
            fragment="key-1", public_key=key.public_key(), created=datetime(2020, 1, 1, tzinfo=UTC)
        )
        return web.json_response(
            build_did_document(did, [entry], f"{own_url}/.well-known/citynode")
        )

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        target = node_url + request.raw_path
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        if request.path.startswith("/fed/"):
            created = int(time.time())
            headers.update(
                sign_request(
                    request.method,
                    target,
                    headers,
                    body or None,
                    key,
                    keyid,
                    created,
                    created + 300,
                    secrets.token_urlsafe(16),
                )
            )
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                URL(target, encoded=True),
                headers=headers,
                data=body,
                allow_redirects=False,
                skip_auto_headers=("Content-Type", "Accept-Encoding", "User-Agent"),
            ) as answer,
        ):
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            return web.Response(status=answer.status, body=payload, headers=kept)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/.well-known/did.json", did_document)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


if __name__ == "__main__":
    web.run_app(
        make_app(sys.argv[1], int(sys.argv[2])),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        print=None,
        access_log=None,
    )
