"""Static files for the pages (`citynode/web/static/`), shipped in the package, never fetched.

Served from the node's own origin so that the Content-Security-Policy (web/browser.py) can
allow styles and scripts from `'self'` only.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.errors import NotFound
from citynode.web.contract import Reply, Routes
from citynode.web.params import read_path

routes = Routes("pages")

_STATIC = files("citynode.web") / "static"
_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


class AssetPath(msgspec.Struct, kw_only=True):
    name: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,60}\.(css|js|svg)$")]


@routes.get(
    r"/static/{name:[a-z0-9][a-z0-9-]{0,60}\.(?:css|js|svg)}",
    summary="A style sheet, script or image of the pages",
    path=AssetPath,
    responses={200: Reply("the file", {media: str for media in _TYPES.values()})},
)
async def asset(request: web.Request) -> web.Response:
    name = read_path(request, AssetPath).name
    resource = _STATIC / name
    if not resource.is_file():
        raise NotFound(f"there is no file {name} among the pages' files", name=name)
    media = _TYPES[name[name.rindex(".") :]]
    return web.Response(
        body=resource.read_bytes(),
        content_type=media,
        headers={"Cache-Control": "public, max-age=3600"},
    )
