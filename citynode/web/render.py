"""Pages for people: the template environment, page routes in every language, and one reply.

Every page is one URL per thing that answers HTML to a browser and JSON to `Accept:
application/json` (or `?format=json`), from the same handler: the handler builds the data once and
`reply` picks the representation (RFC 9110 12.5.1). Page routes are registered twice, plain and
under a language prefix (`/en/search`), so a link can carry the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
import msgspec
from aiohttp import web

from citynode.web import i18n, views
from citynode.web import negotiation as neg
from citynode.web.keys import NODE
from citynode.web.sessions import CSRF, EDITOR

TEMPLATES: Final = Path(__file__).parent / "templates"
STATIC: Final = Path(__file__).parent / "static"

#: Browser protections for every page (issue 7 item 6): no inline script or style anywhere, so
#: a stored `<script>` cannot run even if escaping failed. The `contract` branch adds these to
#: every HTML response in a middleware; pages set them too so they hold on their own.
PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship in the package: no stat() of every template file on every render.
        auto_reload=False,
    )
    env.globals.update(
        languages=i18n.LANGUAGES,
        signature_kind=views.signature_kind,
        safe_snippet=views.safe_snippet,
        lang_text=views.lang_text,
        text_of=views.text_of,
        concept_label=views.concept_label,
        practice_href=views.practice_href,
        why_text=views.why_text,
        facet_value_label=views.facet_value_label,
        SIGNATURES=views.SIGNATURES,
        TYPES=views.TYPES,
        ROLES=views.ROLES,
        FACET_NAMES=views.FACET_NAMES,
        FIELDS=views.FIELDS,
    )
    app[aiohttp_jinja2.static_root_key] = "/static"
    app.router.add_static("/static/", STATIC, name="static")


def page_paths(path: str) -> list[str]:
    """The plain path and its language-prefixed twin (`/` -> `/en/`)."""
    return [path, f"/{i18n.PREFIX}{path}"]


#: Every page route as OpenAPI documents it: path (without the regexes) -> method -> summary.
PAGES: dict[str, dict[str, str]] = {}
_REGEX = re.compile(r"\{(\w+):[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def add_page(routes: web.RouteTableDef, path: str, method: str = "GET") -> Callable[[Any], Any]:
    """Register a page handler under `path` and `/{lang}path` (and list it for /openapi.json)."""

    def register(handler: Handler) -> Handler:
        summary = (handler.__doc__ or handler.__name__.replace("_", " ")).strip().split("\n")[0]
        for each in page_paths(path):
            routes.route(method, each)(handler)
            PAGES.setdefault(_REGEX.sub(r"{\1}", each), {})[method.lower()] = summary
        return handler

    return register


def wants_json(request: web.Request) -> bool:
    chosen = neg.choose(
        request.headers.get("Accept"), (neg.HTML, neg.JSON), request.query.get("format")
    )
    return chosen == neg.JSON


class Page:
    """What every template gets: the language, its gettext, links that keep the language."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        node = request.app[NODE]
        self.lang = i18n.reader_language(request, node.config.node.languages[0])
        self.translations = i18n.translations(self.lang)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def link(self, path: str, **query: Any) -> str:
        """A page of this node in the reader's language (query values may be lists)."""
        items = [
            (k, v)
            for k, values in query.items()
            if values is not None
            for v in (values if isinstance(values, list | tuple) else [values])
            if v is not None and v != ""
        ]
        suffix = f"?{urlencode(items)}" if items else ""
        return f"/{self.lang}{path}{suffix}"

    def switch(self) -> list[tuple[str, str, str, bool]]:
        """(code, name, URL of this page in that language, is current) for the switch."""
        path = self.request.path
        prefix = self.request.match_info.get("lang")
        if prefix:
            path = path[len(prefix) + 1 :] or "/"
        query = [(k, v) for k, v in self.request.query.items() if k != "lang"]
        suffix = f"?{urlencode(query)}" if query else ""
        return [
            (code, name, f"/{code}{path}{suffix}", code == self.lang)
            for code, name in i18n.LANGUAGES.items()
        ]

    def context(self, **values: Any) -> dict[str, Any]:
        node = self.request.app[NODE]
        return {
            "lang": self.lang,
            "_": self.gettext,
            "ngettext": self.ngettext,
            "link": self.link,
            "switch": self.switch(),
            "node_name": node.config.node.name,
            "base_url": node.config.base_url,
            "node_illustrative": node.config.node.illustrative,
            "editor": self.request.get(EDITOR),
            "csrf": self.request.get(CSRF, ""),
            **values,
        }


def reply(
    request: web.Request,
    template: str,
    values: dict[str, Any],
    data: Any,
    *,
    status: int = 200,
    page: Page | None = None,
) -> web.StreamResponse:
    """The page as JSON (`data`) or as HTML (`template` with `values`), as the client asks."""
    if wants_json(request):
        response = web.Response(
            status=status, body=msgspec.json.encode(data), content_type="application/json"
        )
        response.headers["Vary"] = "Accept, Accept-Language"
        return response
    return html(request, template, values, status=status, page=page)


def html(
    request: web.Request,
    template: str,
    values: dict[str, Any],
    *,
    status: int = 200,
    page: Page | None = None,
) -> web.Response:
    page = page or Page(request)
    response = aiohttp_jinja2.render_template(
        template, request, page.context(**values), status=status
    )
    response.headers.update(PAGE_HEADERS)
    response.headers["Content-Language"] = page.lang
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response
