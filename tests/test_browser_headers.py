"""Every HTML answer carries the browser protections (issue 7 item 6), and the pages work under
them: no inline script or style, nothing loaded from another origin.

The HTML routes come from the contract (every operation that declares `text/html`), so a page
added later is checked without touching this file.
"""

from __future__ import annotations

import re
from typing import Any

from citynode.web.browser import CONTENT_SECURITY_POLICY, REFERRER_POLICY
from citynode.web.contract import Operation
from citynode.web.keys import OPERATIONS
from tests.drafts import practice
from tests.federation_support import publish
from tests.support import RunningNode, request_json

#: Values for path parameters, so every HTML route can be asked for a page that exists.
PATH_VALUES = {
    "slug": "parques",
    "version": "1",
    "name": "site.css",
    "scheme": "indicators",
    "lang": "en",
    "job": "no-such-upload",  # signed out: the page sends the reader to sign in first
}
#: Pages that show one thing named in their query.
QUERIES = {
    "/practice": "?id={url}/records/parques",
    "/{lang}/practice": "?id={url}/records/parques",
}


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_the_policy_is_strict() -> None:
    policy = _directives(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert policy[directive] == ["'self'"], directive  # no 'unsafe-inline', no hosts
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert not any("unsafe" in v or "*" in v for values in policy.values() for v in values)


def html_operations(node: RunningNode) -> list[Operation]:
    return [
        op
        for op in node.runner.app[OPERATIONS]
        if op.method == "GET"
        and any("text/html" in reply.content for reply in op.responses.values())
    ]


async def test_every_html_route_sends_the_browser_headers(medellin: RunningNode) -> None:
    await publish(medellin, practice("parques"))
    operations = html_operations(medellin)
    assert operations, "no route declares an HTML answer"
    for op in operations:
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], op.path)
        path += QUERIES.get(op.path, "").format(url=medellin.url)
        status, page, headers = await request_json(
            "GET", f"{medellin.url}{path}", headers={"Accept": "text/html"}
        )
        assert status == 200, (op.path, status)
        assert headers["Content-Type"].startswith("text/html"), op.path
        check_headers(headers, op.path)
        check_page(page, op.path)


async def test_html_under_the_policy_loads_only_the_nodes_files(medellin: RunningNode) -> None:
    await publish(medellin, practice("parques"))
    _, page, _ = await request_json(
        "GET", f"{medellin.url}/records/parques", headers={"Accept": "text/html"}
    )
    for href in re.findall(rb'<link[^>]+href="([^"]+)"', page):
        assert href.startswith(b"/"), href  # same origin
        status, _, headers = await request_json("GET", f"{medellin.url}{href.decode()}")
        assert status == 200 and headers["Content-Type"].startswith("text/css"), href
        assert headers["X-Content-Type-Options"] == "nosniff"


async def test_json_answers_are_not_sniffed(medellin: RunningNode) -> None:
    for path in ("/records", "/no/such/page"):
        _, _, headers = await request_json("GET", f"{medellin.url}{path}")
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "Content-Security-Policy" not in headers


def check_headers(headers: Any, where: str) -> None:
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, where
    assert headers["X-Content-Type-Options"] == "nosniff", where
    assert headers["Referrer-Policy"] == REFERRER_POLICY, where
    assert headers["X-Frame-Options"] == "DENY", where


def check_page(page: bytes, where: str) -> None:
    """What the policy would block: inline script or style, handlers, remote files."""
    lowered = page.lower()
    assert b"<style" not in lowered, where
    assert not re.search(rb"<script(?![^>]*\bsrc=\"/)", lowered), where
    assert not re.search(rb"\son[a-z]+\s*=", lowered), where  # onclick=, onload=...
    assert not re.search(rb"\sstyle\s*=", lowered), where
    assert b"javascript:" not in lowered, where
    assert not re.search(rb'<(?:link|script|img)[^>]+(?:src|href)="(?:https?:)?//', lowered), where
