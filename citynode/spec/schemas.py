"""JSON Schemas of every federation message and record, generated from the msgspec Structs.

docs/protocol.md cites `docs/schemas/<Name>.json`; they are made here with
`msgspec.json.schema_components` over the types the wire carries, so a field added to a Struct
shows up in the schema (and tests/test_spec_files.py fails until the files are regenerated).
Each file is self-contained: the type's schema and the definitions it reaches.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Final

import msgspec

from citynode.web.contract import ErrorBody
from citynode.web.federation import NoticeAccepted
from protocol import messages, records
from protocol.did import DidDocument

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE: Final = "https://w3id.org/citynode/schemas/v1/"

#: file stem -> (type, what it is), in the order docs/protocol.md presents them.
TYPES: Final[dict[str, tuple[Any, str]]] = {
    "NodeDescriptor": (messages.NodeDescriptor, "GET /.well-known/citynode (section 6.1)"),
    "DidDocument": (DidDocument, "GET /.well-known/did.json, as a peer reads it (section 2.2)"),
    "PeerRequest": (messages.PeerRequest, "POST /fed/v1/peers, request (section 6.2)"),
    "PeerResponse": (messages.PeerResponse, "POST /fed/v1/peers, answer (section 6.2)"),
    "ChangesPage": (messages.ChangesPage, "GET /fed/v1/changes, answer (section 7.1)"),
    "InboxNotice": (messages.InboxNotice, "POST /fed/v1/inbox: new changes (section 7.2)"),
    "KeyNotice": (messages.KeyNotice, "POST /fed/v1/inbox: keys changed (section 7.2)"),
    "NoticeAccepted": (NoticeAccepted, "POST /fed/v1/inbox, answer (section 7.2)"),
    "DigestRequest": (messages.DigestRequest, "POST /fed/v1/digest, request (section 7.3)"),
    "DigestResponse": (messages.DigestResponse, "POST /fed/v1/digest, answer (section 7.3)"),
    "SearchRequest": (messages.SearchRequest, "POST /fed/v1/search, request (section 8)"),
    "SearchResponse": (messages.SearchResponse, "POST /fed/v1/search, answer (section 8)"),
    "Error": (ErrorBody, "every error answer (section 10)"),
    "Record": (records.Record, "a record or tombstone, as a node publishes it (section 3)"),
}


def _clean(value: Any) -> Any:
    """Descriptions without the docstrings' indentation."""
    if isinstance(value, dict):
        return {
            k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _clean(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _refs(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref.removeprefix("#/$defs/"))
        for item in value.values():
            found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def schemas() -> dict[str, dict[str, Any]]:
    """file stem -> a self-contained JSON Schema (2020-12)."""
    kinds = [kind for kind, _ in TYPES.values()]
    tops, components = _clean(msgspec.json.schema_components(kinds, ref_template="#/$defs/{name}"))
    result: dict[str, dict[str, Any]] = {}
    for (stem, (_, what)), top in zip(TYPES.items(), tops, strict=True):
        reached: set[str] = set()
        todo = _refs(top)
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo |= _refs(components[name]) - reached
        schema: dict[str, Any] = {
            "$schema": SCHEMA_DIALECT,
            "$id": f"{SCHEMA_BASE}{stem}.json",
            "title": stem,
            "$comment": f"{what}. Generated from the msgspec Structs by `make spec`: do not edit.",
            **top,
        }
        if reached:
            schema["$defs"] = {name: components[name] for name in sorted(reached)}
        result[stem] = schema
    return result


def schema_files() -> dict[str, bytes]:
    """docs/schemas/ file name -> content."""
    return {
        f"{stem}.json": (json.dumps(schema, indent=2, ensure_ascii=False) + "\n").encode()
        for stem, schema in schemas().items()
    }
