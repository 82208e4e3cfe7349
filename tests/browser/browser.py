"""Debian's chromium driven by Playwright, and axe-core run in the page.

Never a browser Playwright downloads: `executable_path` is Debian's (installed by
scripts/ensure-chromium). axe-core is the copy shipped inside the pinned axe-playwright-python
package, injected as an init script (evaluated by the DevTools protocol, so the pages' strict CSP
stays on while it runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import axe_playwright_python
from playwright.sync_api import Browser, BrowserContext, Page, Playwright

CHROMIUM: Final = "/usr/bin/chromium"
ARGS: Final = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SOURCE: Final = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
WCAG_21_AA: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE: Final = {"width": 390, "height": 844}
DESKTOP: Final = {"width": 1280, "height": 900}


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def context(browser: Browser, *, axe: bool = False, phone: bool = False) -> BrowserContext:
    """A fresh browser profile. `axe` contexts may inject axe-core into pages (`bypass_csp`:
    the test adds a script the page's CSP would refuse); every other context keeps the CSP."""
    return browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        bypass_csp=axe,
    )


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now."""
    page.add_script_tag(content=AXE_SOURCE)
    # resultTypes: only violations are collected in full (passes and incomplete results are
    # counted, not described), which is most of axe's time on a long page.
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await axe.run(document,"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_21_AA,
    )
    return [
        {
            "id": v["id"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
    ]


def sign_in(page: Page, base: str, token: str, lang: str = "en") -> None:
    page.goto(f"{base}/{lang}/editor")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/{lang}/editor")
