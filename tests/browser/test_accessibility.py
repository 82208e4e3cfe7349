"""WCAG 2.1 AA: axe-core finds zero violations on every page type in every UI language, and
every page reflows to a phone's width.

Real pages of a running three-city demo in Debian's chromium; each page also carries the browser
protections and says which language it is in. One browser profile and one tab per language,
signed in once, each page type loaded once per language (the suite's time is mostly page loads
and axe runs, so none is repeated).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.browser import DESKTOP, PHONE, axe_violations, context, sign_in
from tests.browser.demo_federation import Demo
from tests.browser.pages import LANGUAGES, PAGE_TYPES, PageType


@pytest.fixture(scope="module")
def profiles(browser: Browser, demo: Demo) -> Iterator[dict[str, tuple[BrowserContext, Page]]]:
    made = {}
    for lang in LANGUAGES:
        profile = context(browser, axe=True)
        tab = profile.new_page()
        sign_in(tab, demo.url(), demo.token, lang)
        made[lang] = (profile, tab)
    yield made
    for profile, _tab in made.values():
        profile.close()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", PAGE_TYPES, ids=[p.name for p in PAGE_TYPES])
def test_no_axe_violations(
    browser: Browser,
    profiles: dict[str, tuple[BrowserContext, Page]],
    demo: Demo,
    kind: PageType,
    lang: str,
) -> None:
    fresh = context(browser, axe=True) if kind.signed_out else None
    page = fresh.new_page() if fresh is not None else profiles[lang][1]
    try:
        page.set_viewport_size(DESKTOP)
        response = page.goto(f"{demo.url()}/{lang}{kind.path(demo)}")
        assert response is not None and response.status == kind.status, kind.name
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        if kind.then is not None:
            kind.then(page)
        assert page.get_attribute("html", "lang") == lang
        assert axe_violations(page) == [], (kind.name, lang)
        if lang == "es":
            # WCAG 1.4.10 Reflow: at 390 CSS px nothing but a data table scrolls sideways (the
            # same page, narrowed, rather than a second load in a phone profile).
            page.set_viewport_size(PHONE)
            width = page.evaluate("window.innerWidth")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, kind.name
    finally:
        if fresh is not None:
            fresh.close()
