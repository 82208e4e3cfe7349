"""`citynode conformance URL`: play a peer against any node and report each requirement.

The kit's own node listens on loopback (or `--host`/`--port`), so the node under test must be
able to reach that address: a node on this machine or on a private test network that allows
private peers. Exit status 0 when every requirement checked holds, 1 when any fails.
"""

from __future__ import annotations

import argparse
import socket
import sys

import msgspec

from citynode.conformance.kit import run_conformance


def _listening(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


async def conformance(args: argparse.Namespace) -> int:
    sock = _listening(args.host, args.port)
    report = await run_conformance(
        args.url,
        sock=sock,
        public_url=args.public_url,
        wait=args.wait,
        approval_wait=args.approval_wait,
        progress=lambda text: print(text, file=sys.stderr),
    )
    if args.json:
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        print(report.text())
    return 1 if report.failed else 0
