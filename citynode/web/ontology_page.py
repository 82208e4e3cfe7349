"""`/vocab/ontology`: the citynode vocabulary, as Turtle for machines and as a page for people.

The page lists every class and property the ontology defines (vocab/ontology.ttl, read once),
with its label and definition in the reader's language (falling back to English), what it is a
kind of, and its domain and range. Issue 9 item 4 serves the vocabulary as data; this is its
HTML rendering.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import rdflib
from aiohttp import web
from rdflib.namespace import OWL, RDF, RDFS

import vocab
from citynode.web import negotiation as neg
from citynode.web.contract import Routes
from citynode.web.render import Page, add_page, html
from vocab.graphs import ONTOLOGY_FILE

routes = Routes("pages")
ONTOLOGY: Final = ONTOLOGY_FILE
_KINDS: Final = {
    OWL.Class: "class",
    RDFS.Class: "class",
    OWL.ObjectProperty: "property",
    OWL.DatatypeProperty: "property",
    RDF.Property: "property",
    OWL.AnnotationProperty: "property",
}


def _text(graph: rdflib.Graph, subject: Any, predicate: Any, lang: str) -> tuple[str, str]:
    values = {
        str(o.language or ""): str(o)
        for o in graph.objects(subject, predicate)
        if isinstance(o, rdflib.Literal)
    }
    for wanted in (lang, "en", ""):
        if wanted in values:
            return values[wanted], wanted or lang
    return next(iter(values.items()), ("", lang))[::-1]


def _short(graph: rdflib.Graph, iri: Any) -> str:
    try:
        prefix, _namespace, name = graph.compute_qname(iri)
    except (ValueError, KeyError):
        return str(iri)
    return f"{prefix}:{name}"


@functools.cache
def terms(lang: str) -> dict[str, list[dict[str, Any]]]:
    graph = vocab.ontology_graph()
    found: dict[str, list[dict[str, Any]]] = {"class": [], "property": []}
    seen: set[Any] = set()
    for kind_iri, kind in _KINDS.items():
        for subject in sorted(graph.subjects(RDF.type, kind_iri), key=str):
            if subject in seen or not isinstance(subject, rdflib.URIRef):
                continue
            seen.add(subject)
            label, label_lang = _text(graph, subject, RDFS.label, lang)
            comment, comment_lang = _text(graph, subject, RDFS.comment, lang)
            links = {
                "broader": RDFS.subClassOf if kind == "class" else RDFS.subPropertyOf,
                "domain": RDFS.domain,
                "range": RDFS.range,
            }
            found[kind].append(
                {
                    "iri": str(subject),
                    "anchor": _short(graph, subject).replace(":", "-"),
                    "name": _short(graph, subject),
                    "label": label,
                    "label_lang": label_lang,
                    "comment": comment,
                    "comment_lang": comment_lang,
                    **{
                        key: [(str(o), _short(graph, o)) for o in graph.objects(subject, p)]
                        for key, p in links.items()
                    },
                }
            )
    return found


@add_page(
    routes,
    "/vocab/ontology",
    summary="The citynode vocabulary: a page, or Turtle",
    media={neg.TURTLE: str},
)
async def ontology(request: web.Request) -> web.StreamResponse:
    chosen = neg.choose(
        request.headers.get("Accept"), (neg.TURTLE, neg.HTML), request.query.get("format")
    )
    if chosen == neg.TURTLE:
        return web.Response(body=ONTOLOGY.read_bytes(), content_type="text/turtle")
    page = Page(request)
    graph = vocab.ontology_graph()
    title, _found = _text(
        graph, rdflib.URIRef("https://w3id.org/citynode/vocab"), RDFS.label, page.lang
    )
    return html(request, "ontology.html", {"terms": terms(page.lang), "title": title}, page=page)
