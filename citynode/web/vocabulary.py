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

from aiohttp import web

import vocab
from citynode.errors import NotFound
from citynode.web import negotiation as neg
from citynode.web.keys import CONFIG
from citynode.web.records import json_response
from vocab import terms
from vocab.graphs import ONTOLOGY_FILE, SHAPES_FILE

routes = web.RouteTableDef()

_DATA = (neg.TURTLE, neg.JSON)
_SCHEME = (neg.JSON, neg.TURTLE)


def _turtle(text: str) -> web.Response:
    return web.Response(text=text, content_type=neg.TURTLE, headers={"Vary": "Accept"})


@routes.get("/vocab/v1")
async def context(request: web.Request) -> web.Response:
    document = vocab.context_document(vocab.CONTEXT_URL)
    return json_response(document, content_type="application/ld+json")


@routes.get("/vocab/ontology")
async def ontology(request: web.Request) -> web.Response:
    chosen = neg.choose(request.headers.get("Accept"), _DATA, request.query.get("format"))
    if chosen == neg.JSON:
        document = await asyncio.to_thread(terms.ontology_document)
        return json_response(document)
    return _turtle(await asyncio.to_thread(ONTOLOGY_FILE.read_text, encoding="utf-8"))


@routes.get("/vocab/shapes")
async def shapes(request: web.Request) -> web.Response:
    return _turtle(await asyncio.to_thread(SHAPES_FILE.read_text, encoding="utf-8"))


@routes.get("/vocab/schemes")
async def scheme_list(request: web.Request) -> web.Response:
    base = request.app[CONFIG].base_url
    return json_response(
        {
            "schemes": [
                {"name": name, "iri": iri, "url": f"{base}/vocab/schemes/{name}"}
                for name, iri in vocab.SCHEMES.items()
            ]
        }
    )


@routes.get(r"/vocab/schemes/{name:[a-z-]{1,40}}")
async def scheme(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    iri = vocab.SCHEMES.get(name)
    if iri is None:
        raise NotFound(
            f"there is no concept scheme '{name}'; the schemes are: {', '.join(vocab.SCHEMES)}",
            scheme=name,
        )
    chosen = neg.choose(request.headers.get("Accept"), _SCHEME, request.query.get("format"))
    if chosen == neg.TURTLE:
        return _turtle(await asyncio.to_thread(terms.scheme_turtle, iri))
    return json_response(
        {"name": name, "iri": iri, "concepts": [c.to_json() for c in vocab.in_scheme(iri)]}
    )
