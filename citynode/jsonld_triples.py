"""A record's triples read straight from the context's term table: JSON-LD to RDF without a
JSON-LD processor, for the shapes records have.

Why: a full JSON-LD processor re-processes the 80-term context for every document (Oxigraph's
parser: ~0.37 ms a record, three quarters of a Turtle dump's time). Records are compact JSON-LD
in one known, protected context, so each key maps to one term definition; this module applies
exactly the JSON-LD 1.1 rules those definitions need (API 5.3.2 Value Expansion, 8.6 Object to
RDF Conversion): `@id`/`@type` keys, type coercion to IRIs (`@id`, `@vocab`) and to datatypes,
`@language` and `@set` containers, nested nodes as blank nodes, native numbers and booleans.

Anything else (a term with a scoped context, `@reverse`, `@list`, a value object, a key the
context does not define, a relative IRI...) returns None and the caller uses the JSON-LD
processor for that record, so a term added to the context later is never read wrongly.
`tests/test_rdf_views.py` checks that both give the same triples on every sample record.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any, Final

import vocab
from protocol.records import CONTEXT_URL

XSD: Final = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE: Final = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD_INTEGER: Final = f"<{XSD}integer>"
XSD_DOUBLE: Final = f"<{XSD}double>"
XSD_BOOLEAN: Final = f"<{XSD}boolean>"
_SKIP: Final = frozenset({"@context", "id", "type", "proof"})
#: The `@context` values whose terms this module reads from the table.
_READABLE_CONTEXTS: Final = ([CONTEXT_URL, vocab.DATA_INTEGRITY_CONTEXT_URL], [CONTEXT_URL])
#: Characters an IRI may not hold (RDF 1.1 N-Triples, IRIREF), and a BCP 47-shaped tag.
_BAD_IRI: Final = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGUAGE: Final = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
#: Blank node labels unique across processes and calls (a label names the same node in every
#: file Oxigraph loads into one store).
_BLANK_PREFIX: Final = f"_:r{uuid.uuid4().hex[:12]}n"
_blanks = itertools.count()


class _Unsupported(Exception):
    """A shape this reader does not handle: the caller falls back to a JSON-LD processor."""


class _Term:
    __slots__ = ("coerce", "container", "datatype", "predicate", "turtle")

    def __init__(
        self,
        predicate: str,
        coerce: str | None,
        container: str | None,
        prefixes: dict[str, str] | None = None,
    ) -> None:
        self.predicate = f"<{predicate}>"
        self.turtle = _shorten(predicate, prefixes or {})  # as Turtle writes it (dcterms:title)
        self.coerce = coerce  # "@id", "@vocab", a datatype IRI, or None
        self.container = container
        self.datatype = f"<{coerce}>" if coerce is not None and not coerce.startswith("@") else None


#: A prefixed name's local part that every Turtle parser reads (a subset of PN_LOCAL).
_LOCAL_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _shorten(iri: str, prefixes: dict[str, str]) -> str:
    """`http://purl.org/dc/terms/title` -> `dcterms:title` where a prefix fits, else `<iri>`.

    Every context prefix ends with `#` or `/` and a local name holds neither, so the only
    namespace that can fit is the IRI up to its last `#` or `/`: one dictionary look-up."""
    cut = max(iri.rfind("#"), iri.rfind("/")) + 1
    name = _namespaces(tuple(prefixes.items())).get(iri[:cut])
    if name is not None and _LOCAL_NAME.match(iri[cut:]):
        return f"{name}:{iri[cut:]}"
    return f"<{iri}>"


@cache
def _namespaces(prefixes: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Namespace -> prefix (the first prefix named for it, as the prefix order goes)."""
    found: dict[str, str] = {}
    for name, namespace in prefixes:
        found.setdefault(namespace, name)
    return found


@lru_cache(maxsize=256)
def _is_language(tag: str) -> bool:
    return bool(_LANGUAGE.match(tag))


