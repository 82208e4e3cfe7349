"""The OpenAPI description of the vocabulary, indicator and lineage routes, with schemas made
from the Structs the handlers return (msgspec.json.schema_components), so the description cannot
drift from the answers. citynode/web/openapi.py merges it into /openapi.json.
"""

from __future__ import annotations

from typing import Any

import msgspec

from citynode.indicators import Comparison, Indicator
from citynode.lineage import Adaptation, Relations

_REF = "#/components/schemas/{name}"
_ERROR = {"$ref": "#/components/schemas/Error"}


class IndicatorList(msgspec.Struct, frozen=True, rename="camel"):
    indicators: list[Indicator]


class Lineage(msgspec.Struct, frozen=True, rename="camel"):
    adaptations: list[Adaptation]
    count: int


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(description: str, *media: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {m: {"schema": {"type": "string"}} for m in media},
    }


_FORMAT = {"name": "format", "in": "query", "schema": {"type": "string"}}


def vocabulary_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, component schemas) for the routes of web/vocabulary.py and web/comparisons.py."""
    (indicators, comparison, relations, lineage), schemas = msgspec.json.schema_components(
        [IndicatorList, Comparison, Relations, Lineage], ref_template=_REF
    )
    paths: dict[str, Any] = {
        "/vocab/v1": {
            "get": {
                "summary": "The citynode JSON-LD context",
                "responses": {"200": _text("context", "application/ld+json")},
            }
        },
        "/vocab/ontology": {
            "get": {
                "summary": "The ontology: Turtle, or structured JSON (every JSON term with its "
                "IRI, labels, definitions and rules)",
                "parameters": [_FORMAT],
                "responses": {
                    "200": _text("the ontology", "text/turtle", "application/json"),
                    **_errors(406),
                },
            }
        },
        "/vocab/shapes": {
            "get": {
                "summary": "The SHACL shapes records are checked against",
                "responses": {"200": _text("shapes", "text/turtle")},
            }
        },
        "/vocab/schemes": {
            "get": {
                "summary": "The concept schemes served by name",
                "responses": {"200": _json("schemes", {"type": "object"})},
            }
        },
        "/vocab/schemes/{name}": {
            "get": {
                "summary": "One concept scheme (indicators, themes, status, stage...) as JSON or "
                "Turtle",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    _FORMAT,
                ],
                "responses": {
                    "200": _text("the scheme", "application/json", "text/turtle"),
                    **_errors(404, 406),
                },
            }
        },
        "/api/indicators": {
            "get": {
                "summary": "The comparable indicators, with the cities of the replica that report "
                "each",
                "responses": {"200": _json("indicators", indicators)},
            }
        },
        "/api/indicators/{indicator}/compare": {
            "get": {
                "summary": "One indicator across every city in the replica: observed, baseline "
                "and target series in the canonical unit, per capita where meaningful, each "
                "point linked to its signed record",
                "parameters": [
                    {
                        "name": "indicator",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z0-9-]{1,80}$"},
                    }
                ],
                "responses": {"200": _json("the comparison", comparison), **_errors(404)},
            }
        },
        "/api/lineage": {
            "get": {
                "summary": "Who learned from whom: every adaptedFrom link in the replica",
                "parameters": [{"name": "city", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _json("adaptations", lineage)},
            }
        },
        "/api/relations": {
            "get": {
                "summary": "One record's links, both ways: results, partOf, parts, adaptedFrom, "
                "adaptations (from any city)",
                "parameters": [
                    {
                        "name": "record",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "format": "uri"},
                    }
                ],
                "responses": {"200": _json("relations", relations), **_errors(400)},
            }
        },
    }
    return paths, schemas
