"""The open-data routes in the OpenAPI description (web/openapi.py merges these paths).

Kept beside the routes they describe until the route registry generates the whole document
from Structs; then these move into it.
"""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }


def _ok(description: str, *media: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {m: {"schema": {"type": "string"}} for m in media},
    }


_ORIGIN = {
    "name": "origin",
    "in": "query",
    "schema": {"type": "string", "enum": ["self", "all"]},
    "description": "self: this node's records (default); all: the whole replica",
}
_TYPE = {
    "name": "type",
    "in": "query",
    "schema": {
        "type": "string",
        "enum": ["Practice", "Project", "Policy", "Programme", "Result"],
    },
}
_LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["es", "en", "pt"]}}
_QUERY = {"name": "query", "in": "query", "schema": {"type": "string"}}
_SPARQL_MEDIA = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
)


def paths() -> dict[str, Any]:
    feed = _ok("an Atom feed (RFC 4287)", "application/atom+xml")
    return {
        "/catalog": {
            "get": {
                "summary": "The node's DCAT-AP 3 catalog: a dataset per record type and one for "
                "the replica, a distribution per dump, the SPARQL service",
                "responses": {
                    "200": _ok("the catalog", "application/ld+json", "text/turtle"),
                    **_errors(406),
                },
            }
        },
        "/dumps/{name}": {
            "get": {
                "summary": "A whole-store dump, streamed: records.jsonld, records.ttl, records.nq, "
                "records.csv (practices template), results.csv (results template); gzip with "
                "Accept-Encoding; ETag, Last-Modified, conditional requests",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    _ORIGIN,
                    _TYPE,
                ],
                "responses": {
                    "200": _ok(
                        "the dump",
                        "application/ld+json",
                        "text/turtle",
                        "application/n-quads",
                        "text/csv",
                    ),
                    "304": {"description": "not modified"},
                    **_errors(400, 404),
                },
            }
        },
        "/sparql": {
            "get": {
                "summary": "SPARQL 1.1 Protocol query (read-only); without a query, the service "
                "description",
                "parameters": [
                    _QUERY,
                    {"name": "default-graph-uri", "in": "query", "schema": {"type": "string"}},
                    {"name": "named-graph-uri", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _ok("the answer", *_SPARQL_MEDIA),
                    **_errors(400, 403, 406, 413, 422, 429),
                },
            },
            "post": {
                "summary": "SPARQL 1.1 Protocol query as application/sparql-query or a form; "
                "updates are refused",
                "requestBody": {
                    "content": {
                        "application/sparql-query": {"schema": {"type": "string"}},
                        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                    }
                },
                "responses": {
                    "200": _ok("the answer", *_SPARQL_MEDIA),
                    **_errors(400, 403, 406, 413, 415, 422, 429),
                },
            },
        },
        "/feeds/practices.atom": {
            "get": {
                "summary": "Atom feed of this node's practices",
                "parameters": [_LANG],
                "responses": {"200": feed},
            }
        },
        "/feeds/replica.atom": {
            "get": {
                "summary": "Atom feed of every city's practices this node holds",
                "parameters": [_LANG],
                "responses": {"200": feed},
            }
        },
        "/search.atom": {
            "get": {
                "summary": "Any search as an Atom feed, newest first (the /api/search parameters)",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, _LANG],
                "responses": {"200": feed, **_errors(400)},
            }
        },
    }