@cache
def _table() -> tuple[dict[str, _Term], dict[str, str], dict[str, str]]:
    """Property terms, other terms (classes, vocabulary values) -> IRI, and prefixes."""
    context: dict[str, Any] = vocab.context_document(CONTEXT_URL)["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(value: str) -> str:
        head, sep, tail = value.partition(":")
        if sep and head in prefixes and not tail.startswith("//"):
            return prefixes[head] + tail
        return value

    properties: dict[str, _Term] = {}
    names: dict[str, str] = {}
    for key, definition in context.items():
        if key.startswith("@") or key in prefixes:
            continue
        if isinstance(definition, str):
            if not definition.startswith("@"):
                names[key] = expand(definition)
            continue
        if "@id" not in definition:
            continue
        # `@vocab` coercion and types expand any term, properties included (API 5.2: an
        # `illustrative` list of field names is a list of the fields' property IRIs).
        names[key] = expand(definition["@id"])
        if set(definition) - {"@id", "@type", "@container"}:
            continue  # scoped contexts, @reverse, @nest...: left to the JSON-LD processor
        container = definition.get("@container")
        if container not in (None, "@language", "@set"):
            continue
        coerce = definition.get("@type")
        properties[key] = _Term(
            expand(definition["@id"]),
            expand(coerce) if coerce and not coerce.startswith("@") else coerce,
            container,
            prefixes,
        )
    return properties, names, prefixes


def _iri(value: Any, names: dict[str, str] | None = None) -> str:
    """IRI expansion (JSON-LD 1.1 API 5.2): terms only where `names` is given (`@vocab`
    coercion and types), compact IRIs by their prefix, absolute IRIs as they are."""
    if not isinstance(value, str):
        raise _Unsupported
    if names is not None and value in names:
        return f"<{names[value]}>"
    head, sep, tail = value.partition(":")
    if not sep or not head or head == "_" or not head[0].isalpha():
        raise _Unsupported  # relative IRIs and blank node ids resolve against a base
    prefixes = _table()[2]
    if head in prefixes and not tail.startswith("//"):
        value = prefixes[head] + tail
    if _BAD_IRI.search(value):
        raise _Unsupported
    return f"<{value}>"


_double: Final = vocab.canonical_double


def _string(text: str) -> str:
    # N-Triples ECHAR escapes; four str.replace scans are ~20x faster than str.translate.
    # Four scans for one character each (memchr) are faster than one regex over long texts.
    if "\\" in text or '"' in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        )
    return f'"{text}"'


def _literal(value: Any, datatype: str | None) -> str:
    if isinstance(value, bool):
        return f'"{"true" if value else "false"}"^^{datatype or XSD_BOOLEAN}'
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Unsupported
        if value.is_integer() and abs(value) < 1e21 and datatype != XSD_DOUBLE:
            return f'"{int(value)}"^^{datatype or XSD_INTEGER}'
        return f'"{_double(value)}"^^{datatype or XSD_DOUBLE}'
    if isinstance(value, int):
        if abs(value) >= 10**21 or datatype == XSD_DOUBLE:
            return f'"{_double(float(value))}"^^{datatype or XSD_DOUBLE}'
        return f'"{value}"^^{datatype or XSD_INTEGER}'
    if isinstance(value, str):
        return f"{_string(value)}^^{datatype}" if datatype else _string(value)
    raise _Unsupported


# What `_values` says an object is: a nested node (the dict), an IRI, a `@vocab` term, or a
# literal already written as N-Triples and Turtle both write it.
_NESTED: Final = 0
_IRI: Final = 1
_VOCAB: Final = 2
_WRITTEN: Final = 3


