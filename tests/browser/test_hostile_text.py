"""Stored `<script>`, event-handler markup and `javascript:` in every text field of a practice and
its result, shown on every page that shows them, in a real browser: nothing runs.

Two defences are checked together: the templates escape every text (no markup from a record
reaches the DOM as markup), and the CSP would refuse an inline script if one ever did.
"""

from __future__ import annotations

import time
from typing import Any, Final
from urllib.parse import quote

from playwright.sync_api import Browser

from tests.browser.browser import context, sign_in
from tests.browser.demo_federation import Demo

HOSTILE: Final = (
    '<script>window.__pwned="script"</script>'
    "<img src=x onerror=\"window.__pwned='img'\">"
    "javascript:window.__pwned='link'"
)


def _texts(tag: str) -> dict[str, str]:
    return {"es": f"{tag} {HOSTILE}", "en": f"{tag} {HOSTILE}"}


CN: Final = "https://w3id.org/citynode/"


def _organisation(tag: str) -> dict[str, Any]:
    return {
        "type": "Organisation",
        "name": _texts(tag),
        "kind": CN + "organisation-kind#public",
        "contribution": _texts(f"{tag}-aporte"),
    }


def _records(stamp: str, adapted_from: str) -> list[dict[str, Any]]:
    practice = f"records/hostil-{stamp}"
    return [
        {
            "id": practice,
            "type": "Project",
            "status": "https://w3id.org/citynode/status#ongoing",
            **{
                field: _texts(f"hostil{stamp}")
                for field in (
                    "title",
                    "summary",
                    "description",
                    "problem",
                    "approach",
                    "lessonsLearned",
                    "transferability",
                    "responsible",
                )
            },
            "keywords": {"es": [HOSTILE, f"hostil{stamp}"]},
            "themes": ["https://w3id.org/citynode/theme#connectivity"],
            "legalBasis": [{"type": "LegalResource", "title": _texts("ley")}],
            "contactPoint": {"type": "Organization", "fn": HOSTILE},
            # Vocabulary 1.1's texts: every one a place markup could try to get in.
            "costs": [
                {
                    "type": "MonetaryAmount",
                    "kind": CN + "cost-kind#budget",
                    "value": 1000,
                    "currency": "COP",
                    "covers": _texts("cubre"),
                }
            ],
            "funders": [_organisation("financiador")],
            "partners": [_organisation("socio")],
            "beneficiaries": [{"type": "Audience", "who": _texts("quienes"), "count": 10}],
            "areas": [{"type": "Place", "name": _texts("zona")}],
            "evidence": [
                {
                    "type": "Evidence",
                    "kind": CN + "evidence-kind#study",
                    "title": _texts("estudio"),
                    "summary": _texts("estudio-resumen"),
                    "creator": _organisation("autor"),
                }
            ],
            "media": [
                {
                    "type": "MediaObject",
                    "url": "https://example.org/foto.jpg",
                    "kind": CN + "media-kind#image",
                    "title": _texts("foto"),
                    "alt": _texts("foto-alt"),
                }
            ],
            "adaptedFrom": [
                {"type": "Adaptation", "practice": adapted_from, "changes": _texts("cambios")}
            ],
        },
        {
            "id": f"records/hostil-{stamp}-resultado",
            "type": "Result",
            "resultOf": practice,
            "status": "https://w3id.org/citynode/status#ongoing",
            "title": _texts(f"hostil{stamp}"),
            "summary": _texts("resumen"),
            "description": _texts("descripcion"),
            "measurements": [
                {
                    "type": "Measurement",
                    "indicator": _texts("indicador"),
                    "value": 5,
                    "unit": HOSTILE[:120],
                    "period": "2023",
                },
                {
                    "type": "Measurement",
                    "indicator": _texts("indicador"),
                    "value": 9,
                    "unit": HOSTILE[:120],
                    "period": "2025",
                    "role": "target",
                },
            ],
        },
    ]


def test_stored_markup_and_javascript_urls_never_run(browser: Browser, demo: Demo) -> None:
    stamp = str(int(time.time()))
    lisboa = f"{demo.url('lisboa')}/records/wifi-espacos-publicos"
    practice, result = demo.publish(_records(stamp, lisboa))
    base = demo.url()
    slug = practice.rsplit("/", 1)[1]
    pages = [
        f"/es/records/{slug}",
        f"/en/records/{result.rsplit('/', 1)[1]}",
        f"/es/search?q=hostil{stamp}",
        f"/en/search?q={quote(HOSTILE)}",
        "/es/",
        "/es/practice?id=" + quote(lisboa),  # the adaptation, on its source's page
        "/es/city",
        "/en/compare?indicator=" + quote(f"indicador {HOSTILE}".casefold()),
        f"/es/editor/records/{slug}",
        "/es/editor",
    ]
    made = context(browser)
    dialogs: list[str] = []
    violations: list[str] = []
    try:
        page = made.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        sign_in(page, base, demo.token, "es")
        for path in pages:
            page.goto(base + path)
            page.wait_for_load_state("load")
            shown = page.content()
            expected = "cambios" if "practice?id=" in path else f"hostil{stamp}"
            assert expected in shown or "q=" in path or "compare" in path, path
            assert page.evaluate("window.__pwned") is None, path
            assert page.locator("a[href^='javascript:' i]").count() == 0, path
            assert page.locator("img[onerror], [onerror]").count() == 0, path
            assert page.locator("body script:not([src])").count() == 0, path
        page.goto(f"{base}/es/editor/records/{slug}")
        page.fill("#reason", HOSTILE)
        page.click("button.danger")
        page.goto(f"{base}/es/records/{slug}")
        assert page.evaluate("window.__pwned") is None
        assert "&lt;script&gt;" in page.content()
    finally:
        made.close()
    assert dialogs == []
    assert violations == [], violations
