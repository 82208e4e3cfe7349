"""`/openapi.json`: the OpenAPI 3.1 document, built from the routes' declarations.

Nothing here is written by hand: paths, parameters, bodies and answers come from each route's
`Operation` (citynode/web/contract.py), and every schema from its msgspec type through
`msgspec.json.schema_components`, so the document says what the code decodes and encodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from aiohttp import web

from citynode.web.contract import AnyOf, Operation, Routes
from citynode.web.keys import NODE, OPERATIONS
from citynode.web.responses import respond

routes = Routes("discovery")

_REF = "#/components/schemas/{name}"
_DESCRIPTION = (
    "A city's node: signed practice records in a shared vocabulary, federated with peer cities "
    "and searchable across them. Every error answers {code, message, detail}."
)
_SIGNED = (
    "Signed with RFC 9421 HTTP Message Signatures (ed25519; @method, @target-uri, and "
    "content-digest with a body); the key must be in the signer's DID document."
)
_SIGNATURE_HEADERS = (
    ("Signature-Input", "the RFC 9421 signature parameters (keyid, created, expires, nonce)"),
    ("Signature", "the RFC 9421 signature"),
)


def _types(operations: Iterable[Operation]) -> list[Any]:
    """Every type the operations name, each once, in a stable order."""
    seen: dict[Any, None] = {}

    def add(kind: Any) -> None:
        for one in kind.types if isinstance(kind, AnyOf) else (kind,):
            seen.setdefault(one, None)

    for op in operations:
        for kind in (op.query, op.path_type):
            if kind is not None:
                seen.setdefault(kind, None)
        if op.body is not None:
            for kind in op.body.content.values():
                add(kind)
        for reply in op.responses.values():
            for kind in reply.content.values():
                add(kind)
    return list(seen)


def _parameters(kind: type[msgspec.Struct], where: str, components: dict[str, Any]) -> list[Any]:
    schema = components[kind.__name__]
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        # A parameter is absent or text: "or null" says nothing a query string could carry.
        options = prop.get("anyOf", [])
        if len(options) == 2 and {"type": "null"} in options:
            rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
            prop = {**rest, **next(o for o in options if o != {"type": "null"})}
        param: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": prop,
        }
        if "description" in prop:
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param["style"], param["explode"] = "form", True
        if where == "query" and not param["required"]:
            # `?limit=` counts as absent (citynode/web/params.py): HTML forms send empty fields.
            param["allowEmptyValue"] = True
        out.append(param)
    return out


def _operation_id(op: Operation) -> str:
    """Unique in the document, as OpenAPI requires: a page served in the reader's language
    (`/x`) and in a chosen one (`/{lang}/x`) share a handler, not an operation."""
    chosen = "_in_language" if op.path.startswith("/{lang}/") else ""
    return f"{op.method.lower()}_{op.handler.__name__}{chosen}"


def document(operations: list[Operation], base_url: str) -> dict[str, Any]:
    kinds = _types(operations)
    refs, components = msgspec.json.schema_components(kinds, ref_template=_REF)
    refs_of = dict(zip(kinds, refs, strict=True))

    def schema_of(kind: Any) -> Any:
        if isinstance(kind, AnyOf):
            return {"anyOf": [refs_of[one] for one in kind.types]}
        return refs_of[kind]

    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        parameters: list[Any] = []
        if op.path_type is not None:
            parameters += _parameters(op.path_type, "path", components)
        if op.query is not None:
            parameters += _parameters(op.query, "query", components)
        headers = op.headers + (_SIGNATURE_HEADERS if op.auth == "signed" else ())
        for name, what in headers:
            parameters.append(
                {"name": name, "in": "header", "description": what, "schema": {"type": "string"}}
            )
        entry: dict[str, Any] = {
            "operationId": _operation_id(op),
            "tags": [op.tag],
            "summary": op.summary,
            "responses": {
                str(status): {
                    "description": reply.description,
                    **(
                        {"content": {m: {"schema": schema_of(t)} for m, t in reply.content.items()}}
                        if reply.content
                        else {}
                    ),
                }
                for status, reply in sorted(op.responses.items())
            },
        }
        description = op.description
        if op.auth == "signed":
            description = f"{description}\n\n{_SIGNED}".strip()
        if description:
            entry["description"] = description
        if parameters:
            entry["parameters"] = parameters
        if op.body is not None:
            entry["requestBody"] = {
                "required": op.body.required,
                "content": {m: {"schema": schema_of(t)} for m, t in op.body.content.items()},
                **({"description": op.body.description} if op.body.description else {}),
            }
        if op.auth == "editor":
            entry["security"] = [{"editorToken": []}]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    for op in operations:  # parameter Structs are spelled out as parameters, not as schemas
        for kind in (op.query, op.path_type):
            if kind is not None:
                components.pop(kind.__name__, None)
    return {
        "openapi": "3.1.0",
        "info": {"title": "citynode", "version": "1", "description": _DESCRIPTION},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"editorToken": {"type": "http", "scheme": "bearer"}},
            "schemas": components,
        },
        "paths": paths,
    }


@routes.get(
    "/openapi.json",
    summary="This document: the node's HTTP API as OpenAPI 3.1",
    responses={200: dict[str, Any]},
)
async def openapi(request: web.Request) -> web.Response:
    return respond(document(request.app[OPERATIONS], request.app[NODE].config.base_url))