def _values(
    node: dict[str, Any], properties: dict[str, _Term]
) -> Iterator[tuple[_Term | None, int, Any]]:
    """A node's predicate-object pairs in document order, for both writers: its types first
    (term None: `rdf:type`), then each value as (term, what it is, value). Raises
    `_Unsupported` for a shape this reader leaves to the JSON-LD processor."""
    if "@id" in node or "@type" in node or "@value" in node or "@graph" in node:
        raise _Unsupported
    kinds = node.get("type", [])
    for kind in kinds if isinstance(kinds, list) else [kinds]:
        if not isinstance(kind, str):
            raise _Unsupported
        yield None, _VOCAB, kind
    for key, value in node.items():
        if key in _SKIP or value is None:
            continue
        term = properties.get(key)
        if term is None:
            raise _Unsupported
        if term.container == "@language":
            if not isinstance(value, dict):
                raise _Unsupported
            for lang, texts in value.items():
                if not isinstance(lang, str) or not _is_language(lang):
                    raise _Unsupported
                for text in texts if isinstance(texts, list) else [texts]:
                    if not isinstance(text, str):
                        raise _Unsupported
                    yield term, _WRITTEN, f"{_string(text)}@{lang}"
            continue
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, dict):
                yield term, _NESTED, item
            elif term.coerce == "@id" and isinstance(item, str):
                yield term, _IRI, item
            elif term.coerce == "@vocab" and isinstance(item, str):
                yield term, _VOCAB, item
            else:
                # Type coercion to IRIs applies to strings only (API 5.3.2 Value Expansion): a
                # boolean under `@vocab` (`illustrative: true`) stays an xsd:boolean.
                yield term, _WRITTEN, _literal(item, term.datatype)


def _node(
    node: dict[str, Any],
    out: list[str],
    terms: tuple[dict[str, _Term], dict[str, str]] | None = None,
) -> str:
    """Append a node's N-Triples statements (nested nodes' first) to `out`; its subject."""
    properties, names = terms if terms is not None else _table()[:2]
    subject = _iri(node["id"]) if "id" in node else f"{_BLANK_PREFIX}{next(_blanks)}"
    last, head = None, f"{subject} {RDF_TYPE} "  # types come first (term None)
    for term, what, value in _values(node, properties):
        if term is not last and term is not None:
            last, head = term, f"{subject} {term.predicate} "
        if what == _WRITTEN:
            out.append(head + value)
        elif what == _IRI:
            out.append(head + _iri(value))
        elif what == _VOCAB:
            out.append(head + _iri(value, names))
        else:
            out.append(head + _node(value, out, terms))
    return subject


def statements(document: dict[str, Any]) -> list[str] | None:
    """The record's triples as N-Triples statements without their final " ." (so a graph name
    can be added for N-Quads), or None when a JSON-LD processor must read the record."""
    if document.get("@context") not in _READABLE_CONTEXTS:
        return None
    out: list[str] = []
    try:
        _node(document, out)
    except _Unsupported:
        return None
    return out


def turtle(document: dict[str, Any]) -> str | None:
    """The record's triples as Turtle (RDF 1.1 Turtle), or None when a JSON-LD processor must
    read the record (as `statements`). Written straight from the JSON, not from N-Triples: one
    block for the record, its predicates and IRIs with the context's prefixes (declared once at
    the head of the file), nested values as `[ ... ]` blank nodes (Turtle 2.6: the same triples
    as labelled blank nodes), a nested node with an IRI of its own in a block of its own."""
    if document.get("@context") not in _READABLE_CONTEXTS:
        return None
    later: list[str] = []
    try:
        subject = turtle_term(_iri(document["id"]))
        body = _turtle_node(document, later, 1)
    except (_Unsupported, KeyError):
        return None
    if not body:
        return "".join(later)  # a record with no triples of its own
    return f"{subject} {body} .\n" + "".join(later)


@lru_cache(maxsize=4096)
def _turtle_iri(value: str, vocab_term: bool = False) -> str:
    """An IRI value (`@id`, or with `vocab_term` a `@vocab` term) as Turtle writes it; the same
    few themes, SDG targets, publishers and licences come back in every record."""
    return turtle_term(_iri(value, _table()[1] if vocab_term else None))


@lru_cache(maxsize=8192)
def turtle_term(term: str) -> str:
    """An N-Triples term as Turtle writes it: `<http://purl.org/dc/terms/title>` ->
    `dcterms:title` where a context prefix fits (literals and blank nodes as they are)."""
    if not term.startswith("<"):
        return term
    return _shorten(term[1:-1], _table()[2])


