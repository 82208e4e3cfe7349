"""`/sparql`: the SPARQL 1.1 Protocol (W3C Rec. 2013-03-21) over the node's replica, read-only.

- Query: `GET /sparql?query=...`, `POST` with `application/x-www-form-urlencoded` (`query=`) or
  `application/sparql-query` (the query as the body) (Protocol 2.1.1-2.1.3); `default-graph-uri`
  and `named-graph-uri` choose the dataset (2.1.4). Without them the default graph holds every
  record's triples and the cities they come from; the named graph `<{base}/sparql#dataset>`
  says what the store reflects (opendata/sparql_view.py).
- Answers by content negotiation: SELECT and ASK as SPARQL JSON (the default), XML, CSV, TSV;
  CONSTRUCT and DESCRIBE as Turtle (the default), JSON-LD, N-Triples, RDF/XML. `format=` (or
  `output=`) names a format for clients that cannot set Accept.
- Refused: updates (`update=`, `application/sparql-update`: 403), SERVICE (403), malformed
  queries (400 with the parser's message). A query past `sparql_timeout_seconds` is stopped (its
  process is killed: 422 `query_timeout`); a result past `sparql_max_rows` is cut, and the
  `Citynode-Results-Truncated` header (and `"truncated": true` in JSON) says so.
- `GET /sparql` without a query: the service description (SPARQL 1.1 Service Description).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pyoxigraph as ox
from aiohttp import web
from msgspec import Meta

from citynode.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from citynode.opendata import sparql_results as results
from citynode.opendata.sparql_queries import UpdateRefused, refuse_service
from citynode.web.contract import Body, Reply, Routes
from citynode.web.keys import NODE, SPARQL
from citynode.web.negotiation import choose
from citynode.web.params import read_query
from citynode.web.responses import error_response

routes = Routes("open data")

MAX_QUERY_CHARS = 64 * 1024
SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS_IRI = "http://www.w3.org/ns/formats/"
_SD_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "JSON-LD",
    "N-Triples",
    "RDF_XML",
)


def _refuse_update() -> UpdateRefused:
    return UpdateRefused(
        "this SPARQL endpoint is read-only: records change only through the node's signed "
        "write path (the editor API, the CLI, federation)"
    )


async def _read(request: web.Request) -> tuple[str | None, list[str], list[str]]:
    """The query and the dataset of a request (SPARQL 1.1 Protocol 2.1)."""
    if "update" in request.query:
        raise _refuse_update()
    params = read_query(request, SparqlParams)
    query: str | None = params.query or None
    defaults = list(params.default_graph_uri)
    named = list(params.named_graph_uri)
    if request.method == "POST":
        media = request.content_type
        if media == "application/sparql-update":
            raise _refuse_update()
        if media == "application/x-www-form-urlencoded":
            form = await request.post()
            if "update" in form:
                raise _refuse_update()
            value = form.get("query")
            query = value if isinstance(value, str) else query
            defaults += [v for v in form.getall("default-graph-uri", []) if isinstance(v, str)]
            named += [v for v in form.getall("named-graph-uri", []) if isinstance(v, str)]
        elif media == "application/sparql-query":
            raw = await request.read()
            try:
                query = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("the query is not valid UTF-8") from None
        else:
            raise UnsupportedMediaType(
                f"POST a query as application/sparql-query or as a form "
                f"(application/x-www-form-urlencoded), not {media or 'no content type'}",
                accepted=["application/sparql-query", "application/x-www-form-urlencoded"],
            )
        if query is None:
            raise BadRequest("the request has no query (a 'query' form field or body)")
    for iri in (*defaults, *named):
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise BadRequest(f"'{iri}' is not a graph IRI", parameter="default-graph-uri") from None
        if ":" not in iri:
            raise BadRequest(f"'{iri}' is not an absolute IRI", parameter="default-graph-uri")
    return query, defaults, named


class SparqlParams(msgspec.Struct, kw_only=True):
    query: Annotated[str, Meta(description="a SPARQL 1.1 query; none: the service description")] = (
        ""
    )
    default_graph_uri: list[str] = msgspec.field(default_factory=list, name="default-graph-uri")
    named_graph_uri: list[str] = msgspec.field(default_factory=list, name="named-graph-uri")
    format: Annotated[str, Meta(description="json, xml, csv, tsv, turtle, jsonld...")] = ""
    output: Annotated[str, Meta(description="the same as format")] = ""
    update: Annotated[str, Meta(description="refused: the endpoint is read-only")] = ""


class SparqlForm(msgspec.Struct, kw_only=True):
    """A query POSTed as a form (SPARQL 1.1 Protocol 2.1.2)."""

    query: str = ""
    default_graph_uri: list[str] = msgspec.field(default_factory=list, name="default-graph-uri")
    named_graph_uri: list[str] = msgspec.field(default_factory=list, name="named-graph-uri")


ANSWERS = Reply(
    "the answer: solutions, a boolean or a graph, by content negotiation",
    {
        results.JSON: dict[str, Any],
        results.XML: str,
        results.CSV: str,
        results.TSV: str,
        results.TURTLE: str,
        results.JSONLD: list[dict[str, Any]],
        results.NTRIPLES: str,
        results.RDFXML: str,
    },
)
ERRORS = (403, 406, 413, 415, 422, 429)


@routes.get(
    "/sparql",
    summary="SPARQL 1.1 query (read-only; updates and SERVICE refused); without a query, the "
    "service description",
    query=SparqlParams,
    headers=[("Accept", "the result format (SPARQL JSON by default; Turtle for graphs)")],
    responses={200: ANSWERS},
    errors=ERRORS,
)
@routes.post(
    "/sparql",
    summary="SPARQL 1.1 query as application/sparql-query or a form; updates are refused",
    query=SparqlParams,
    body=Body(
        {"application/sparql-query": str, "application/x-www-form-urlencoded": SparqlForm},
        required=False,
    ),
    headers=[("Accept", "the result format (SPARQL JSON by default; Turtle for graphs)")],
    responses={200: ANSWERS},
    errors=ERRORS,
)
async def sparql(request: web.Request) -> web.StreamResponse:
    service = request.app.get(SPARQL)
    if service is None:
        raise NotFound("this node's SPARQL endpoint is turned off ([opendata] sparql = false)")
    query, defaults, named = await _read(request)
    if query is None:
        return service_description(request)
    if len(query) > MAX_QUERY_CHARS:
        raise PayloadTooLarge(
            f"the query has {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,}"
        )
    refuse_service(query)
    params = read_query(request, SparqlParams)
    answer = await service.query(
        query,
        accept=request.headers.get("Accept"),
        format=params.format or params.output or None,
        default_graphs=defaults,
        named_graphs=named,
    )
    if answer.status != 200:
        return error_response(answer.status, answer.code, answer.message, answer.detail)
    headers = {"Vary": "Accept", "Citynode-Result-Limit": str(service.max_rows)}
    if answer.truncated:
        headers["Citynode-Results-Truncated"] = "true"
    response = web.Response(body=answer.body, headers=headers)
    response.content_type = answer.media_type
    response.charset = "utf-8"
    return response


def sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def service_description(request: web.Request) -> web.Response:
    """What the endpoint is and does, in the SPARQL 1.1 Service Description vocabulary."""
    node = request.app[NODE]
    base = node.config.base_url
    me = ox.NamedNode(f"{base}/sparql")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    dataset = ox.BlankNode()
    default_graph = ox.BlankNode()
    about = ox.BlankNode()
    triples = [
        ox.Triple(me, rdf_type, sd("Service")),
        ox.Triple(me, sd("endpoint"), me),
        ox.Triple(me, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(me, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, rdf_type, sd("Graph")),
        ox.Triple(dataset, sd("namedGraph"), about),
        ox.Triple(about, rdf_type, sd("NamedGraph")),
        ox.Triple(about, sd("name"), ox.NamedNode(f"{base}/sparql#dataset")),
        ox.Triple(
            me,
            ox.NamedNode("http://purl.org/dc/terms/description"),
            ox.Literal(
                f"Read-only SPARQL over the practice records held by {node.config.node.name}'s "
                "node (its own and its peers'): the default graph holds every record's triples "
                "(about its id, nested values as blank nodes under it) and the cities they come "
                "from (foaf:name, vcard:country-name, foaf:homepage); the named graph "
                f"<{base}/sparql#dataset> holds the change-log position the store reflects. "
                "Updates and SERVICE are refused; a query "
                f"runs at most {node.config.opendata.sparql_timeout_seconds:g} s and returns at "
                f"most {node.config.opendata.sparql_max_rows:,} rows.",
                language="en",
            ),
        ),
    ]
    triples += [
        ox.Triple(me, sd("resultFormat"), ox.NamedNode(_FORMATS_IRI + name)) for name in _SD_FORMATS
    ]
    media = choose(request.headers.get("Accept"), (results.TURTLE, results.JSONLD))
    body = results.graph(triples, media, {"sd": SD})
    response = web.Response(body=body, headers={"Vary": "Accept"})
    response.content_type = media
    return response
