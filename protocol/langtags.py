"""BCP 47 language tags (RFC 5646): which strings may key a record's language map.

Records may be written in any language, so a language map accepts every *well-formed* tag
(RFC 5646 section 2.1, the `langtag` and `privateuse` productions): `es`, `pt-BR`, `fr`,
`zh-Hant-TW`, `es-419`, `sr-Latn`, `x-local`. Whether a subtag is registered with IANA is not
checked: a node must keep working when the registry grows, and the shapes of a tag are what
JSON-LD and RDF tools rely on. The irregular grandfathered tags (`i-klingon`) are not accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

_ALNUM: Final = "[a-z0-9]"
# RFC 5646 section 2.1, written out production by production.
_LANGUAGE: Final = "(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"
_SCRIPT: Final = "(?:-[a-z]{4})?"
_REGION: Final = "(?:-(?:[a-z]{2}|[0-9]{3}))?"
_VARIANT: Final = f"(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*"
_EXTENSION: Final = f"(?:-[0-9a-wyz](?:-{_ALNUM}{{2,8}})+)*"
_PRIVATE: Final = f"x(?:-{_ALNUM}{{1,8}})+"
#: A well-formed BCP 47 tag, any case (the pattern msgspec checks every language-map key with).
PATTERN: Final = (
    f"(?i)^(?:{_LANGUAGE}{_SCRIPT}{_REGION}{_VARIANT}{_EXTENSION}(?:-{_PRIVATE})?|{_PRIVATE})$"
)
_TAG: Final = re.compile(PATTERN)
MAX_LENGTH: Final = 64


def is_language_tag(text: str) -> bool:
    """True for a well-formed BCP 47 tag (`fr`, `pt-BR`, `zh-Hant-TW`)."""
    return len(text) <= MAX_LENGTH and _TAG.match(text) is not None


def duplicates(tags: Iterable[str]) -> list[str]:
    """Tags that appear twice once case is ignored (BCP 47 tags are case-insensitive: `pt-BR`
    and `pt-br` name one language, so a language map may hold only one of them)."""
    seen: dict[str, str] = {}
    twice: list[str] = []
    for tag in tags:
        key = tag.lower()
        if key in seen:
            twice.append(tag)
        else:
            seen[key] = tag
    return twice


def primary(tag: str) -> str:
    """The primary language subtag, lower-cased: `pt-BR` -> `pt`."""
    return tag.split("-", 1)[0].lower()


def canonical_case(tag: str) -> str:
    """The tag in the case RFC 5646 section 2.1.1 recommends: language lower case, a
    two-letter region upper case, a four-letter script title case, the rest lower case, and
    everything after a singleton (`x-`, an extension) lower case: `pt_br` read from a CSV
    column comes back as `pt-BR`, `zh-hant-tw` as `zh-Hant-TW`."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    after_singleton = len(parts[0]) == 1
    for part in parts[1:]:
        after_singleton = after_singleton or len(part) == 1
        if after_singleton:
            out.append(part.lower())
        elif len(part) == 2:
            out.append(part.upper())
        elif len(part) == 4 and part[0].isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)
