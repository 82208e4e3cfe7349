"""The DCAT catalog: valid against DCAT-AP 3.0.1's shapes, and harvestable end to end."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.request import Request, urlopen

import pyshacl
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF

from tests.opendata_support import three_cities
from tests.support import RunningNode, request_json
from vocab.graphs import RDFLIB_JSONLD_WARNING

SHAPES = Path(__file__).parent / "vectors" / "dcat-ap"
DCATAP = Namespace("http://data.europa.eu/r5r/")
Factory = Callable[..., Awaitable[RunningNode]]


def shapes() -> Graph:
    graph = Graph()
    for name in ("shapes.ttl", "shapes_recommended.ttl"):
        graph.parse(SHAPES / name, format="turtle")
    return graph


def harvest(url: str, accept: str) -> tuple[Graph, dict[str, int]]:
    """What a CKAN-style DCAT harvester does: read the catalog, list datasets and their
    distributions, fetch every distribution URL."""
    with urlopen(Request(f"{url}/catalog", headers={"Accept": accept}), timeout=30) as resp:
        body = resp.read()
        assert resp.headers["Content-Type"].startswith(accept)
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser warns about its own internals (vocab/graphs.py).
        warnings.filterwarnings("ignore", RDFLIB_JSONLD_WARNING, DeprecationWarning)
        graph = Graph().parse(data=body, format="json-ld" if "json" in accept else "turtle")
    fetched: dict[str, int] = {}
    for catalog in graph.subjects(RDF.type, DCAT.Catalog):
        for dataset in graph.objects(catalog, DCAT.dataset):
            assert graph.value(dataset, DCTERMS.title) is not None
            for distribution in graph.objects(dataset, DCAT.distribution):
                access = graph.value(distribution, DCAT.accessURL)
                assert isinstance(access, URIRef)
                with urlopen(str(access), timeout=30) as resp:
                    fetched[str(access)] = len(resp.read())
    return graph, fetched


async def test_the_catalog_meets_dcat_ap_and_a_harvester_finds_everything(
    node_factory: Factory,
) -> None:
    nodes = await three_cities(node_factory)
    medellin = nodes[0]
    for accept in ("text/turtle", "application/ld+json"):
        graph, fetched = await asyncio.to_thread(harvest, medellin.url, accept)
        # Recommended properties are sh:Warning in the shapes: none may be missing either.
        conforms, _, report = await asyncio.to_thread(
            pyshacl.validate, graph, shacl_graph=shapes(), allow_warnings=False
        )
        assert conforms, report
        datasets = set(graph.objects(None, DCAT.dataset))
        titles = {str(graph.value(d, DCTERMS.title)) for d in datasets}
        # One dataset per record type the node publishes, and one for the replica.
        assert {"Projects", "Policies", "Programmes", "Results and measurements"} <= titles
        assert "Practices of every city in the federation" in titles
        distributions = set(graph.objects(None, DCAT.distribution))
        assert len(fetched) == len(distributions) >= 5 * 4 + 1
        assert all(size > 0 for size in fetched.values())
        replica = next(d for d in datasets if str(d).endswith("#dataset-replica"))
        creators = {str(c) for c in graph.objects(replica, DCTERMS.creator)}
        assert creators == {n.did for n in nodes[1:]}
        themes = {str(t) for t in graph.objects(replica, DCAT.theme)}
        eu_theme = "http://publications.europa.eu/resource/authority/data-theme/"
        assert any(t.startswith(eu_theme) for t in themes)
        publisher = graph.value(URIRef(f"{medellin.url}/catalog"), DCTERMS.publisher)
        assert str(graph.value(publisher, FOAF.name)) == "Medellín"
        service = URIRef(f"{medellin.url}/sparql")
        assert (service, DCAT.servesDataset, replica) in graph


async def test_an_empty_node_still_has_a_valid_catalog(medellin: RunningNode) -> None:
    """No record, no place configured: the mandatory properties hold; what is missing is only
    what no record can give yet (where and when the data is about)."""
    status, body, headers = await request_json(
        "GET", f"{medellin.url}/catalog", headers={"Accept": "text/turtle"}
    )
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=body, format="turtle")
    conforms, results, report = pyshacl.validate(graph, shacl_graph=shapes(), allow_warnings=True)
    assert conforms, report
    missing = {
        str(path) for path in results.objects(None, URIRef("http://www.w3.org/ns/shacl#resultPath"))
    }
    assert missing <= {str(DCTERMS.spatial), str(DCTERMS.temporal)}, report
    status, body, _ = await request_json(
        "GET", f"{medellin.url}/catalog", headers={"Accept": "image/png"}
    )
    assert status == 406 and body["code"] == "not_acceptable"


async def test_the_node_says_where_its_open_data_is(medellin: RunningNode) -> None:
    status, info, headers = await request_json("GET", f"{medellin.url}/.well-known/citynode")
    assert status == 200
    assert info["endpoints"]["catalog"] == f"{medellin.url}/catalog"
    assert info["endpoints"]["sparql"] == f"{medellin.url}/sparql"
    assert info["endpoints"]["practicesFeed"] == f"{medellin.url}/feeds/practices.atom"
    dumps = {link["href"] for link in info["openData"] if link["name"].startswith("dump:")}
    assert f"{medellin.url}/dumps/records.ttl" in dumps
    for path in ("/", "/records", "/.well-known/citynode"):
        _, _, headers = await request_json("GET", f"{medellin.url}{path}")
        assert f'<{medellin.url}/catalog>; rel="describedby"' in headers["Link"], path
    for link in info["openData"]:
        status, _, _ = await request_json("GET", link["href"])
        assert status == 200, link
