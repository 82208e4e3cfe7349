"""WCAG 2.1 AA: axe-core finds zero violations on every page type in every UI language.

Real pages of a running three-city demo in Debian's chromium; each page also carries the browser
protections and says which language it is in. One browser profile per language, signed in once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.browser.browser import axe_violations, context, sign_in
from tests.browser.demo_federation import Demo
from tests.browser.pages import LANGUAGES, PAGE_TYPES, PageType


@pytest.fixture(scope="module")
def profiles(browser: Browser, demo: Demo) -> Iterator[dict[str, BrowserContext]]:
    made = {lang: context(browser, axe=True) for lang in LANGUAGES}
    for lang, profile in made.items():
        page = profile.new_page()
        sign_in(page, demo.url(), demo.token, lang)
        page.close()
    yield made
    for profile in made.values():
        profile.close()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", PAGE_TYPES, ids=[p.name for p in PAGE_TYPES])
def test_no_axe_violations(
    browser: Browser, profiles: dict[str, BrowserContext], demo: Demo, kind: PageType, lang: str
) -> None:
    fresh = context(browser, axe=True) if kind.signed_out else None
    page = (fresh or profiles[lang]).new_page()
    try:
        response = page.goto(f"{demo.url()}/{lang}{kind.path(demo)}")
        assert response is not None and response.status == kind.status, kind.name
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        if kind.then is not None:
            kind.then(page)
        assert page.get_attribute("html", "lang") == lang
        assert axe_violations(page) == [], (kind.name, lang)
    finally:
        page.close()
        if fresh is not None:
            fresh.close()


@pytest.fixture(scope="module")
def phone(browser: Browser, demo: Demo) -> Iterator[BrowserContext]:
    made = context(browser, phone=True)
    page = made.new_page()
    sign_in(page, demo.url(), demo.token, "es")
    page.close()
    yield made
    made.close()


@pytest.mark.parametrize("kind", PAGE_TYPES, ids=[p.name for p in PAGE_TYPES])
def test_every_page_fits_a_phone_screen(phone: BrowserContext, demo: Demo, kind: PageType) -> None:
    """WCAG 1.4.10 Reflow: at 390 CSS px nothing but a data table scrolls sideways."""
    page = phone.new_page()
    try:
        page.goto(f"{demo.url()}/es{kind.path(demo)}")
        if kind.then is not None:
            kind.then(page)
        width = page.evaluate("window.innerWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, kind.name
    finally:
        page.close()
