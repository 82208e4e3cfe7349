"""Small valid drafts for tests (the node fills in version, dates, publisher and proof)."""

from __future__ import annotations

from typing import Any

STATUS = "https://w3id.org/citynode/status#"
THEME = "https://w3id.org/citynode/theme#"


def practice(slug: str, kind: str = "Project", **fields: Any) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "type": kind,
        "id": f"records/{slug}",
        "title": {"es": f"Parques con wifi {slug}", "en": f"Parks with wifi {slug}"},
        "summary": {
            "es": "Internet gratis en parques públicos.",
            "en": "Free internet in public parks.",
        },
        "status": STATUS + "ongoing",
        "themes": [THEME + "connectivity"],
        "sdgs": ["http://metadata.un.org/sdg/9.c"],
    }
    draft.update(fields)
    return draft


def result(slug: str, of: str, **fields: Any) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "type": "Result",
        "id": f"records/{slug}",
        "resultOf": f"records/{of}",
        "title": {"es": "Parques conectados", "en": "Connected parks"},
        "status": STATUS + "completed",
        "progress": 100,
        "measurements": [
            {
                "type": "Measurement",
                "indicator": {"es": "Parques con wifi", "en": "Parks with wifi"},
                "value": 33,
                "unit": "parks",
                "period": "2015",
                "role": "observed",
            },
        ],
    }
    draft.update(fields)
    return draft
