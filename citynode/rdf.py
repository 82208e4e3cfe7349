"""Records as RDF: JSON-LD to triples (Turtle, N-Triples, N-Quads out, streamed) and Turtle back
to drafts.

Out: records are read as JSON-LD by Oxigraph's parser (`pyoxigraph`, Rust: ~0.4 ms a record
against ~3.7 ms for rdflib's, with the same triples on every sample record; bench/opendata_bench.py)
and written by its serializers, a chunk of records at a time, so a dump of the whole replica runs
in constant memory (`stream`). The SPARQL store (opendata/sparql_view.py) loads the same
`record_quads`, so a dump, a negotiated record and a SPARQL answer always hold the same triples.
In: Turtle drafts are still read with rdflib (imports are small and need its graph API).
Contexts are never fetched: the bundled copies replace every context URL before parsing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, Final

import msgspec
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

import vocab
from protocol.errors import InvalidRecord
from protocol.records import CONTEXT_URL, RECORD_CONTEXT

FORMATS = {
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "nquads": "application/n-quads",
}
CN = "https://w3id.org/citynode/vocab#"
SECURITY_PROOF = URIRef("https://w3id.org/security#proof")
#: Records serialized together: bounds memory while keeping the serializer's per-call cost small.
CHUNK: Final = 200
_OX_FORMATS: Final = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
}


@cache
def _prefixes() -> dict[str, str]:
    context = vocab.context_document(CONTEXT_URL)["@context"]
    return {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}


def prefixes() -> dict[str, str]:
    """The context's prefixes (dcterms:, cn:...), for Turtle written elsewhere (SPARQL)."""
    return dict(_prefixes())


@cache
def _context_json() -> bytes:
    """The citynode context object as JSON, spliced into each record instead of its URL."""
    return msgspec.json.encode(vocab.context_document(CONTEXT_URL)["@context"])


def _jsonld_text(document: dict[str, Any]) -> bytes:
    """The record as self-contained JSON-LD (no context to fetch), without its proof.

    The proof is a JSON-level signature over the exact bytes (DESIGN.md "Signatures"): its
    triples say nothing about the practice, so they stay out of the RDF views.
    """
    body = {k: v for k, v in document.items() if k not in ("proof", "@context")}
    context = document.get("@context")
    if context in (RECORD_CONTEXT, [CONTEXT_URL], CONTEXT_URL):
        # The common case, spliced as bytes: inlining copies the whole context per record.
        encoded = msgspec.json.encode(body)
        return b'{"@context":' + _context_json() + (b"," if len(encoded) > 2 else b"") + encoded[1:]
    return msgspec.json.encode(vocab.inline_contexts({"@context": context, **body}))


def record_triples(document: dict[str, Any]) -> list[ox.Triple]:
    """The triples a record means (its proof left out)."""
    return [quad.triple for quad in ox.parse(_jsonld_text(document), format=ox.RdfFormat.JSON_LD)]


def record_quads(document: dict[str, Any]) -> list[ox.Quad]:
    """The record's triples in the named graph of its id (RDF 1.1 N-Quads 2.1)."""
    graph = ox.NamedNode(document["id"])
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in record_triples(document)]


def stream(documents: Iterable[dict[str, Any]], fmt: str) -> Iterator[bytes]:
    """Records as Turtle, N-Triples or N-Quads, one chunk of records at a time."""
    for number, chunk in enumerate(_chunks(documents, CHUNK)):
        yield serialize_chunk(chunk, fmt, first=number == 0)


def write(items: Iterable[Any], fmt: ox.RdfFormat, prefixes: dict[str, str] | None = None) -> bytes:
    """Triples or quads as bytes (pyoxigraph returns bytes when given no output)."""
    out = ox.serialize(items, format=fmt, prefixes=prefixes) if prefixes else None
    out = out if out is not None else ox.serialize(items, format=fmt)
    assert out is not None
    return out


def serialize_chunk(documents: list[dict[str, Any]], fmt: str, *, first: bool) -> bytes:
    """One chunk of a longer serialization.

    Turtle declares its prefixes once, at the top: later chunks are written with the same
    prefixes and their own declarations cut off, so the chunks concatenate into one document.
    """
    target = _OX_FORMATS[fmt]
    if fmt == "nquads":
        return write([q for d in documents for q in record_quads(d)], target)
    triples = [t for document in documents for t in record_triples(document)]
    if fmt == "nt":
        return write(triples, target)
    text = write(triples, target, _prefixes())
    return text if first else _without_prefix_lines(text)


