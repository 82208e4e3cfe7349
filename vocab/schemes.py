"""The concept schemes a node serves by name (`/vocab/schemes/{name}`), the comparable
indicators, and the ISO 4217 currency list.

Fast (JSON snapshots, no rdflib), so the record rules and the API read them on the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final

from vocab.taxonomy import (
    EU_THEME_SCHEME,
    INDICATOR_SCHEME,
    SDG_SCHEME,
    STATUS_SCHEME,
    THEME_SCHEME,
    Concept,
    in_scheme,
)

_CN: Final = "https://w3id.org/citynode/"
#: Short name -> scheme IRI, for `/vocab/schemes/{name}`.
SCHEMES: Final = MappingProxyType(
    {
        "indicators": INDICATOR_SCHEME,
        "themes": THEME_SCHEME,
        "status": STATUS_SCHEME,
        "stage": _CN + "stage",
        "government-level": _CN + "government-level",
        "scale": _CN + "scale",
        "organisation-kind": _CN + "organisation-kind",
        "evidence-kind": _CN + "evidence-kind",
        "media-kind": _CN + "media-kind",
        "cost-kind": _CN + "cost-kind",
        "sdg": SDG_SCHEME,
        "eu-data-themes": EU_THEME_SCHEME,
    }
)
CURRENCIES_FILE: Final = Path(__file__).parent / "data" / "iso4217.json"


def indicators() -> list[Concept]:
    """The comparable indicators, in scheme order."""
    return in_scheme(INDICATOR_SCHEME)


@cache
def currencies() -> Mapping[str, str]:
    """ISO 4217 alphabetic code -> the currency's English name (List One, `data/iso4217.json`)."""
    data = json.loads(CURRENCIES_FILE.read_text(encoding="utf-8"))
    return MappingProxyType({code: item["name"] for code, item in data["currencies"].items()})
