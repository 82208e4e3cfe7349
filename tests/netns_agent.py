"""What a test does from inside a network namespace (the test process itself stays outside).

Run as `ip netns exec NS python -m tests.netns_agent COMMAND ...`; prints one JSON line.
- `get URL [--accept TYPE]`: status, headers and the start of the body (TLS checked against
  SSL_CERT_FILE, the test's CA);
- `peer-add --home H URL...`: the node at H peers with each URL, in one process;
- `signed --home H URL --signed-for URL2`: a POST /fed/v1/inbox notice signed with H's key
  as if for URL2 (a proxy that rewrote the target would make exactly this request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from citynode.federation.service import Federation
from citynode.node import Node
from protocol.cursor import encode_cursor
from protocol.httpsig.signing import sign_request
from protocol.messages import InboxNotice, encode_message


def get(url: str, accept: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    context = ssl.create_default_context()
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return {
                "status": response.status,
                "headers": dict(response.headers),
                "body": response.read(200_000).decode("utf-8", "replace"),
            }
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "headers": dict(exc.headers), "body": exc.read().decode()}


async def peer_add(home: Path, urls: list[str]) -> dict[str, Any]:
    answers = {}
    async with Node.opened(home) as node:
        federation = Federation(node)
        await federation.start(background=False)
        try:
            for url in urls:
                peer = await federation.peering.add(url)
                answers[url] = peer.remote_status
        finally:
            await federation.close()
    return answers


async def signed_headers(home: Path, signed_for: str) -> tuple[bytes, dict[str, str]]:
    async with Node.opened(home) as node:
        identity = node.identity
        body = encode_message(InboxNotice(sender=identity.did, cursor=encode_cursor(0)))
        headers = {"Content-Type": "application/json"}
        created = int(time.time())
        headers.update(
            sign_request(
                "POST", signed_for, headers, body, identity.active.private_key,
                identity.verification_method, created, created + 300, "n" + str(created),
            )
        )  # fmt: skip
    return body, headers


def post(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return {"status": response.status, "body": response.read().decode()}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode()}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("get")
    g.add_argument("url")
    g.add_argument("--accept", default="application/json")
    p = sub.add_parser("peer-add")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("urls", nargs="+")
    s = sub.add_parser("signed")
    s.add_argument("--home", type=Path, required=True)
    s.add_argument("url")
    s.add_argument("--signed-for", required=True)
    args = parser.parse_args()
    if args.command == "get":
        result = get(args.url, args.accept)
    elif args.command == "peer-add":
        result = asyncio.run(peer_add(args.home, args.urls))
    else:
        body, headers = asyncio.run(signed_headers(args.home, args.signed_for))
        result = post(args.url, body, headers)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
