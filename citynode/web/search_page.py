"""The search page: results with snippets, city, signature badge and why each matched; facets
with counts as links and checkboxes; paging; a live toggle; suggestions when nothing matched.

One search service call per page: the local index (`search`), or with the live toggle the live
fan-out (`live_search.live`), which also lists the peers that did not answer. Bad paging is
clamped; a facet value that names nothing (`theme=colours`) is a 400: for a browser, a page in
the reader's language that names the bad value and links the valid ones; for API clients, the
JSON error (search/facets.py, the same check `/api/search` makes).
"""

from __future__ import annotations

from typing import Any, Final, Literal
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from citynode.errors import BadRequest
from citynode.federation import live_search
from citynode.search import facets as facet_values
from citynode.search.query import SearchQuery
from citynode.search.schema import FACETS
from citynode.web.contract import Routes
from citynode.web.error_pages import wants_page
from citynode.web.keys import FEDERATION, NODE, SEARCH
from citynode.web.render import Page, add_page, html, reply
from citynode.web.views import toggled

routes = Routes("pages")
PER_PAGE: Final = 10
MAX_PAGE: Final = 200


def _page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or "1"), 1), MAX_PAGE)
    except ValueError:
        return 1


def page_query(request: web.Request, lang: str) -> tuple[SearchQuery, int]:
    number = _page_number(request.query.get("page"))
    facets = {
        name: [v for v in request.query.getall(name) if v][:20]
        for name in FACETS
        if name in request.query
    }
    sort: Literal["relevance", "date"] = (
        "date" if request.query.get("sort") == "date" else "relevance"
    )
    query = SearchQuery(
        text=request.query.get("q", "")[:500],
        facets={k: v for k, v in facets.items() if v},
        lang=lang,
        sort=sort,
        limit=PER_PAGE,
        offset=(number - 1) * PER_PAGE,
    )
    return query, number


@add_page(
    routes,
    "/search",
    summary="The search page: results, facets, paging, live search",
    query=("q", "sort", "page", "live", *FACETS),
    lists=FACETS,
)
async def search_page(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    page = Page(request)
    query, number = page_query(request, page.lang)
    live = request.query.get("live") == "1"
    missing: list[str] = []
    pairs = [(k, v) for k, v in request.query.items() if k not in ("lang", "format")]
    try:
        if live:
            searching = request.app[SEARCH].searching
            result = await live_search.live(node, searching, request.app[FEDERATION].client, query)
            found: dict[str, Any] = msgspec.to_builtins(result)
            missing = result.missing
        else:
            found = msgspec.to_builtins(await request.app[SEARCH].searching.search(query))
    except BadRequest as error:
        # Only a browser (Accept names text/html) gets the page; API clients the JSON error.
        if not wants_page(request) or "parameter" not in error.detail:
            raise
        return bad_filter(request, page, error, pairs)
    chosen = {(k, v) for k, v in pairs if k in FACETS}
    pages = max(1, -(-int(found["total"]) // PER_PAGE))
    values = {
        "q": query.text,
        "found": found,
        "live": live,
        "missing": missing,
        "number": number,
        "pages": min(pages, MAX_PAGE),
        "sort": query.sort,
        "chosen": chosen,
        "facet_order": [f for f in FACETS if found["facets"].get(f)],
        "toggle": lambda name, value: toggled(pairs, name, value),
        "with_page": lambda n: _with(pairs, "page", str(n)),
        "without_filters": _with([(k, v) for k, v in pairs if k not in FACETS], "page", None),
        "live_url": _with(pairs, "live", None if live else "1"),
    }
    return reply(request, "search.html", values, found, page=page)


def _with(pairs: list[tuple[str, str]], name: str, value: str | None) -> str:
    kept = [(k, v) for k, v in pairs if k != name]
    if value is not None:
        kept.append((name, value))
    return urlencode(kept)


def bad_filter(
    request: web.Request, page: Page, error: BadRequest, pairs: list[tuple[str, str]]
) -> web.Response:
    """The 400 page of a facet value that names nothing: the value, and the valid ones as links
    (each replacing the bad value, the rest of the search kept)."""
    facet = str(error.detail["parameter"])
    bad = str(error.detail.get("value", ""))
    kept = [(k, v) for k, v in pairs if (k, v) != (facet, bad) and k != "page"]
    choices = []
    for value in error.detail.get("valid", []):
        try:
            shown = facet_values.label(facet, facet_values.resolve(facet, value, None), page.lang)
        except BadRequest:  # a held city or country: itself
            shown = value
        choices.append((shown, urlencode([*kept, (facet, value)])))
    values = {
        "facet": facet,
        "value": bad,
        "choices": choices,
        "without": urlencode(kept),
        "q": request.query.get("q", ""),
    }
    return html(request, "bad_filter.html", values, status=400, page=page)
