"""SHACL validation of records against `shapes.ttl`, with messages a city clerk can act on.

pyshacl is slow to import (~0.2 s) and a validation takes milliseconds to tens of milliseconds:
callers run `validate_graph` in a worker thread, never on the event loop (STYLE.md 8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, NamedTuple

from vocab.contexts import term_for_iri, undefined_terms
from vocab.graphs import record_graph, shapes_graph

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

_SH: Final = "http://www.w3.org/ns/shacl#"
_CLOSED: Final = _SH + "ClosedConstraintComponent"


class Violation(NamedTuple):
    """One broken rule: the node it is on, the JSON term of the field, and the clerk's message."""

    focus: str
    path: str
    message: str


def _pick_message(messages: list[Node], lang: str) -> str:
    by_lang = {getattr(m, "language", None): str(m) for m in messages}
    for candidate in (lang, "en", None):
        if candidate in by_lang:
            return by_lang[candidate]
    return next(iter(by_lang.values()), "the record breaks a rule of the citynode shapes")


def _canonical_literals(graph: Graph) -> Graph:
    """A copy of `graph` whose typed literals are rebuilt from their lexical form.

    rdflib 7's JSON-LD parser keeps a JSON number's Python type under the context's coerced
    datatype (`33` becomes "33"^^xsd:decimal holding an int), and pyshacl checks sh:datatype
    against the Python type, so a valid `value` would be reported as not a decimal.
    """
    from rdflib import Graph, Literal

    copy = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype is not None:
            o = Literal(str(o), datatype=o.datatype)
        copy.add((s, p, o))
    return copy


def validate_graph(graph: Graph, lang: str = "en") -> list[Violation]:
    """Every violation of the citynode shapes in `graph`, sorted; an empty list when it conforms.

    `path` is the JSON term ("title", "progress"), or the full IRI for a property the context
    does not know. `lang` picks the message language (en or es; en when missing).
    """
    from pyshacl import validate
    from rdflib import URIRef
    from rdflib.namespace import RDF, SH

    _conforms, report, _text = validate(
        _canonical_literals(graph),
        shacl_graph=shapes_graph(),
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        advanced=False,
        meta_shacl=False,
    )
    terms = term_for_iri()
    found: set[Violation] = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        path_iri = str(path) if isinstance(path, URIRef) else ""
        term = terms.get(path_iri, path_iri)
        message = _pick_message(list(report.objects(result, SH.resultMessage)), lang)
        if str(report.value(result, SH.sourceConstraintComponent)) == _CLOSED:
            # The shape's message is generic; name the offending field first.
            message = f"{term}: {message}"
        found.add(Violation(str(focus), term, message))
    return sorted(found)


def validate_record(document: dict[str, Any], lang: str = "en") -> list[Violation]:
    """Check one JSON-LD record: keys no context defines, then the SHACL shapes.

    The first check exists because JSON-LD drops undefined keys before any RDF tool sees them.
    Raises `VocabError` for a context that is not bundled.
    """
    focus = str(document.get("id", "")) if isinstance(document, dict) else ""
    unknown = [
        Violation(focus, path, _UNKNOWN_TERM.get(lang, _UNKNOWN_TERM["en"]).format(path=path))
        for path in undefined_terms(document)
    ]
    return unknown + validate_graph(record_graph(document), lang)


_UNKNOWN_TERM: Final = {
    "en": "{path}: this field is not in the citynode vocabulary (check the spelling)",
    "es": "{path}: este campo no está en el vocabulario citynode (revise la ortografía)",
}