def _without_prefix_lines(text: bytes) -> bytes:
    position = 0
    while text.startswith(b"@prefix ", position):
        position = text.index(b"\n", position) + 1
    return text[position:]


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def serialize(documents: list[dict[str, Any]], fmt: str) -> bytes:
    """Records as Turtle, N-Triples or N-Quads (one named graph per record)."""
    return b"".join(stream(documents, fmt))


class _Term:
    __slots__ = ("container", "name", "type")

    def __init__(self, name: str, type_: str | None, container: str | None) -> None:
        self.name = name
        self.type = type_
        self.container = container


@cache
def _terms() -> tuple[dict[str, _Term], dict[str, str]]:
    """Predicate IRI -> term, and class/vocab IRI -> term name, from the bundled context."""
    context = vocab.context_document(CONTEXT_URL)["@context"]
    prefixes = _prefixes()

    def expand(value: str) -> str:
        head, sep, tail = value.partition(":")
        return prefixes[head] + tail if sep and head in prefixes else value

    predicates: dict[str, _Term] = {}
    names: dict[str, str] = {}
    for term, definition in context.items():
        if term.startswith("@") or term in prefixes:
            continue
        if isinstance(definition, str):
            if definition.startswith("@"):
                continue
            names[expand(definition)] = term
            continue
        kind = definition.get("@type")
        predicates[expand(definition["@id"])] = _Term(
            term,
            expand(kind) if kind and not kind.startswith("@") else kind,
            definition.get("@container"),
        )
    return predicates, names


def drafts_from_turtle(
    text: str, base_url: str, source: str = "the Turtle file"
) -> list[dict[str, Any]]:
    """Read records written in Turtle as drafts (one per typed subject that is not nested)."""
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=f"{base_url}/")
    except Exception as exc:  # rdflib raises many unrelated types for bad syntax
        raise InvalidRecord(f"{source} is not valid Turtle: {exc}", rule="turtle") from None
    _, names = _terms()
    nested = {o for _, _, o in graph if isinstance(o, BNode)}
    drafts = []
    for subject in sorted(set(graph.subjects(RDF.type, None)), key=str):
        if subject in nested:
            continue
        drafts.append(_node(graph, subject, names, source))
    if not drafts:
        raise InvalidRecord(f"{source} has no typed record (a subject with 'a cn:Project' ...)")
    return drafts


def _node(graph: Graph, subject: Any, names: dict[str, str], source: str) -> dict[str, Any]:
    predicates, _ = _terms()
    out: dict[str, Any] = {}
    if isinstance(subject, URIRef):
        out["id"] = str(subject)
    for predicate, obj in sorted(
        graph.predicate_objects(subject), key=lambda po: (str(po[0]), str(po[1]))
    ):
        if predicate == RDF.type:
            type_name = names.get(str(obj))
            if type_name is None:
                raise InvalidRecord(
                    f"{source}: {subject} has type {obj}, which is not a citynode type",
                    record=str(subject),
                    field="type",
                    rule="known-type",
                )
            out["type"] = type_name
            continue
        term = predicates.get(str(predicate))
        if term is None:
            raise InvalidRecord(
                f"{source}: {subject} uses {predicate}, which is not a term of the citynode "
                "vocabulary",
                record=str(subject),
                field=str(predicate),
                rule="unknown-term",
            )
        value = _value(graph, obj, term, names, source)
        if term.container == "@language":
            if not isinstance(obj, Literal) or not obj.language:
                raise InvalidRecord(
                    f'{source}: {subject} {term.name} needs a language tag ("..."@es)',
                    record=str(subject),
                    field=term.name,
                    rule="language-tag",
                )
            slot = out.setdefault(term.name, {})
            if term.name == "keywords":
                slot.setdefault(obj.language, []).append(value)
            else:
                slot[obj.language] = value
        elif term.container == "@set":
            out.setdefault(term.name, []).append(value)
        else:
            out[term.name] = value
    return out


def _value(graph: Graph, obj: Any, term: _Term, names: dict[str, str], source: str) -> Any:
    if isinstance(obj, BNode):
        return _node(graph, obj, names, source)
    if isinstance(obj, URIRef):
        if term.type == "@vocab":
            return names.get(str(obj), str(obj))
        return str(obj)
    literal: Literal = obj
    if literal.datatype in (XSD.integer, XSD.int, XSD.long):
        return int(literal)
    if literal.datatype in (XSD.decimal, XSD.double, XSD.float):
        number = float(literal)
        return int(number) if number.is_integer() and "." not in str(literal) else number
    if literal.datatype == XSD.boolean:
        return bool(literal.toPython())
    return str(literal)
