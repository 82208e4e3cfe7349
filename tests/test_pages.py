"""Pages without a browser: language choice, catalogs, JSON on every page, charts, sessions.

(The browser tests in tests/browser/ check what people see and do; these check the rules.)
"""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from citynode.web import i18n
from citynode.web.charts import Point, Reference, Series, line_chart, year_of
from citynode.web.views import safe_snippet
from tests.support import RunningNode, request_json

WEB = Path(i18n.__file__).parent
EXTRACT_METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def _used_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(WEB),
        method_map=EXTRACT_METHODS,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_page_string_is_translated_in_every_catalog() -> None:
    used = _used_messages()
    assert len(used) > 200
    for lang in i18n.LANGUAGES:
        with i18n.catalog_path(lang).open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        # A fuzzy entry is a guess the catalog compiler leaves out: not a translation.
        translated = {
            (m.id if isinstance(m.id, str) else m.id[0])
            for m in catalog
            if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
        }
        missing = sorted(used - translated)
        assert missing == [], (lang, missing[:10])


def test_translations_keep_their_placeholders() -> None:
    for lang in ("es", "pt"):
        with i18n.catalog_path(lang).open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if not message.id:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0]))
                for text in strings:
                    assert set(re.findall(r"%\(\w+\)[sd]", text)) == wanted, (lang, ids[0])


async def _page(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.text(), dict(resp.headers)


async def test_language_from_prefix_then_query_then_accept_language(medellin: RunningNode) -> None:
    base = medellin.url
    _, text, headers = await _page(f"{base}/pt/search", Accept="text/html")
    assert '<html lang="pt">' in text and headers["Content-Language"] == "pt"
    _, text, _ = await _page(f"{base}/search?lang=en", **{"Accept-Language": "pt"})
    assert '<html lang="en">' in text
    _, text, _ = await _page(f"{base}/search", **{"Accept-Language": "fr, pt;q=0.8, en;q=0.5"})
    assert '<html lang="pt">' in text and "Pesquisar práticas" in text
    _, text, _ = await _page(f"{base}/search", **{"Accept-Language": "de"})
    assert '<html lang="es">' in text  # the node's first language
    assert 'href="/en/search"' in text and 'href="/pt/search"' in text  # the switch


async def test_every_page_answers_json_too(medellin: RunningNode) -> None:
    base = medellin.url
    status, home, _ = await request_json("GET", f"{base}/", headers={"Accept": "application/json"})
    assert status == 200 and home["did"] == medellin.did and "cities" in home
    status, found, _ = await request_json(
        "GET", f"{base}/en/search?q=x", headers={"Accept": "application/json"}
    )
    assert status == 200 and {"total", "hits", "facets"} <= set(found)
    status, city, _ = await request_json("GET", f"{base}/city?format=json")
    assert status == 200 and city["did"] == medellin.did
    status, compare, _ = await request_json("GET", f"{base}/compare?format=json")
    assert status == 200 and compare["comparison"] is None and compare["indicators"]
    assert not any(indicator["cities"] for indicator in compare["indicators"])
    status, editor, _ = await request_json("GET", f"{base}/editor?format=json")
    assert status == 200 and editor == {"signed_in": False}


async def test_pages_carry_the_browser_protections(medellin: RunningNode) -> None:
    _, text, headers = await _page(f"{medellin.url}/en/", Accept="text/html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "style=" not in text and "<script>" not in text and "onclick" not in text


async def test_a_browser_gets_errors_as_a_page_and_an_api_client_as_json(
    medellin: RunningNode,
) -> None:
    status, text, headers = await _page(f"{medellin.url}/es/records/missing", Accept="text/html")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert "No hay nada en esta dirección" in text
    status, body, _ = await request_json("GET", f"{medellin.url}/es/records/missing")
    assert status == 404 and body["code"] == "not_found"


async def test_sign_in_sets_a_strict_http_only_session_and_bad_tokens_fail(
    medellin: RunningNode,
) -> None:
    base = medellin.url
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(f"{base}/en/editor", headers={"Accept": "text/html"}) as resp:
            csrf = resp.cookies["cn_csrf"].value
            assert resp.cookies["cn_csrf"]["httponly"] and resp.cookies["cn_csrf"]["samesite"]
        form = {"csrf": csrf, "token": "cn_wrong_token"}
        async with session.post(f"{base}/en/editor/sign-in", data=form) as resp:
            assert resp.status == 401
        form = {"csrf": csrf, "token": medellin.token}
        async with session.post(
            f"{base}/en/editor/sign-in", data=form, allow_redirects=False
        ) as resp:
            assert resp.status == 303
            cookie = resp.cookies["cn_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
        async with session.get(f"{base}/editor?format=json") as resp:
            assert (await resp.json())["signed_in"] is True
        form = {"csrf": "another-value-entirely-xxxxxxxx"}
        async with session.post(f"{base}/en/editor/sign-out", data=form) as resp:
            assert resp.status == 403


def test_snippets_keep_only_marks() -> None:
    assert str(safe_snippet("a <mark>b</mark> &lt;i&gt;")) == "a <mark>b</mark> &lt;i&gt;"
    hostile = safe_snippet('<script>x</script><mark onclick="y">z</mark>')
    assert "<script>" not in str(hostile) and "<mark onclick" not in str(hostile)
    assert str(hostile).startswith("&lt;script&gt;x&lt;/script&gt;")


def test_periods_sit_at_their_end_and_charts_carry_a_text_alternative() -> None:
    assert year_of("2020/2023") == 2023.5
    assert year_of("2023-07") is not None and 2023.5 < year_of("2023-07") < 2023.6  # type: ignore[operator]
    assert year_of("someday") is None
    svg = str(
        line_chart(
            "c1",
            "People trained <b>",
            "observed 10 (2021); target 20 (2025)",
            "people",
            [Series(name="observed", points=[Point(x=2021.99, y=10, label="2021")])],
            [Reference(kind="target", name="target", y=20, label="2025")],
        )
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    assert '<title id="c1-t">People trained &lt;b&gt;</title>' in svg
    assert "stroke-dasharray" in svg and "style=" not in svg
