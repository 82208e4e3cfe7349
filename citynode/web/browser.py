"""Browser protections on every HTML answer: a strict Content-Security-Policy and friends.

The policy is a constant the page templates are written against (issue 7 item 6; the pages
branch builds every page to work under it): no inline script or style and no `eval`, scripts and
styles only as files from the node itself, nothing from other origins, no framing, forms only
back to the node. A page that needs something else changes this constant, in review.

The headers are set in `on_response_prepare`, not in a middleware: that signal runs for every
response the app sends, including streamed ones whose headers go out before the handler returns
and error answers built anywhere, so no HTML can leave without them.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

#: CSP Level 3 (https://www.w3.org/TR/CSP3/). `default-src 'self'` covers what is not named;
#: `object-src 'none'` and `base-uri 'none'` close the classic script-injection detours;
#: `frame-ancestors 'none'` forbids framing (clickjacking); `form-action 'self'` keeps forms home.
#: `img-src data:` lets a page embed a small generated image (a chart's PNG fallback) inline.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self'; "
    "img-src 'self' data:; "
    "object-src 'none'; "
    "base-uri 'none'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)
#: A link to another site tells it only which node the reader came from, never the page (a
#: search URL says what the reader looked for).
REFERRER_POLICY: Final = "strict-origin-when-cross-origin"

#: Headers every HTML response carries.
HTML_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": REFERRER_POLICY,
    # For browsers older than CSP's frame-ancestors.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def browser_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare` hook: nosniff on everything, the HTML headers on HTML."""
    # Every answer: a browser must not guess that JSON or Turtle is HTML (and run it).
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type in ("text/html", "application/xhtml+xml"):
        for name, value in HTML_HEADERS.items():
            response.headers.setdefault(name, value)
