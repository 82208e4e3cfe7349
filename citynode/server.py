"""The one way the node's HTTP server starts: `citynode serve`, the demo and the tests use it.

`start_server(config)` (or `serving(config)` for a block) runs the app from `create_app` on a
TCP address, or on a socket bound beforehand (so a test knows the port before the node's base
URL is written). It also gives every connection the node's own handler of HTTP parser errors,
so a request aiohttp cannot parse still gets the error shape (citynode/web/errors.py).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from citynode.app import create_app
from citynode.config import NodeConfig
from citynode.web.errors import ShapedRequestHandler


class _ShapedServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return ShapedRequestHandler(self, loop=self._loop, **self._kwargs)


class NodeRunner(web.AppRunner):
    """An `AppRunner` whose connections answer parser errors in the error shape.

    aiohttp has no public hook for those answers (aio-libs/aiohttp issue 3287): the server it
    builds is given our connection handler's class instead, and keeps everything else.
    """

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _ShapedServer
        return server


async def start_server(
    config: NodeConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    sock: socket.socket | None = None,
) -> NodeRunner:
    """The node serving on `sock`, or on host:port (default: the config's); stop it with
    `runner.cleanup()`."""
    runner = NodeRunner(create_app(config), access_log=None)
    await runner.setup()
    try:
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(runner, sock)
        else:
            site = web.TCPSite(
                runner,
                host or config.server.host,
                port if port is not None else config.server.port,
            )
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


@asynccontextmanager
async def serving(
    config: NodeConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    sock: socket.socket | None = None,
) -> AsyncIterator[NodeRunner]:
    """`start_server` for the block."""
    runner = await start_server(config, host=host, port=port, sock=sock)
    try:
        yield runner
    finally:
        await runner.cleanup()
