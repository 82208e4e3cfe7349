"""`make screenshots`: phone and desktop screenshots of every page type of the demo, in Spanish
(and the home and a practice in English and Portuguese), written to a folder (not committed).

    python -m tests.browser.screenshots screenshots/
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.browser import context, launch, sign_in
from tests.browser.demo_federation import start_demo
from tests.browser.pages import PAGE_TYPES

EXTRA_LANGUAGES = {"home": ("en", "pt"), "practice": ("en", "pt")}
#: Chromium captures at most 16,384 device pixels in one screenshot: a longer page (the
#: ontology lists every term) is written in parts, top to bottom.
MAX_CAPTURE_PX = 16_000


def _capture(view: Page, folder: Path, name: str, scale: int) -> list[Path]:
    height = int(view.evaluate("document.documentElement.scrollHeight"))
    width = int(view.evaluate("document.documentElement.scrollWidth"))
    part = MAX_CAPTURE_PX // scale
    if height <= part:
        path = folder / f"{name}.png"
        view.screenshot(path=str(path), full_page=True)
        return [path]
    paths = []
    for number, top in enumerate(range(0, height, part), start=1):
        path = folder / f"{name}-part{number}.png"
        clip = {"x": 0, "y": top, "width": width, "height": min(part, height - top)}
        view.screenshot(path=str(path), full_page=True, clip=clip)
        paths.append(path)
    return paths


def main(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="citynode-shots-") as data:
        demo = start_demo(Path(data))
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                for phone in (True, False):
                    width = "phone" if phone else "desktop"
                    made = context(browser, phone=phone)
                    page = made.new_page()
                    sign_in(page, demo.url(), demo.token, "es")
                    for kind in PAGE_TYPES:
                        for lang in ("es", *EXTRA_LANGUAGES.get(kind.name, ())):
                            shot = made if not kind.signed_out else context(browser, phone=phone)
                            view = shot.new_page()
                            view.goto(f"{demo.url()}/{lang}{kind.path(demo)}")
                            if kind.then is not None:
                                kind.then(view)
                            name = f"{kind.name}-{lang}-{width}"
                            for path in _capture(view, folder, name, 2 if phone else 1):
                                print(path)
                            view.close()
                            if shot is not made:
                                shot.close()
                    made.close()
                browser.close()
        finally:
            demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")))
