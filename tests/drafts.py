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


CN = "https://w3id.org/citynode/"


def full_practice(slug: str, adapted_from: str | None = None, **fields: Any) -> dict[str, Any]:
    """A practice with every field of vocabulary 1.1 (costs, funders and partners, reach,
    level and scale, stage, areas, evidence, media, parts, adaptation, partial dates, marks, a
    text in French), for the pages that must show each of them."""
    org = CN + "organisation-kind#"
    draft = practice(
        slug,
        "Programme",
        title={"es": f"Alfabetización digital {slug}", "en": f"Digital literacy {slug}"},
        summary={
            "es": "Talleres de habilidades digitales en bibliotecas.",
            "en": "Digital skills workshops in libraries.",
            "fr": "Ateliers de compétences numériques dans les bibliothèques.",
        },
        problem={"es": "Muchas personas no usan internet.", "en": "Many people do not go online."},
        responsible={"es": "Secretaría de Innovación"},
        stage=CN + "stage#scaled",
        governmentLevel=CN + "government-level#local",
        scale=CN + "scale#city",
        startDate="2021",
        endDate="2023-06",
        costs=[
            {
                "type": "MonetaryAmount",
                "kind": CN + "cost-kind#budget",
                "value": 1200000000,
                "currency": "COP",
                "covers": {"es": "Formadores y equipos"},
                "period": "2022",
            }
        ],
        funders=[
            {
                "type": "Organisation",
                "name": {"es": "Banco Interamericano de Desarrollo"},
                "kind": org + "multilateral",
                "sameAs": "https://www.wikidata.org/entity/Q1327141",
            }
        ],
        partners=[
            {
                "type": "Organisation",
                "name": {"es": "Universidad de Antioquia"},
                "kind": org + "academic",
                "sameAs": "https://ror.org/03bp5hc83",
                "contribution": {"es": "Diseño de los contenidos"},
                "editorial": ["contribution"],
            }
        ],
        beneficiaries=[
            {
                "type": "Audience",
                "who": {"es": "Personas mayores de 60 años"},
                "count": 4500,
                "period": "2022-03",
                "illustrative": ["count"],
            }
        ],
        areas=[
            {
                "type": "Place",
                "name": {"es": "Comuna 1 Popular"},
                "sameAs": "https://www.wikidata.org/entity/Q5151404",
                "latitude": 6.2946,
                "longitude": -75.5460,
            }
        ],
        evidence=[
            {
                "type": "Evidence",
                "kind": CN + "evidence-kind#evaluation",
                "title": {"es": "Evaluación de resultados 2022"},
                "url": "https://example.org/evaluacion-2022.pdf",
                "date": "2023-02",
                "creator": {
                    "type": "Organisation",
                    "name": {"es": "Observatorio de Políticas Públicas"},
                    "kind": org + "academic",
                },
            }
        ],
        media=[
            {
                "type": "MediaObject",
                "url": "https://example.org/taller.jpg",
                "kind": CN + "media-kind#image",
                "title": {"es": "Taller en la biblioteca"},
                "alt": {"es": "Personas mayores frente a computadores en una biblioteca"},
                "license": "https://creativecommons.org/licenses/by/4.0/",
            }
        ],
        editorial=["problem"],
        illustrative=["startDate"],
    )
    if adapted_from:
        draft["adaptedFrom"] = [
            {
                "type": "Adaptation",
                "practice": adapted_from,
                "changes": {"es": "En bibliotecas en lugar de centros comunales"},
            }
        ]
    draft.update(fields)
    return draft
