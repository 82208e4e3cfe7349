"""Every error, on every route, has one JSON shape: {"code", "message", "detail"}.

The route list comes from the running app's router, so a new route without a case here fails.
"""

from __future__ import annotations

from typing import Any

from citynode.web.contract import openapi_path
from tests.support import RunningNode, request_json

_JSON: dict[str, Any] = {"headers": {"Accept": "application/json"}}
# (method, path, request kwargs, expected status) per route pattern; each provokes an error.
CASES: dict[str, list[tuple[str, str, dict[str, Any], int]]] = {
    "/": [("DELETE", "/", {}, 405)],
    "/{lang}/": [("DELETE", "/en/", {}, 405), ("GET", "/en/?format=xml", {}, 406)],
    "/search": [("POST", "/search", {}, 405)],
    "/{lang}/search": [("POST", "/es/search", {}, 405)],
    "/practice": [("GET", "/practice", {}, 404), ("GET", "/practice?id=http://x/y", {}, 404)],
    "/{lang}/practice": [("GET", "/pt/practice?id=nope", {}, 404)],
    "/{lang}/records/{slug}": [("GET", "/en/records/missing", {}, 404)],
    "/city": [("GET", "/city?origin=did:web:nowhere", {}, 404)],
    "/{lang}/city": [("GET", "/es/city?origin=did:web:nowhere", {}, 404)],
    "/compare": [("POST", "/compare", {}, 405)],
    "/{lang}/compare": [("POST", "/en/compare", {}, 405)],
    "/vocab/ontology": [
        ("GET", "/vocab/ontology?format=nt", {}, 406),
        ("GET", "/vocab/ontology?format=pdf", {}, 406),
    ],
    "/{lang}/vocab/ontology": [("POST", "/en/vocab/ontology", {}, 405)],
    "/{lang}/vocab/schemes/{scheme}": [("GET", "/es/vocab/schemes/colours", {}, 404)],
    "/editor": [("DELETE", "/editor", {}, 405)],
    "/{lang}/editor": [("DELETE", "/en/editor", {}, 405)],
    "/editor/sign-in": [("POST", "/editor/sign-in", {"data": {"token": "x"}}, 403)],
    "/{lang}/editor/sign-in": [("POST", "/es/editor/sign-in", {}, 403)],
    "/editor/sign-out": [("POST", "/editor/sign-out", {}, 403)],
    "/{lang}/editor/sign-out": [("POST", "/pt/editor/sign-out", {}, 403)],
    "/editor/new": [("GET", "/editor/new", _JSON, 401), ("POST", "/editor/new", _JSON, 401)],
    "/{lang}/editor/new": [("POST", "/en/editor/new", _JSON, 401)],
    "/editor/records/{slug}": [("GET", "/editor/records/x", _JSON, 401)],
    "/{lang}/editor/records/{slug}": [("POST", "/en/editor/records/x", _JSON, 401)],
    "/editor/records/{slug}/withdraw": [("POST", "/editor/records/x/withdraw", _JSON, 401)],
    "/{lang}/editor/records/{slug}/withdraw": [
        ("POST", "/es/editor/records/x/withdraw", _JSON, 401)
    ],
    "/editor/import": [("GET", "/editor/import", _JSON, 401)],
    "/{lang}/editor/import": [("POST", "/en/editor/import", _JSON, 401)],
    "/editor/imports/{job}": [("GET", "/editor/imports/abc", _JSON, 401)],
    "/{lang}/editor/imports/{job}": [("GET", "/en/editor/imports/abc", _JSON, 401)],
    "/operator": [("GET", "/operator", _JSON, 401)],
    "/{lang}/operator": [("GET", "/pt/operator", _JSON, 401)],
    "/operator/peers": [("POST", "/operator/peers", _JSON, 401)],
    "/{lang}/operator/peers": [("POST", "/en/operator/peers", _JSON, 401)],
    "/operator/tokens": [("POST", "/operator/tokens", _JSON, 401)],
    "/{lang}/operator/tokens": [("POST", "/es/operator/tokens", _JSON, 401)],
    "/editor/templates/{name}.csv": [("GET", "/editor/templates/other.csv", {}, 404)],
    "/.well-known/did.json": [("POST", "/.well-known/did.json", {}, 405)],
    "/.well-known/citynode": [("PUT", "/.well-known/citynode", {}, 405)],
    "/openapi.json": [("POST", "/openapi.json", {}, 405)],
    "/healthz": [("POST", "/healthz", {}, 405)],
    "/readyz": [("DELETE", "/readyz", {}, 405)],
    "/metrics": [("PUT", "/metrics", {}, 405)],
    "/records": [("GET", "/records?limit=zero", {}, 400), ("GET", "/records?status=x", {}, 400)],
    "/records/{slug}": [
        ("GET", "/records/missing", {}, 404),
        ("GET", "/records/missing?version=x", {}, 400),
    ],
    "/records/{slug}/versions": [("GET", "/records/missing/versions", {}, 404)],
    "/records/{slug}/versions/{version}": [("GET", "/records/missing/versions/1", {}, 404)],
    "/api/records": [("POST", "/api/records", {}, 401)],
    "/fed/v1/changes": [("GET", "/fed/v1/changes", {}, 401)],
    "/fed/v1/inbox": [("POST", "/fed/v1/inbox", {"json": {}}, 401)],
    "/fed/v1/peers": [("POST", "/fed/v1/peers", {"json": {}}, 401)],
    "/fed/v1/digest": [("POST", "/fed/v1/digest", {"json": {}}, 401)],
    "/fed/v1/search": [("POST", "/fed/v1/search", {"json": {}}, 401)],
    "/api/search": [
        ("GET", "/api/search?sort=sideways", {}, 400),
        ("GET", "/api/search?limit=0", {}, 400),
    ],
    "/records/{slug}/similar": [("GET", "/records/x/similar?limit=1000", {}, 400)],
    "/api/peers": [("GET", "/api/peers", {}, 401), ("POST", "/api/peers", {}, 401)],
    "/api/peers/approve": [("POST", "/api/peers/approve", {}, 401)],
    "/api/peers/block": [("POST", "/api/peers/block", {}, 401)],
    "/api/peers/remove": [("POST", "/api/peers/remove", {}, 401)],
    "/api/peers/sync": [("POST", "/api/peers/sync", {}, 401)],
    "/vocab/v1": [("POST", "/vocab/v1", {}, 405)],
    "/vocab/shapes": [("DELETE", "/vocab/shapes", {}, 405)],
    "/vocab/schemes": [("POST", "/vocab/schemes", {}, 405)],
    "/vocab/schemes/{scheme}": [("GET", "/vocab/schemes/colours", {}, 404)],
    "/api/indicators": [("POST", "/api/indicators", {}, 405)],
    "/api/indicators/{indicator}/compare": [("GET", "/api/indicators/nope/compare", {}, 404)],
    "/api/lineage": [("PUT", "/api/lineage", {}, 405)],
    "/api/relations": [("GET", "/api/relations?record=x", {}, 400)],
    "/api/records/{slug}": [
        ("PUT", "/api/records/x", {}, 401),
        ("DELETE", "/api/records/x", {}, 401),
    ],
    "/catalog": [("GET", "/catalog", {"headers": {"Accept": "image/png"}}, 406)],
    "/dumps/{name}": [
        ("GET", "/dumps/records.xls", {}, 404),
        ("GET", "/dumps/records.ttl?origin=mars", {}, 400),
        ("GET", "/dumps/records.ttl?type=Tombstone", {}, 400),
    ],
    "/sparql": [
        ("GET", "/sparql?query=SELEC", {}, 400),
        ("GET", "/sparql?update=DROP+ALL", {}, 403),
        ("POST", "/sparql", {"data": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
        ("PUT", "/sparql", {}, 405),
    ],
    "/feeds/practices.atom": [("POST", "/feeds/practices.atom", {}, 405)],
    "/feeds/replica.atom": [("POST", "/feeds/replica.atom", {}, 405)],
    "/search.atom": [("GET", "/search.atom?limit=0", {}, 400)],
}
CASES["/static/{name}"] = [("GET", "/static/missing.css", {}, 404)]
UNROUTED = [("GET", "/no/such/page", {}, 404), ("GET", "/records/UPPER", {}, 404)]


def route_patterns(node: RunningNode) -> set[str]:
    patterns = set()
    for resource in node.runner.app.router.resources():
        info = resource.get_info()
        patterns.add(openapi_path(info.get("path") or info["formatter"]))
    return patterns


async def test_every_route_has_an_error_case(medellin: RunningNode) -> None:
    assert route_patterns(medellin) <= set(CASES), route_patterns(medellin) - set(CASES)


async def test_every_error_has_the_same_shape(medellin: RunningNode) -> None:
    cases = [case for group in CASES.values() for case in group] + UNROUTED
    for method, path, kwargs, expected in cases:
        status, body, headers = await request_json(method, f"{medellin.url}{path}", **kwargs)
        assert status == expected, (method, path, status, body)
        assert headers["Content-Type"].startswith("application/json"), (method, path)
        assert set(body) == {"code", "message", "detail"}, (method, path, body)
        assert isinstance(body["code"], str) and body["code"]
        assert isinstance(body["message"], str) and body["message"]
        assert isinstance(body["detail"], dict)


async def test_openapi_documents_every_route(medellin: RunningNode) -> None:
    _, spec, _ = await request_json("GET", f"{medellin.url}/openapi.json")
    assert spec["openapi"].startswith("3.1")
    documented = set(spec["paths"])
    assert route_patterns(medellin) == documented
