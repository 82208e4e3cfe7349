"""The vocabulary as structured data: every JSON term of the context with the IRI it stands for,
its labels and definitions (from the ontology for citynode's own terms) and the clerk messages
of the shapes that check it. `/vocab/ontology` serves this as JSON beside the Turtle, and the
ontology's HTML page is drawn from it.

Slow (rdflib): call it in a worker thread; the result is cached.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from vocab.contexts import CONTEXT_URL, context_document, context_terms
from vocab.graphs import ontology_graph, shapes_graph, taxonomy_graph

_CN = "https://w3id.org/citynode/vocab#"


def _texts(graph: Any, subject: Any, predicate: Any) -> dict[str, str]:
    from rdflib import Literal

    return {
        (obj.language or ""): str(obj)
        for obj in graph.objects(subject, predicate)
        if isinstance(obj, Literal)
    }


@cache
def ontology_document() -> dict[str, Any]:
    """{"iri", "version", "label", "comment", "terms": [...], "classes": [...]}"""
    from rdflib import OWL, RDF, RDFS, SH, URIRef

    onto = ontology_graph()
    shapes = shapes_graph()
    header = URIRef("https://w3id.org/citynode/vocab")
    raw: dict[str, Any] = context_document(CONTEXT_URL)["@context"]
    messages: dict[str, dict[str, str]] = {}
    for shape in shapes.subjects(RDF.type, SH.PropertyShape):
        path = shapes.value(shape, SH.path)
        if isinstance(path, URIRef):
            for lang, text in _texts(shapes, shape, SH.message).items():
                messages.setdefault(str(path), {}).setdefault(lang, text)
    terms = []
    for term, iri in sorted(context_terms().items()):
        definition = raw.get(term)
        subject = URIRef(iri)
        is_class = (subject, RDF.type, OWL.Class) in onto or not isinstance(definition, dict)
        entry: dict[str, Any] = {
            "term": term,
            "iri": iri,
            "kind": "class" if is_class else "property",
            "own": iri.startswith(_CN),
            "label": _texts(onto, subject, RDFS.label),
            "comment": _texts(onto, subject, RDFS.comment),
        }
        if isinstance(definition, dict):
            if "@container" in definition:
                entry["container"] = definition["@container"]
            if "@type" in definition:
                entry["valueType"] = definition["@type"]
        for key, predicate in (("domain", RDFS.domain), ("range", RDFS.range)):
            values = sorted(str(v) for v in onto.objects(subject, predicate))
            if values:
                entry[key] = values
        parents = sorted(
            str(v) for p in (RDFS.subClassOf, RDFS.subPropertyOf) for v in onto.objects(subject, p)
        )
        if parents:
            entry["broader"] = parents
        if iri in messages:
            entry["rules"] = messages[iri]
        terms.append(entry)
    return {
        "iri": str(header),
        "version": str(onto.value(header, OWL.versionInfo) or ""),
        "label": _texts(onto, header, RDFS.label),
        "comment": _texts(onto, header, RDFS.comment),
        "context": CONTEXT_URL,
        "terms": terms,
    }


@cache
def scheme_turtle(scheme: str) -> str:
    """One concept scheme of the bundled taxonomies as Turtle: the scheme and its concepts."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import SKOS

    source = taxonomy_graph()
    graph = Graph()
    for prefix, namespace in source.namespaces():
        graph.bind(prefix, namespace)
    root = URIRef(scheme)
    members = {root, *source.subjects(SKOS.inScheme, root)}
    # The UN file puts targets in "http://metadata.un.org/sdg/" (trailing slash) as well.
    members |= set(source.subjects(SKOS.inScheme, URIRef(scheme + "/")))
    for subject in members:
        for triple in source.triples((subject, None, None)):
            graph.add(triple)
    return graph.serialize(format="turtle")
