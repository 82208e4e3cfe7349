"""The vocabulary served as data (issue 9, "Evolution"): the JSON-LD context, the ontology, the
SHACL shapes and every concept scheme, from the copies inside the package (nothing is fetched).

- `/vocab/v1`: the context (`application/ld+json`);
- `/vocab/ontology`: the ontology as Turtle, or as structured JSON (every JSON term with its IRI,
  labels, definitions and the shapes' rules), by `Accept` or `?format=`;
- `/vocab/shapes`: the SHACL shapes as Turtle;
- `/vocab/schemes`: the scheme names; `/vocab/schemes/{name}`: one scheme as JSON (its concepts)
  or Turtle.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Annotated, Any, Literal

import msgspec
from aiohttp import web
from msgspec import Meta

import vocab
from citynode.errors import NotFound
from citynode.web import negotiation as neg
from citynode.web.contract import Reply, Routes
from citynode.web.keys import CONFIG
from citynode.web.params import read_path, read_query
from citynode.web.responses import respond
from vocab import terms
from vocab.graphs import ONTOLOGY_FILE, SHAPES_FILE

routes = Routes("vocabulary")

_DATA = (neg.TURTLE, neg.JSON)
_SCHEME = (neg.JSON, neg.TURTLE)
LangMap = dict[str, str]


class VocabFormat(msgspec.Struct, kw_only=True):
    format: Annotated[str, Meta(description="turtle (ttl) or json; overrides Accept")] | None = None


class SchemePath(msgspec.Struct, kw_only=True):
    name: Annotated[
        str, Meta(pattern=r"^[a-z-]{1,40}$", description="a scheme's name (GET /vocab/schemes)")
    ]


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
def _ontology() -> Ontology:
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


@routes.get(
    "/vocab/ontology",
    summary="The ontology: Turtle, or structured JSON (every JSON term with its IRI, labels, "
    "definitions and rules), by Accept or ?format=",
    query=VocabFormat,
    responses={200: Reply("the ontology", {neg.TURTLE: str, neg.JSON: Ontology})},
    errors=(406,),
)
async def ontology(request: web.Request) -> web.Response:
    params = read_query(request, VocabFormat)
    chosen = neg.choose(request.headers.get("Accept"), _DATA, params.format)
    if chosen == neg.JSON:
        document = await asyncio.to_thread(_ontology)
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


@routes.get(
    r"/vocab/schemes/{name:[a-z-]{1,40}}",
    summary="One concept scheme (indicators, themes, status, stage...) as JSON or Turtle",
    path=SchemePath,
    query=VocabFormat,
    responses={200: Reply("the scheme", {neg.JSON: Scheme, neg.TURTLE: str})},
    errors=(404, 406),
)
async def scheme(request: web.Request) -> web.Response:
    name = read_path(request, SchemePath).name
    params = read_query(request, VocabFormat)
    iri = vocab.SCHEMES.get(name)
    if iri is None:
        raise NotFound(
            f"there is no concept scheme '{name}'; the schemes are: {', '.join(vocab.SCHEMES)}",
            scheme=name,
        )
    chosen = neg.choose(request.headers.get("Accept"), _SCHEME, params.format)
    if chosen == neg.TURTLE:
        return _turtle(await asyncio.to_thread(terms.scheme_turtle, iri))
    concepts = [msgspec.convert(c.to_json(), SchemeConcept) for c in vocab.in_scheme(iri)]
    return respond(Scheme(name=name, iri=iri, concepts=concepts), headers={"Vary": "Accept"})
