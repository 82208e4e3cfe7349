"""The OpenAPI 3.1 description of the node's HTTP API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from citynode.search.query import FACETS
from citynode.web.keys import NODE
from citynode.web.records import json_response
from citynode.web.render import PAGES

routes = web.RouteTableDef()

_ERROR = {"$ref": "#/components/schemas/Error"}
_RECORD = {"$ref": "#/components/schemas/Record"}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }


def _ok(
    description: str, schema: dict[str, Any], media: tuple[str, ...] = ("application/json",)
) -> dict[str, Any]:
    return {"description": description, "content": {m: {"schema": schema} for m in media}}


_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,99}$"},
}
_RECORD_MEDIA = (
    "application/ld+json",
    "application/json",
    "text/turtle",
    "application/n-triples",
    "text/html",
)


_DRAFT = {"$ref": "#/components/schemas/Draft"}
_DRAFT_BODY = {
    "required": True,
    "content": {
        "application/ld+json": {"schema": _DRAFT},
        "application/json": {"schema": _DRAFT},
        "text/turtle": {"schema": {"type": "string"}},
    },
}
_PUBLISHED = _ok("published", {"$ref": "#/components/schemas/Outcome"})


def document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "citynode",
            "version": "1",
            "description": "A city's node: signed practice records in a shared vocabulary, "
            "federated with peer cities and searchable across them.",
        },
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"editorToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message", "detail"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "detail": {"type": "object"},
                    },
                },
                "Record": {
                    "type": "object",
                    "description": "A signed JSON-LD record (context https://w3id.org/citynode/v1).",
                    "required": ["@context", "id", "type", "version"],
                },
                "Draft": {
                    "type": "object",
                    "description": "A record without version, issued, modified, publisher and "
                    "proof; id and resultOf may be relative (records/<slug>).",
                },
                "Outcome": {
                    "type": "object",
                    "properties": {"records": {"type": "array", "items": {"type": "object"}}},
                },
            },
        },
        "paths": {
            **_page_paths(),
            "/.well-known/did.json": {
                "get": {
                    "summary": "The node's DID document (did:web) with its Ed25519 Multikeys",
                    "responses": {
                        "200": _ok("DID document", {"type": "object"}, ("application/did+json",))
                    },
                }
            },
            "/.well-known/citynode": {
                "get": {
                    "summary": "The node descriptor: city, languages, protocol, limits, endpoints",
                    "responses": {"200": _ok("descriptor", {"type": "object"})},
                }
            },
            "/vocab/v1": {
                "get": {
                    "summary": "The citynode JSON-LD context",
                    "responses": {
                        "200": _ok("context", {"type": "object"}, ("application/ld+json",))
                    },
                }
            },
            "/records": {
                "get": {
                    "summary": "Current records, newest first",
                    "parameters": [
                        {
                            "name": "type",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": [
                                    "Project",
                                    "Policy",
                                    "Programme",
                                    "Practice",
                                    "Result",
                                    "Tombstone",
                                ],
                            },
                        },
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {"name": "modified_since", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "origin",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "description": "self (default), all, or a DID",
                            },
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {"name": "before", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": _ok("a page of records", {"type": "object"}),
                        **_errors(400),
                    },
                }
            },
            "/records/{slug}": {
                "get": {
                    "summary": "One record, by content negotiation",
                    "parameters": [
                        _SLUG,
                        {"name": "version", "in": "query", "schema": {"type": "integer"}},
                        {"name": "format", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _ok("the record", _RECORD, _RECORD_MEDIA),
                        "410": _ok("withdrawn: the signed tombstone", _RECORD, _RECORD_MEDIA),
                        **_errors(404, 406),
                    },
                }
            },
            "/records/{slug}/versions": {
                "get": {
                    "summary": "The record's version history",
                    "parameters": [_SLUG],
                    "responses": {"200": _ok("versions", {"type": "object"}), **_errors(404)},
                }
            },
            "/records/{slug}/versions/{version}": {
                "get": {
                    "summary": "One version of a record",
                    "parameters": [
                        _SLUG,
                        {
                            "name": "version",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                    ],
                    "responses": {
                        "200": _ok("the version", _RECORD, _RECORD_MEDIA),
                        **_errors(404, 406),
                    },
                }
            },
            "/api/records": {
                "post": {
                    "summary": "Publish new records (one draft, a list, or a JSON-LD @graph)",
                    "security": [{"editorToken": []}],
                    "requestBody": _DRAFT_BODY,
                    "responses": {"201": _PUBLISHED, **_errors(400, 401, 413, 415, 422)},
                }
            },
            **_federation_paths(),
            "/api/records/{slug}": {
                "put": {
                    "summary": "Publish a new version of a record",
                    "security": [{"editorToken": []}],
                    "parameters": [_SLUG],
                    "requestBody": _DRAFT_BODY,
                    "responses": {"200": _PUBLISHED, **_errors(400, 401, 413, 415, 422)},
                },
                "delete": {
                    "summary": "Withdraw a record (publishes a signed tombstone)",
                    "security": [{"editorToken": []}],
                    "parameters": [_SLUG],
                    "responses": {
                        "200": _ok("withdrawn", {"type": "object"}),
                        **_errors(401, 404, 410),
                    },
                },
            },
        },
    }


_SIGNED = (
    "Signed with RFC 9421 HTTP Message Signatures (ed25519; @method, @target-uri, and "
    "content-digest with a body); the key must be in the signer's DID document."
)
_MESSAGE = {"type": "object", "description": "A federation wire message (protocol/messages.py)."}


def _fed_post(summary: str, answer: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": _SIGNED,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _MESSAGE}},
            },
            "responses": {
                "200": _ok(answer, _MESSAGE),
                "202": _ok(answer, {"type": "object"}),
                **_errors(400, 401, 403, 413, 429),
            },
        }
    }


def _peer_action() -> dict[str, Any]:
    return {
        "post": {
            "summary": "Approve, block, remove or sync a peer (action: approve|block|remove|sync)",
            "security": [{"editorToken": []}],
            "parameters": [
                {"name": "action", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "peer": {"type": "string"},
                                "reason": {"type": "string"},
                            },
                        }
                    }
                }
            },
            "responses": {"200": _ok("done", {"type": "object"}), **_errors(400, 401, 404)},
        }
    }


def _search_paths() -> dict[str, Any]:
    facets = [
        {
            "name": name,
            "in": "query",
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": True,
            "description": "repeat for OR; facets AND together",
        }
        for name in FACETS
    ]
    common = [
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["es", "en", "pt"]}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ]
    return {
        "/api/search": {
            "get": {
                "summary": "Search the records this node holds (scope=local, the default) or "
                "also ask peers live (scope=live): ranked hits, facets with counts, and why each "
                "hit matched",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": 'words, "a phrase"; any text is accepted',
                    },
                    {
                        "name": "scope",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["local", "live"]},
                    },
                    {
                        "name": "sort",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["relevance", "date"]},
                    },
                    *facets,
                    *common,
                ],
                "responses": {"200": _ok("results", {"type": "object"}), **_errors(400)},
            }
        },
        "/records/{slug}/similar": {
            "get": {
                "summary": "Practices of other cities most like this record",
                "parameters": [_SLUG, *common],
                "responses": {"200": _ok("similar records", {"type": "object"}), **_errors(400)},
            }
        },
    }


def _federation_paths() -> dict[str, Any]:
    peer_list = {"type": "object", "properties": {"peers": {"type": "array"}}}
    return {
        "/fed/v1/changes": {
            "get": {
                "summary": "Changes feed: records and tombstones in stored order, with the next "
                "cursor (own records and, when relaying, verified records from other cities)",
                "description": _SIGNED,
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
                "responses": {"200": _ok("a ChangesPage", _MESSAGE), **_errors(400, 401, 403, 429)},
            }
        },
        "/fed/v1/inbox": _fed_post("Push notice: the sender has new changes", "scheduled"),
        "/fed/v1/peers": _fed_post("Peer request (PeerRequest -> PeerResponse)", "the answer"),
        "/fed/v1/digest": _fed_post("Per-origin digests for reconcile", "a DigestResponse"),
        "/fed/v1/search": _fed_post(
            "Live search (SearchRequest -> SearchResponse), answered only when the operator set "
            "live_search",
            "a SearchResponse",
        ),
        **_search_paths(),
        "/api/peers": {
            "get": {
                "summary": "Peers with state, cursor, lag, last success, last error, rejected",
                "security": [{"editorToken": []}],
                "responses": {"200": _ok("peers", peer_list), **_errors(401)},
            },
            "post": {
                "summary": "Add a peer by URL (fetches its descriptor, asks it to peer back)",
                "security": [{"editorToken": []}],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"url": {"type": "string"}}}
                        }
                    }
                },
                "responses": {
                    "201": _ok("added", {"type": "object"}),
                    **_errors(400, 401, 403, 502),
                },
            },
        },
        "/api/peers/{action}": _peer_action(),
    }


def _page_paths() -> dict[str, Any]:
    """Pages for people (web/render.py PAGES): HTML for browsers, the same data as JSON."""
    out: dict[str, Any] = {}
    for path, methods in PAGES.items():
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in names
        ]
        out[path] = {
            method: {
                "summary": summary,
                "tags": ["pages"],
                "parameters": parameters,
                "responses": {
                    "200": _ok(
                        "the page (HTML), or its data with Accept: application/json",
                        {"type": "object"},
                        ("text/html", "application/json"),
                    ),
                    "303": {"description": "done: see the page it leads to"},
                    **_errors(400, 401, 403, 404, 410, 413, 422),
                },
            }
            for method, summary in methods.items()
        }
    return out


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return json_response(document(request.app[NODE].config.base_url))
