"""The vocabulary served as data (issue 9, "Evolution"): the JSON-LD context, the ontology, the
SHACL shapes and every concept scheme, from the copies inside the package (nothing is fetched).

- `/vocab/v1`: the context (`application/ld+json`);
- `/vocab/ontology`: the ontology as Turtle, or as structured JSON (every JSON term with its IRI,
  labels, definitions and the shapes' rules), by `Accept` or `?format=` (and a page for people:
  the route is web/ontology_page.py, which answers its data from here);
- `/vocab/shapes`: the SHACL shapes as Turtle;
- `/vocab/schemes`: the scheme names; `/vocab/schemes/{name}`: one scheme as JSON (its concepts)
  or Turtle (or a page: web/ontology_page.py).
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any, Literal

import msgspec
from aiohttp import web

import vocab
from citynode.errors import NotFound
from citynode.web import negotiation as neg
from citynode.web.contract import Reply, Routes
from citynode.web.keys import CONFIG
from citynode.web.responses import respond
from vocab import terms
from vocab.graphs import ONTOLOGY_FILE, SHAPES_FILE

routes = Routes("vocabulary")

LangMap = dict[str, str]


class OntologyTerm(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """One JSON term of the context: the IRI it stands for, its labels and definitions, and
    the clerk messages of the shapes that check it (`rules`, by language)."""

    term: str
    iri: str
    kind: Literal["class", "property"]
    own: bool
    label: LangMap
    comment: LangMap
    container: str | list[str] | None = None
    value_type: str | None = None
    domain: list[str] = []
    range: list[str] = []
    broader: list[str] = []
    rules: LangMap = {}


class Ontology(msgspec.Struct, kw_only=True):
    iri: str
    version: str
    label: LangMap
    comment: LangMap
    context: str
    terms: list[OntologyTerm]


class SchemeConcept(msgspec.Struct, kw_only=True, rename="camel"):
    """A SKOS concept (indicators also carry their canonical UCUM unit and SDG indicator)."""

    iri: str
    scheme: str
    notation: str | None
    pref_label: LangMap
    alt_labels: dict[str, list[str]]
    definition: LangMap
    broader: list[str]
    close_match: list[str]
    related_match: list[str]
    exact_match: list[str]
    unit: str | None
    per_capita_per: int | None
    sdg_indicator: str | None


class Scheme(msgspec.Struct, kw_only=True):
    name: str
    iri: str
    concepts: list[SchemeConcept]


class SchemeEntry(msgspec.Struct, kw_only=True):
    name: str
    iri: str
    url: str


class SchemeList(msgspec.Struct, kw_only=True):
    schemes: list[SchemeEntry]


@cache
def ontology_struct() -> Ontology:
    """The ontology as its Struct (slow the first time: rdflib; call in a worker thread)."""
    return msgspec.convert(terms.ontology_document(), Ontology)


def _turtle(text: str) -> web.Response:
    return web.Response(body=text.encode(), content_type=neg.TURTLE, headers={"Vary": "Accept"})


@routes.get(
    "/vocab/v1",
    summary="The citynode JSON-LD context",
    responses={200: Reply("the context", {"application/ld+json": dict[str, Any]})},
)
async def context(request: web.Request) -> web.Response:
    document = vocab.context_document(vocab.CONTEXT_URL)
    return respond(document, content_type="application/ld+json")


async def ontology_data(chosen: str) -> web.Response:
    """The ontology as Turtle or as its JSON Struct (the route, which also answers a page for
    people, is web/ontology_page.py)."""
    if chosen == neg.JSON:
        document = await asyncio.to_thread(ontology_struct)
        return respond(document, headers={"Vary": "Accept"})
    return _turtle(await asyncio.to_thread(ONTOLOGY_FILE.read_text, encoding="utf-8"))


@routes.get(
    "/vocab/shapes",
    summary="The SHACL shapes records are checked against",
    responses={200: Reply("the shapes", {neg.TURTLE: str})},
)
async def shapes(request: web.Request) -> web.Response:
    return _turtle(await asyncio.to_thread(SHAPES_FILE.read_text, encoding="utf-8"))


@routes.get(
    "/vocab/schemes",
    summary="The concept schemes served by name",
    responses={200: SchemeList},
)
async def scheme_list(request: web.Request) -> web.Response:
    base = request.app[CONFIG].base_url
    return respond(
        SchemeList(
            schemes=[
                SchemeEntry(name=name, iri=iri, url=f"{base}/vocab/schemes/{name}")
                for name, iri in vocab.SCHEMES.items()
            ]
        )
    )


def scheme_named(name: str) -> str:
    """The IRI of the scheme served under `name`; `NotFound` naming the ones there are."""
    iri = vocab.SCHEMES.get(name)
    if iri is None:
        raise NotFound(
            f"there is no concept scheme '{name}'; the schemes are: {', '.join(vocab.SCHEMES)}",
            scheme=name,
        )
    return iri


def scheme_struct(name: str) -> Scheme:
    iri = scheme_named(name)
    concepts = [msgspec.convert(c.to_json(), SchemeConcept) for c in vocab.in_scheme(iri)]
    return Scheme(name=name, iri=iri, concepts=concepts)


async def scheme_data(name: str, chosen: str) -> web.Response:
    """One scheme as Turtle or as its JSON Struct (the route is web/ontology_page.py)."""
    if chosen == neg.TURTLE:
        return _turtle(await asyncio.to_thread(terms.scheme_turtle, scheme_named(name)))
    return respond(scheme_struct(name), headers={"Vary": "Accept"})
