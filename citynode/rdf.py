"""Records as RDF: JSON-LD to a graph (Turtle, N-Triples, N-Quads out) and Turtle back to drafts.

rdflib is slow (docs/DESIGN.md: ~1.6 ms to parse one record), so this module is kept off the sync
and search paths: it serves content negotiation, exports and imports, and callers run it in a
thread.
Contexts are never fetched: `vocab.inline_contexts` swaps every context URL for the bundled copy.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any, Final

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

import vocab
from protocol.errors import InvalidRecord
from protocol.records import CONTEXT_URL

FORMATS = {
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "nquads": "application/n-quads",
}
CN = "https://w3id.org/citynode/vocab#"
SECURITY_PROOF = URIRef("https://w3id.org/security#proof")
#: Whole numbers a record can hold: JSON numbers that every JSON parser reads exactly are at most
#: 2**53 (RFC 8785 section 3.2.2.3); 16 digits is under that and above any count a city reports.
_INTEGER: Final = re.compile(r"^[+-]?\d{1,16}$")
_NUMBER_CHARS: Final = 40
_BOOLEANS: Final = {"true": True, "1": True, "false": False, "0": False}


def to_graph(documents: list[dict[str, Any]]) -> Graph:
    """Every record's triples in one graph (proofs are dropped: they are JSON-level signatures)."""
    graph = Graph()
    _bind(graph)
    for document in documents:
        graph += vocab.record_graph({k: v for k, v in document.items() if k != "proof"})
    return graph


def _bind(graph: Graph) -> None:
    for prefix, iri in _prefixes().items():
        graph.bind(prefix, iri)


@cache
def _prefixes() -> dict[str, str]:
    context = vocab.context_document(CONTEXT_URL)["@context"]
    return {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("#", "/"))}


def serialize(documents: list[dict[str, Any]], fmt: str) -> bytes:
    """Records as Turtle, N-Triples or N-Quads (one named graph per record)."""
    if fmt == "nquads":
        # N-Quads is N-Triples with a graph name before the final dot (RDF 1.1 N-Quads, 2.1):
        # each record's triples go in the named graph of its id.
        lines: list[str] = []
        for document in documents:
            name = f"<{document['id']}>"
            for line in to_graph([document]).serialize(format="nt").splitlines():
                if line.strip():
                    lines.append(f"{line.rstrip().removesuffix('.').rstrip()} {name} .")
        return ("\n".join(lines) + "\n").encode("utf-8")
    graph = to_graph(documents)
    return graph.serialize(format="nt" if fmt == "nt" else "turtle").encode("utf-8")


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
