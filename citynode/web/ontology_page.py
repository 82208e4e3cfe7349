"""`/vocab/ontology` and `/vocab/schemes/{scheme}`: the vocabulary as data for machines and as
pages for people, by content negotiation (RFC 9110 12.5.1) on one URL each.

The data (Turtle, and the JSON Structs) is web/vocabulary.py's; the pages are drawn from the same
Structs, so a page and the JSON never disagree: every JSON term with its IRI, label, definition
and the clerk messages of the shapes that check it; every concept of a scheme (for the indicator
scheme: its canonical UCUM unit, per-capita base and UN SDG indicator).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import msgspec
from aiohttp import web

import vocab
from citynode.web import negotiation as neg
from citynode.web import vocabulary
from citynode.web.contract import Routes
from citynode.web.render import Page, add_page, html

routes = Routes("pages")

#: What each URL offers, the first being what a client that states no preference gets (as
#: before the pages: Turtle for the ontology, JSON for a scheme).
ONTOLOGY_TYPES: Final = (neg.TURTLE, neg.JSON, neg.HTML)
SCHEME_TYPES: Final = (neg.JSON, neg.TURTLE, neg.HTML)


def _grouped(ontology: vocabulary.Ontology) -> dict[str, list[vocabulary.OntologyTerm]]:
    """Terms by kind, citynode's own first within each (the reused ones follow)."""
    found: dict[str, list[vocabulary.OntologyTerm]] = {"class": [], "property": []}
    for term in sorted(ontology.terms, key=lambda t: (not t.own, t.term.casefold())):
        found[term.kind].append(term)
    return found


@add_page(
    routes,
    "/vocab/ontology",
    summary="The ontology: Turtle, or structured JSON (every JSON term with its IRI, labels, "
    "definitions and rules), or a page for people, by Accept or ?format=",
    media={neg.TURTLE: str, neg.JSON: vocabulary.Ontology},
)
async def ontology(request: web.Request) -> web.StreamResponse:
    chosen = neg.choose(request.headers.get("Accept"), ONTOLOGY_TYPES, request.query.get("format"))
    if chosen != neg.HTML:
        return await vocabulary.ontology_data(chosen)
    page = Page(request)
    document = await asyncio.to_thread(vocabulary.ontology_struct)
    values: dict[str, Any] = {
        "ontology": document,
        "terms": _grouped(document),
        "schemes": sorted(vocab.SCHEMES),
    }
    return html(request, "ontology.html", values, page=page)


@add_page(
    routes,
    "/vocab/schemes/{scheme}",
    summary="One concept scheme (indicators, themes, status, stage...) as JSON or Turtle, or a "
    "page for people",
    media={neg.JSON: vocabulary.Scheme, neg.TURTLE: str},
)
async def scheme(request: web.Request) -> web.StreamResponse:
    name = request.match_info["scheme"]
    chosen = neg.choose(request.headers.get("Accept"), SCHEME_TYPES, request.query.get("format"))
    if chosen != neg.HTML:
        return await vocabulary.scheme_data(name, chosen)
    document = vocabulary.scheme_struct(name)
    concepts = [msgspec.structs.asdict(c) for c in document.concepts]
    has = {key: any(c[key] for c in concepts) for key in ("unit", "sdg_indicator", "notation")}
    values = {"scheme": document, "concepts": concepts, "has": has}
    return html(request, "scheme.html", values)
