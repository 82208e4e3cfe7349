"""Every page type of the demo, as a person reaches it (shared by the axe test and screenshots)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from urllib.parse import quote

from playwright.sync_api import Page

from tests.browser.demo_federation import FULL_PRACTICE, Demo

BAD_CSV: Final = b"slug,type,status,title_es,summary_es\nhuerta,Project,sideways,Huertas,Resumen\n"


def _form_with_errors(page: Page) -> None:
    page.click("form[novalidate] button[type=submit]")
    page.wait_for_selector("[role=alert]")


def _token_created(page: Page) -> None:
    page.fill("#token-label", "Secretaría de Educación")
    page.click("form:has(#token-label) button[type=submit]")
    page.wait_for_selector("#new-token")


def _bad_upload(page: Page) -> None:
    page.set_input_files(
        "#file", files=[{"name": "practices.csv", "mimeType": "text/csv", "buffer": BAD_CSV}]
    )
    page.click("form button[type=submit]")
    page.wait_for_selector("table")


class PageType:
    def __init__(
        self,
        name: str,
        path: Callable[[Demo], str],
        *,
        signed_in: bool = False,
        then: Callable[[Page], None] | None = None,
        status: int = 200,
        signed_out: bool = False,
    ) -> None:
        self.signed_out = signed_out
        self.name = name
        self.path = path
        self.signed_in = signed_in
        self.then = then
        self.status = status


PAGE_TYPES: Final = [
    PageType("home", lambda d: "/"),
    PageType("search", lambda d: "/search?q=internet"),
    PageType(
        "search-facets",
        lambda d: "/search?theme=" + quote("https://w3id.org/citynode/theme#digital-skills"),
    ),
    PageType("search-empty", lambda d: "/search?q=zzqxv+nothing+matches"),
    PageType("search-live", lambda d: "/search?q=wifi&live=1"),
    PageType("practice", lambda d: "/records/eva-escuela-virtual"),
    PageType("practice-every-field", lambda d: f"/records/{FULL_PRACTICE}"),
    PageType("result", lambda d: "/records/eva-resultados"),
    PageType(
        "practice-other-city",
        lambda d: "/practice?id=" + quote(f"{d.url('lisboa')}/records/wifi-espacos-publicos"),
    ),
    PageType("city", lambda d: "/city"),
    PageType("city-other", lambda d: "/city?origin=" + quote(d.did("montevideo"))),
    PageType("compare", lambda d: "/compare"),
    PageType("compare-per-capita", lambda d: "/compare?indicator=people-trained&per_capita=1"),
    PageType("ontology", lambda d: "/vocab/ontology"),
    PageType("indicator-scheme", lambda d: "/vocab/schemes/indicators"),
    PageType("bad-filter", lambda d: "/search?q=wifi&theme=colours", status=400),
    PageType("not-found", lambda d: "/records/no-such-record", status=404),
    PageType("sign-in", lambda d: "/editor", signed_out=True),
    PageType("editor", lambda d: "/editor", signed_in=True),
    PageType("new-practice", lambda d: "/editor/new", signed_in=True),
    PageType(
        "new-practice-errors", lambda d: "/editor/new", signed_in=True, then=_form_with_errors
    ),
    PageType("new-result", lambda d: "/editor/new?type=Result", signed_in=True),
    PageType("edit", lambda d: "/editor/records/apropiatic", signed_in=True),
    PageType("import", lambda d: "/editor/import", signed_in=True),
    PageType("import-report", lambda d: "/editor/import", signed_in=True, then=_bad_upload),
    PageType("operator", lambda d: "/operator", signed_in=True),
    PageType("operator-new-token", lambda d: "/operator", signed_in=True, then=_token_created),
]
LANGUAGES: Final = ("es", "en", "pt")
