"""The vocabulary served as data (`/vocab/...`, issue 9 item 4), by content negotiation, from the
copies inside the package; the answers are the Structs the contract declares (web/vocabulary.py).
"""

from __future__ import annotations

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from tests.support import RunningNode, request_json

CN = "https://w3id.org/citynode/"


async def test_ontology_as_turtle_or_json(medellin: RunningNode) -> None:
    status, body, headers = await request_json("GET", f"{medellin.url}/vocab/ontology")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=body.decode(), format="turtle")
    assert (URIRef(CN + "vocab#adaptedFrom"), None, None) in graph
    status, data, headers = await request_json(
        "GET", f"{medellin.url}/vocab/ontology", headers={"Accept": "application/json"}
    )
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    by_term = {term["term"]: term for term in data["terms"]}
    assert by_term["adaptedFrom"]["iri"] == CN + "vocab#adaptedFrom"
    assert by_term["adaptedFrom"]["kind"] == "property" and by_term["adaptedFrom"]["label"]["es"]
    assert data["context"] == "https://w3id.org/citynode/v1"
    status, _, _ = await request_json("GET", f"{medellin.url}/vocab/ontology?format=json")
    assert status == 200


async def test_schemes_by_name(medellin: RunningNode) -> None:
    status, listing, _ = await request_json("GET", f"{medellin.url}/vocab/schemes")
    assert status == 200
    names = {entry["name"]: entry for entry in listing["schemes"]}
    assert {"indicators", "themes", "stage", "cost-kind"} <= set(names)
    status, scheme, _ = await request_json("GET", names["indicators"]["url"])
    assert status == 200 and scheme["iri"] == CN + "indicator"
    trained = next(c for c in scheme["concepts"] if c["iri"] == CN + "indicator#people-trained")
    assert trained["unit"] == "{person}" and trained["prefLabel"]["fr"]
    status, turtle, headers = await request_json(
        "GET", names["stage"]["url"], params={"format": "turtle"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.decode(), format="turtle")
    assert set(graph.subjects(SKOS.inScheme, URIRef(CN + "stage")))


async def test_shapes_context_and_the_descriptor_links(medellin: RunningNode) -> None:
    status, shapes, _ = await request_json("GET", f"{medellin.url}/vocab/shapes")
    assert status == 200 and b"sh:NodeShape" in shapes
    status, context, headers = await request_json("GET", f"{medellin.url}/vocab/v1")
    assert status == 200 and headers["Content-Type"].startswith("application/ld+json")
    assert "adaptedFrom" in context["@context"]
    _, descriptor, _ = await request_json("GET", f"{medellin.url}/.well-known/citynode")
    endpoints = descriptor["endpoints"]
    assert endpoints["ontology"] == f"{medellin.url}/vocab/ontology"
    assert endpoints["indicators"] == f"{medellin.url}/api/indicators"
    assert endpoints["lineage"] == f"{medellin.url}/api/lineage"
