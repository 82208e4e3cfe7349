"""Start real nodes on 127.0.0.1 for tests: a bound socket first, so the base URL has the port."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from citynode.config import build_config, load_config
from citynode.node import Node, create_home
from citynode.server import start_server
from citynode.storage.records import now_utc
from citynode.storage.tokens import add_token, new_token
from citynode.web.keys import NODE


class RunningNode:
    def __init__(self, home: Path, runner: web.AppRunner, url: str) -> None:
        self.home = home
        self.runner = runner
        self.url = url
        self.token = ""

    @property
    def node(self) -> Node:
        return self.runner.app[NODE]

    @property
    def did(self) -> str:
        return self.node.identity.did

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def stop(self) -> None:
        await self.runner.cleanup()


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def start_node(
    home: Path,
    *,
    name: str = "Medellín",
    country: str = "CO",
    sock: socket.socket | None = None,
    profile: dict[str, Any] | None = None,
    sections: dict[str, dict[str, Any]] | None = None,
    public_url: str | None = None,
    **federation: Any,
) -> RunningNode:
    """Create (if new) and start a node on loopback; it gets an editor token.

    `sections` sets other settings of a new node: {"ops": {"ready_max_lag_seconds": 1}};
    `public_url` is its base URL when a relay or proxy stands in front of its socket;
    `profile` adds settings of its [node] section (population, languages...).
    """
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    url = public_url or f"http://127.0.0.1:{port}"
    if not (home / "citynode.toml").exists():
        extra = sections or {}
        config = build_config(
            node={"base_url": url, "name": name, "country": country, **(profile or {})},
            server={"host": "127.0.0.1", "port": port, **extra.get("server", {})},
            federation={"allow_private_peers": True, **federation},
            ops=extra.get("ops", {}),
        )
        await create_home(config, home)
    runner = await start_server(load_config(home), sock=sock)
    running = RunningNode(home, runner, url)
    token_id, token = new_token()
    async with running.node.db.transaction() as conn:
        await add_token(conn, token_id, token, "test", now_utc())
    running.token = token
    return running


async def request_json(
    method: str, url: str, **kwargs: Any
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as resp:
        body = await resp.read()
        try:
            value = msgspec.json.decode(body) if body else None
        except msgspec.DecodeError:
            value = body
        return resp.status, value, resp.headers
