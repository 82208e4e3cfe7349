"""Records as RDF: JSON-LD to triples (Turtle, N-Triples, N-Quads out, streamed) and Turtle back
to drafts.

Out: a record's triples are read from the context's term table (`jsonld_triples.py`, checked
against a JSON-LD processor on every sample record, and against pyld in tests/test_rdf_pyld.py;
records of another shape go through Oxigraph's JSON-LD parser, ~0.4 ms a record, itself ~10x
faster than rdflib's) as N-Triples statements, which N-Triples and N-Quads (a graph name
added) are written from; Turtle is written by the same term table straight from the JSON
(`jsonld_triples.turtle`: one block per record, nested values as `[ ... ]`, IRIs with the
context's prefixes; twice as fast as regrouping the statements, which is what records of
another shape get). A chunk of records at a time, so a dump of the whole replica runs in
constant memory (`stream`). Literals keep the signed JSON's lexical forms (a `Z` date stays
`Z`; numbers take JSON-LD's forms). N-Quads also carry each record's proof, in the named graph
JSON-LD puts it in (`proof_nquads`); Turtle and N-Triples have no named graphs, so they hold the
record's own triples only. The SPARQL store (opendata/sparql_view.py) loads the same statements
(without the proof graph): a dump, a negotiated record and a SPARQL answer
always hold the same record triples.
In: Turtle drafts are still read with rdflib (imports are small and need its graph API).
Contexts are never fetched: the bundled copies replace every context URL before parsing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, Final

import msgspec
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

import vocab
from citynode import jsonld_triples
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
#: Whole numbers a record can hold: JSON numbers that every JSON parser reads exactly are at most
#: 2**53 (RFC 8785 section 3.2.2.3); 16 digits is under that and above any count a city reports.
_INTEGER: Final = re.compile(r"^[+-]?\d{1,16}$")
_NUMBER_CHARS: Final = 40
_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


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
    """The record as self-contained JSON-LD (no context to fetch), without its proof (the
    proof is a graph of its own: `proof_nquads`)."""
    body = {k: v for k, v in document.items() if k not in ("proof", "@context")}
    context = document.get("@context")
    if context in (RECORD_CONTEXT, [CONTEXT_URL], CONTEXT_URL):
        # The common case, spliced as bytes: inlining copies the whole context per record.
        encoded = msgspec.json.encode(body)
        return b'{"@context":' + _context_json() + (b"," if len(encoded) > 2 else b"") + encoded[1:]
    return msgspec.json.encode(vocab.inline_contexts({"@context": context, **body}))


def record_statements(document: dict[str, Any]) -> list[str]:
    """The triples a record means (its proof left out: it is a named graph, see
    `proof_nquads`), as N-Triples statements without their final " ." (append a graph name for
    N-Quads).

    Read from the context's term table where the record's shape allows it (jsonld_triples.py:
    ~8x faster than a JSON-LD processor, and text, not Python objects, all the way to Oxigraph),
    by Oxigraph's JSON-LD parser otherwise.
    """
    fast = jsonld_triples.statements(document)
    if fast is not None:
        return fast
    return processor_statements(document)


def processor_statements(document: dict[str, Any]) -> list[str]:
    """The same statements, read by a full JSON-LD processor (Oxigraph's)."""
    quads = ox.parse(_jsonld_text(document), format=ox.RdfFormat.JSON_LD)
    return [f"{q.subject} {q.predicate} {q.object}" for q in quads]


def proof_nquads(document: dict[str, Any], graph: str = "") -> str:
    """The record's proof as N-Quads, where JSON-LD puts it (the Data Integrity context makes
    `proof` an `@graph` container, JSON-LD 1.1 section 4.9): `<id> sec:proof _:g` in `graph`
    (the record's own graph; "" for the default graph) and the proof's triples in the named
    graph `_:g`. "" for a record without a proof."""
    if document.get("proof") is None:
        return ""
    tail = f" {graph}" if graph else ""
    found = jsonld_triples.proof_statements(document)
    if found is not None:
        link, statements = found
        label = link.rsplit(" ", 1)[1]
        return f"{link}{tail} .\n" + "".join(f"{s} {label} .\n" for s in statements)
    # Another shape (several proofs, a context of its own...): Oxigraph's JSON-LD processor.
    head = {"@context": document.get("@context"), "id": document["id"]}
    text = msgspec.json.encode(vocab.inline_contexts({**head, "proof": document["proof"]}))
    out: list[str] = []
    for quad in ox.parse(text, format=ox.RdfFormat.JSON_LD):
        name = tail if isinstance(quad.graph_name, ox.DefaultGraph) else f" {quad.graph_name}"
        out.append(f"{quad.subject} {quad.predicate} {quad.object}{name} .\n")
    return "".join(out)


def record_nquads(document: dict[str, Any], *, own_graph: bool = True, proof: bool = True) -> str:
    """The record as N-Quads (RDF 1.1 N-Quads 2.1): its triples in the named graph of its id
    (`own_graph`; else the default graph, as a JSON-LD processor gives a lone record) and,
    with `proof`, its proof in a named graph of its own (`proof_nquads`)."""
    graph = f"<{document['id']}>" if own_graph else ""
    tail = f" {graph}" if graph else ""
    text = "".join(f"{s}{tail} .\n" for s in record_statements(document))
    return text + proof_nquads(document, graph) if proof else text


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
    """One chunk of a longer serialization: chunks concatenate into one document (Turtle
    declares its prefixes in the first chunk only)."""
    if fmt == "nquads":
        return "".join(record_nquads(d) for d in documents).encode("utf-8")
    if fmt == "nt":
        return "".join(f"{s} .\n" for d in documents for s in record_statements(d)).encode()
    head = _turtle_prefixes() if first else ""
    return (head + "".join(_record_turtle(d) for d in documents)).encode("utf-8")


def _record_turtle(document: dict[str, Any]) -> str:
    """A record as Turtle: written from the term table where its shape allows it, else from
    the JSON-LD processor's statements."""
    fast = jsonld_triples.turtle(document)
    return fast if fast is not None else _turtle(processor_statements(document))


@cache
def _turtle_prefixes() -> str:
    return "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in _prefixes().items()) + "\n"


_short = jsonld_triples.turtle_term


def _turtle(statements: list[str]) -> str:
    """N-Triples statements as Turtle (RDF 1.1 Turtle: N-Triples terms are Turtle terms), each
    subject's run of statements joined with ';' and predicates written with the prefixes."""
    out: list[str] = []
    current = None
    for statement in statements:
        subject, _, rest = statement.partition(" ")
        predicate, _, obj = rest.partition(" ")
        if predicate == "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>":
            predicate = "a"
        else:
            predicate = _short(predicate)
        obj = _short(obj)
        if subject == current:
            out.append(f" ;\n    {predicate} {obj}")
        else:
            if current is not None:
                out.append(" .\n")
            out.append(f"{subject} {predicate} {obj}")
            current = subject
    if current is not None:
        out.append(" .\n")
    return "".join(out)


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
        drafts.append(_node(graph, subject, names, source, frozenset()))
    if not drafts:
        raise InvalidRecord(f"{source} has no typed record (a subject with 'a cn:Project' ...)")
    return drafts


def _node(
    graph: Graph, subject: Any, names: dict[str, str], source: str, path: frozenset[Any]
) -> dict[str, Any]:
    """The draft of `subject`; `path` holds the blank nodes above it (a cycle is an error: a
    JSON document is a tree)."""
    predicates, _ = _terms()
    if subject in path:
        raise InvalidRecord(
            f"{source}: blank node {subject.n3()} contains itself; a record is a tree of values",
            rule="blank-node-cycle",
        )
    if len(path) > 16:
        raise InvalidRecord(f"{source}: blank nodes are nested too deeply", rule="depth")
    path = path | {subject} if isinstance(subject, BNode) else path
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
        value = _value(graph, obj, term, names, source, path)
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


def _value(
    graph: Graph, obj: Any, term: _Term, names: dict[str, str], source: str, path: frozenset[Any]
) -> Any:
    if isinstance(obj, BNode):
        return _node(graph, obj, names, source, path)
    if isinstance(obj, URIRef):
        if term.type == "@vocab":
            return names.get(str(obj), str(obj))
        return str(obj)
    literal: Literal = obj
    # Read the lexical form, not rdflib's value: an ill-typed literal ("abc"^^xsd:integer) has
    # no value, and rdflib converts a 5,000-digit integer only to fail later.
    lexical = str(literal).strip()
    if literal.datatype in (XSD.integer, XSD.int, XSD.long):
        if not _INTEGER.match(lexical):
            raise _bad_literal(source, term, lexical, "a whole number of at most 16 digits")
        return int(lexical)
    if literal.datatype in (XSD.decimal, XSD.double, XSD.float):
        try:
            number = float(lexical) if len(lexical) <= _NUMBER_CHARS else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise _bad_literal(source, term, lexical, "a number like 12.5")
        return int(number) if number.is_integer() and "." not in lexical else number
    if literal.datatype == XSD.boolean:
        if lexical not in _BOOLEANS:
            raise _bad_literal(source, term, lexical, "true or false")
        return _BOOLEANS[lexical]
    return str(literal)


def _bad_literal(source: str, term: _Term, lexical: str, wanted: str) -> InvalidRecord:
    shown = lexical if len(lexical) <= 40 else f"{lexical[:40]}... ({len(lexical)} characters)"
    return InvalidRecord(
        f"{source}: {term.name} must be {wanted}, not {shown!r}",
        field=term.name,
        rule="literal",
    )
