"""The reader's language and the message catalogs of the pages (gettext, via Babel).

Which language (issue 10): the URL prefix (`/en/search`), else `?lang=`, else the first
Accept-Language range we have (RFC 9110 12.5.4, by quality), else the node's first language.
Catalogs are the `.po` files under `web/locales/`, compiled in memory when first used: a fresh
clone needs no `pybabel compile` step and a stale `.mo` can never be served.
"""

from __future__ import annotations

import functools
import io
from gettext import NullTranslations
from pathlib import Path
from typing import Final

from aiohttp import web
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES: Final = Path(__file__).parent / "locales"
DOMAIN: Final = "messages"
#: The UI languages, in the order the switch shows them, with their own names.
LANGUAGES: Final = {"es": "Español", "en": "English", "pt": "Português"}
#: The route pattern of the language prefix.
PREFIX: Final = "{lang:" + "|".join(LANGUAGES) + "}"


def catalog_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of one UI language (the source text itself for a language without)."""
    path = catalog_path(lang)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def _accepted(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.lower().split("-")[0]))
    return [tag for _, _, tag in sorted(ranked)]


def accepted_languages(request: web.Request) -> tuple[str, ...]:
    """Every language the reader's Accept-Language names, by preference (any BCP 47 tag, not
    only the UI's: a record's text in French is the next best thing for a French reader)."""
    return tuple(dict.fromkeys(_accepted(request.headers.get("Accept-Language", ""))))


def reader_language(request: web.Request, default: str = "es") -> str:
    prefixed = request.match_info.get("lang")
    if prefixed in LANGUAGES:
        return prefixed
    asked = request.query.get("lang", "").lower()
    if asked in LANGUAGES:
        return asked
    for tag in _accepted(request.headers.get("Accept-Language", "")):
        if tag in LANGUAGES:
            return tag
    return default if default in LANGUAGES else "es"


def gettext(lang: str, message: str) -> str:
    return translations(lang).gettext(message)
