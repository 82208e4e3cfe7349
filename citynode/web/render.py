"""Pages for people: the template environment, page routes in every language, and one reply.

Every page is one URL per thing that answers HTML to a browser and JSON to `Accept:
application/json` (or `?format=json`), from the same handler: the handler builds the data once and
`reply` picks the representation (RFC 9110 12.5.1). Page routes are registered twice, plain and
under a language prefix (`/en/search`), so a link can carry the reader's language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
import msgspec
from aiohttp import web

from citynode.web import i18n, practice_form_parts, practice_views, views
from citynode.web import negotiation as neg
from citynode.web.contract import ERROR_DESCRIPTIONS, Body, ErrorBody, Reply, Routes
from citynode.web.keys import NODE
from citynode.web.sessions import CSRF, EDITOR

TEMPLATES: Final = Path(__file__).parent / "templates"

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
        concept_known=views.concept_known,
        practice_href=views.practice_href,
        why_text=views.why_text,
        notice_text=views.notice_text,
        mark_kinds=practice_views.mark_kinds,
        registry_name=practice_views.registry_name,
        concept_iris=practice_form_parts.concepts,
        facet_value_label=views.facet_value_label,
        SIGNATURES=views.SIGNATURES,
        TYPES=views.TYPES,
        ROLES=views.ROLES,
        FACET_NAMES=views.FACET_NAMES,
        FIELDS=views.FIELDS,
    )
    app[aiohttp_jinja2.static_root_key] = "/static"


def page_paths(path: str) -> list[str]:
    """The plain path and its language-prefixed twin (`/` -> `/en/`)."""
    return [path, f"/{i18n.PREFIX}{path}"]


#: The error statuses a page may answer, as a page for browsers and as JSON for the rest
#: (error_pages.py re-renders the JSON error when the Accept header asks for HTML).
GET_ERRORS: Final = (400, 404, 406, 410)
POST_ERRORS: Final = (400, 401, 403, 404, 406, 413, 415, 422, 507)
FORM: Final = "application/x-www-form-urlencoded"
HTML: Final = neg.HTML
JSON: Final = neg.JSON


def _fields(names: Iterable[str], lists: Iterable[str] = ()) -> list[tuple[str, Any, Any]]:
    """Every parameter a page reads, as text: what people type is never refused by type."""
    listed = set(lists)
    return [
        (name, list[str], msgspec.field(default_factory=list))
        if name in listed
        else (name, str | None, None)
        for name in names
    ]


@functools.cache
def _struct(name: str, fields: tuple[tuple[str, bool], ...]) -> type[msgspec.Struct]:
    """One Struct per name (the document names its schemas after them): (field, is a list)."""
    return msgspec.defstruct(
        name, _fields([f for f, _ in fields], [f for f, listed in fields if listed]), kw_only=True
    )


def _path_type(route: str) -> type[msgspec.Struct] | None:
    names = re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)", route)
    if not names:
        return None
    # `lang` is one of the languages the pages are written in: the route's own pattern, said in
    # the document so a client (and the contract run) knows what the path takes.
    page_language = Literal[tuple(i18n.LANGUAGES)]  # type: ignore[valid-type]
    path_struct: type[msgspec.Struct] = msgspec.defstruct(
        "PagePath_" + "_".join(names),
        [(n, page_language if n == "lang" else str) for n in names],
        kw_only=True,
    )
    return _PATHS.setdefault(tuple(names), path_struct)


_PATHS: dict[tuple[str, ...], type[msgspec.Struct]] = {}


def add_page(
    routes: Routes,
    path: str,
    method: str = "GET",
    *,
    summary: str,
    query: Iterable[str] = (),
    lists: Iterable[str] = (),
    form: Iterable[str] | None = None,
    upload: bool = False,
    redirects: bool = False,
    prefixed_only: bool = False,
    media: dict[str, Any] | None = None,
) -> Callable[[Handler], Handler]:
    """Declare a page under `path` and `/{lang}path`: HTML for browsers, its data as JSON.

    `query` names the query parameters it reads (`lists`: those it reads repeated); `form`
    the fields of the form it takes (POST), `upload` a multipart form with a file; `media`
    other representations the page also answers (media type -> type).
    """
    listed = set(lists)
    stem = method.capitalize() + "".join(p.capitalize() for p in re.findall(r"[a-z]+", path))
    query_type = _struct(
        f"{stem or 'Home'}Query",
        tuple((name, name in listed) for name in ("lang", "format", *query)),
    )
    body = None
    if form is not None:
        form_type = _struct(f"{stem}Form", tuple((n, False) for n in ("csrf", *form)))
        form_media = "multipart/form-data" if upload else FORM
        body = Body({form_media: form_type}, required=False)
    page = Reply(
        "the page, or its data with Accept: application/json",
        {HTML: str, JSON: Any, **(media or {})},
    )
    errors = POST_ERRORS if method == "POST" else GET_ERRORS
    responses: dict[int, Reply] = {200: page}
    for status in errors:
        responses[status] = Reply(ERROR_DESCRIPTIONS[status], {JSON: ErrorBody, HTML: str})
    if redirects or method == "POST":
        responses[303] = Reply("done, or sign in first: the page to go to")
    if method == "POST" or redirects:
        responses.setdefault(401, Reply(ERROR_DESCRIPTIONS[401], {JSON: ErrorBody, HTML: str}))

    def register(handler: Handler) -> Handler:
        targets = [f"/{i18n.PREFIX}{path}"] if prefixed_only else page_paths(path)
        for each in targets:
            routes.route(
                method,
                each,
                summary=summary,
                query=query_type,
                path=_path_type(each),
                body=body,
                responses=responses,
            )(handler)
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
        #: The reader's other languages: record texts fall back through them.
        self.preferred = i18n.accepted_languages(request)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def number(self, value: float) -> str:
        """A number as the reader writes it (1.234,5 in es and pt, 1,234.5 in en)."""
        return views.number_text(value, self.lang)

    def period(self, value: str) -> str:
        """A year, year-month, date or interval of those, in words of the reader's language."""
        return views.period_text(value, self.lang)

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
            "number": self.number,
            "lang_text": lambda value, lang=None: views.lang_text(
                value, lang or self.lang, self.preferred
            ),
            "text_of": lambda value, lang=None: views.text_of(
                value, lang or self.lang, self.preferred
            ),
            "period": self.period,
            "money": lambda value, currency: practice_views.money_text(value, currency, self.lang),
            "coordinates": lambda lat, lon: practice_views.coordinates_text(lat, lon, self.lang),
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
    response.headers["Content-Language"] = page.lang
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response