def _turtle_node(node: dict[str, Any], later: list[str], depth: int) -> str:
    """A node's predicate-object list (Turtle 2.3), from the same `_values` as `_node`."""
    parts: list[str] = []
    last, predicate = None, "a"  # types come first (term None)
    for term, what, value in _values(node, _table()[0]):
        if term is not last and term is not None:
            last, predicate = term, term.turtle
        if what == _WRITTEN:
            obj = value
        elif what == _IRI:
            obj = _turtle_iri(value)
        elif what == _VOCAB:
            obj = _turtle_iri(value, True)
        else:
            obj = _turtle_nested(value, later, depth + 1)
        parts.append(f"{predicate} {obj}")
    return (" ;\n" + "    " * depth).join(parts)


def _turtle_nested(node: dict[str, Any], later: list[str], depth: int) -> str:
    """The object that stands for a nested node: `[ ... ]`, or its IRI (its block goes after)."""
    if "id" in node:
        subject = turtle_term(_iri(node["id"]))
        body = _turtle_node(node, later, 1)
        if body:
            later.append(f"{subject} {body} .\n")
        return subject
    body = _turtle_node(node, later, depth)
    if not body:
        return "[]"
    return f"[\n{'    ' * depth}{body}\n{'    ' * (depth - 1)}]"


@cache
def _proof_table() -> tuple[str, dict[str, _Term], dict[str, str]]:
    """From the bundled Data Integrity context: the `proof` predicate, the terms of a
    `DataIntegrityProof` (its type-scoped context) and the names `@vocab` values expand to
    (the class, and the proof purposes of `proofPurpose`'s scoped context)."""
    context: dict[str, Any] = vocab.context_document(vocab.DATA_INTEGRITY_CONTEXT_URL)["@context"]
    proof_class = context["DataIntegrityProof"]
    properties: dict[str, _Term] = {}
    names = {"DataIntegrityProof": proof_class["@id"]}
    for key, definition in proof_class["@context"].items():
        if key.startswith("@"):
            continue
        if isinstance(definition, str):
            if not definition.startswith("@"):
                properties[key] = _Term(definition, None, None)
            continue
        for name, purpose in definition.get("@context", {}).items():
            if isinstance(purpose, dict) and "@id" in purpose:
                names[name] = purpose["@id"]
        properties[key] = _Term(
            definition["@id"], definition.get("@type"), definition.get("@container")
        )
    return context["proof"]["@id"], properties, names


def proof_statements(document: dict[str, Any]) -> tuple[str, list[str]] | None:
    """The record's proof as JSON-LD reads it: the Data Integrity context makes `proof` an
    `@graph` container (JSON-LD 1.1 section 4.9), so the record says `<id> sec:proof _:g` and the
    proof's own triples are in the named graph `_:g`. Returns the statement linking the record
    to `_:g` and `_:g`'s statements (both without a graph name and the final " ."), or None when
    the proof's shape needs a JSON-LD processor (not one DataIntegrityProof, a context of its
    own...)."""
    proof = document.get("proof")
    if (
        not isinstance(proof, dict)
        or proof.get("type") != "DataIntegrityProof"
        # eddsa-jcs-2022 proofs repeat the record's context (Data Integrity 3.3.1 step 2): the
        # same protected definitions again, which changes nothing. Any other is the processor's.
        or proof.get("@context", document.get("@context")) != document.get("@context")
        or document.get("@context") != [CONTEXT_URL, vocab.DATA_INTEGRITY_CONTEXT_URL]
    ):
        return None
    predicate, properties, names = _proof_table()
    graph = f"{_BLANK_PREFIX}{next(_blanks)}"
    out: list[str] = []
    try:
        link = f"{_iri(document['id'])} <{predicate}> {graph}"
        _node(proof, out, (properties, names))
    except _Unsupported:
        return None
    return link, out
