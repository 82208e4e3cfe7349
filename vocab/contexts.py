"""The bundled JSON-LD contexts, and a way to inline them so nothing is ever fetched.

A record names its contexts by URL (`["https://w3id.org/citynode/v1",
"https://w3id.org/security/data-integrity/v2"]`). A JSON-LD processor would dereference them; the
node must not (docs/DESIGN.md: "served from the package, never fetched"), both for availability and
because a remote context can change what a signed record means. So every context string is swapped
for the copy in `contexts/` before a processor sees the document, and anything else is refused.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from vocab.errors import UnknownContext, VocabError

CONTEXT_URL: Final = "https://w3id.org/citynode/v1"
DATA_INTEGRITY_CONTEXT_URL: Final = "https://w3id.org/security/data-integrity/v2"

_DIR: Final = Path(__file__).parent / "contexts"
_FILES: Final = MappingProxyType(
    {
        CONTEXT_URL: "citynode-v1.jsonld",
        DATA_INTEGRITY_CONTEXT_URL: "data-integrity-v2.jsonld",
    }
)
#: The URLs this package can resolve, and nothing else.
BUNDLED_CONTEXTS: Final = frozenset(_FILES)


@cache
def _load(url: str) -> dict[str, Any]:
    name = _FILES.get(url)
    if name is None:
        raise UnknownContext(url)
    document: dict[str, Any] = json.loads((_DIR / name).read_text(encoding="utf-8"))
    return document


def context_document(url: str) -> dict[str, Any]:
    """The bundled context document (`{"@context": {...}}`) for `url`; a fresh copy.

    Raises `UnknownContext` (a `VocabError`) naming the URL for any other URL.
    """
    return copy.deepcopy(_load(url))


def _inline_context_value(value: Any) -> Any:
    """One `@context` value: a URL, an object, null, or a list of those."""
    if isinstance(value, str):
        return copy.deepcopy(_load(value)["@context"])
    if isinstance(value, list):
        return [_inline_context_value(item) for item in value]
    if isinstance(value, dict):
        if "@import" in value:
            # JSON-LD 1.1 §4.1.10: @import is dereferenced by the processor, i.e. fetched.
            raise VocabError(f"'@import' of {value['@import']!r} in a context is not allowed")
        return _inline(value)
    if value is None:
        return None
    raise VocabError(f"'@context' must be a URL, an object or a list, not {type(value).__name__}")


def _inline(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _inline_context_value(value) if key == "@context" else _inline(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_inline(item) for item in node]
    return node


def inline_contexts(document: Any) -> Any:
    """A copy of `document` with every `@context` URL replaced by the bundled context object.

    Works at any depth (scoped contexts, nested objects, lists). Raises `UnknownContext` for a URL
    that is not bundled, so a JSON-LD processor handed the result has nothing to fetch.
    """
    return _inline(document)


def _expand(value: str, prefixes: dict[str, str]) -> str:
    prefix, sep, rest = value.partition(":")
    if sep and prefix in prefixes and not rest.startswith("//"):
        return prefixes[prefix] + rest
    return value


@cache
def context_terms() -> MappingProxyType[str, str]:
    """Every term of the citynode context -> the full IRI it stands for (prefixes excluded)."""
    raw: dict[str, Any] = _load(CONTEXT_URL)["@context"]
    prefixes = {
        key: value
        for key, value in raw.items()
        if isinstance(value, str) and value.endswith(("#", "/"))
    }
    terms: dict[str, str] = {}
    for key, value in raw.items():
        if key.startswith("@") or key in prefixes:
            continue
        iri = value["@id"] if isinstance(value, dict) else value
        if iri.startswith("@"):  # "id": "@id", "type": "@type"
            continue
        terms[key] = _expand(iri, prefixes)
    return MappingProxyType(terms)


@cache
def term_for_iri() -> MappingProxyType[str, str]:
    """Full IRI -> the context term a clerk sees in the JSON (for error messages)."""
    reverse = {iri: term for term, iri in context_terms().items()}
    reverse["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"] = "type"
    reverse["https://w3id.org/security#proof"] = "proof"
    return MappingProxyType(reverse)


def _term_definitions(context: Any, into: dict[str, Any]) -> None:
    """Collect term definitions of a context object, scoped contexts included."""
    if isinstance(context, list):
        for item in context:
            _term_definitions(item, into)
        return
    if not isinstance(context, dict):
        return
    for key, value in context.items():
        if key.startswith("@"):
            continue
        into.setdefault(key, value)
        if isinstance(value, dict) and "@context" in value:
            _term_definitions(value["@context"], into)


@cache
def _known_terms() -> MappingProxyType[str, Any]:
    terms: dict[str, Any] = {}
    for url in sorted(BUNDLED_CONTEXTS):
        _term_definitions(_load(url)["@context"], terms)
    return MappingProxyType(terms)


def undefined_terms(document: Any) -> list[str]:
    """JSON paths of keys that no bundled context defines ("foo", "measurements[0].colour").

    JSON-LD expansion silently drops such keys, so neither rdflib nor the SHACL shapes ever see
    them; docs/DESIGN.md wants unknown terms to be errors, so they are found here, on the JSON.
    Absolute and compact IRIs used as keys are left to the closed shapes.
    """
    known = _known_terms()
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]")
            return
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            path = f"{where}.{key}" if where else key
            if key == "@context":
                continue
            if key.startswith("@") or ":" in key:
                walk(value, path)
                continue
            definition = known.get(key)
            if definition is None:
                found.append(path)
            elif isinstance(definition, dict) and definition.get("@container") == "@language":
                continue  # the keys of a language map are language tags, not terms
            else:
                walk(value, path)

    walk(document, "")
    return found
