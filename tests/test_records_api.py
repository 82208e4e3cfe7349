"""One node over real HTTP on loopback: publish, read, negotiate, version, withdraw, verify."""

from __future__ import annotations

import io
import socket

import pytest

from citynode.storage import records as store
from tests import independent_verifier
from tests.drafts import STATUS, practice, result
from tests.support import RunningNode, request_json


async def publish(node: RunningNode, *drafts: dict, expect: int = 201) -> dict:
    status, body, _ = await request_json(
        "POST", f"{node.url}/api/records", json=list(drafts), headers=node.auth()
    )
    assert status == expect, body
    return body


async def test_published_record_verifies_in_an_independent_verifier(medellin: RunningNode) -> None:
    body = await publish(medellin, practice("wifi-parques"))
    assert body["records"] == [
        {
            "id": f"{medellin.url}/records/wifi-parques",
            "version": 1,
            "type": "Project",
            "outcome": "created",
        }
    ]
    status, record, headers = await request_json("GET", f"{medellin.url}/records/wifi-parques")
    assert status == 200
    assert headers["Content-Type"].startswith("application/ld+json")
    assert record["id"] == f"{medellin.url}/records/wifi-parques"
    assert record["publisher"] == medellin.did
    assert record["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    _, did_document, _ = await request_json("GET", f"{medellin.url}/.well-known/did.json")
    assert independent_verifier.verify(record, did_document)
    tampered = {**record, "title": {"es": "Otro título"}}
    assert not independent_verifier.verify(tampered, did_document)


async def test_content_negotiation(medellin: RunningNode) -> None:
    await publish(medellin, practice("aulas"))
    url = f"{medellin.url}/records/aulas"
    status, turtle, headers = await request_json("GET", url, headers={"Accept": "text/turtle"})
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    assert b"dcterms:title" in turtle and b'"Parques con wifi aulas"@es' in turtle
    status, nt, headers = await request_json(
        "GET", url, headers={"Accept": "application/n-triples"}
    )
    assert headers["Content-Type"].startswith("application/n-triples")
    assert f"<{url}> <http://purl.org/dc/terms/title>".encode() in nt
    status, html, headers = await request_json(
        "GET", url, headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
    )
    assert headers["Content-Type"].startswith("text/html")
    assert b'<html lang="es">' in html and b"Parques con wifi aulas" in html
    status, error, _ = await request_json("GET", url, headers={"Accept": "image/png"})
    assert status == 406 and error["code"] == "not_acceptable"


async def test_versions_history_and_withdrawal(medellin: RunningNode) -> None:
    await publish(medellin, practice("eva"))
    changed = practice("eva", status=STATUS + "completed")
    status, body, _ = await request_json(
        "PUT", f"{medellin.url}/api/records/eva", json=changed, headers=medellin.auth()
    )
    assert status == 200 and body["records"][0]["version"] == 2
    _, record, _ = await request_json("GET", f"{medellin.url}/records/eva")
    assert record["version"] == 2
    assert record["previousVersion"] == f"{medellin.url}/records/eva/versions/1"
    assert record["status"] == STATUS + "completed"
    _, first, _ = await request_json("GET", f"{medellin.url}/records/eva/versions/1")
    assert first["version"] == 1 and first["status"] == STATUS + "ongoing"
    # Re-publishing identical content makes no new version.
    status, body, _ = await request_json(
        "PUT", f"{medellin.url}/api/records/eva", json=changed, headers=medellin.auth()
    )
    assert body["records"][0]["outcome"] == "unchanged" and body["records"][0]["version"] == 2
    status, body, _ = await request_json(
        "DELETE",
        f"{medellin.url}/api/records/eva",
        json={"reason": {"es": "Duplicado"}},
        headers=medellin.auth(),
    )
    assert status == 200 and body["version"] == 3
    status, tombstone, _ = await request_json("GET", f"{medellin.url}/records/eva")
    assert status == 410 and tombstone["type"] == "Tombstone"
    assert tombstone["formerType"] == "Project" and tombstone["reason"] == {"es": "Duplicado"}
    _, did_document, _ = await request_json("GET", f"{medellin.url}/.well-known/did.json")
    assert independent_verifier.verify(tombstone, did_document)
    _, history, _ = await request_json("GET", f"{medellin.url}/records/eva/versions")
    assert [v["version"] for v in history["versions"]] == [3, 2, 1]
    # A withdrawn id is never reused.
    body = await publish(medellin, practice("eva"), expect=422)
    assert body["detail"]["errors"][0]["rule"] == "id-never-reused"


async def test_editor_api_needs_a_valid_token(medellin: RunningNode) -> None:
    url = f"{medellin.url}/api/records"
    status, body, _ = await request_json("POST", url, json=practice("x"))
    assert status == 401 and body["code"] == "unauthorized"
    status, body, _ = await request_json(
        "POST", url, json=practice("x"), headers={"Authorization": "Bearer cn_nope"}
    )
    assert status == 401
    assert await store.count_current(medellin.node.db.reader) == 0


@pytest.mark.parametrize(
    ("draft", "field", "words"),
    [
        ({**practice("a"), "colour": "red"}, None, "unknown term `colour`"),
        ({k: v for k, v in practice("a").items() if k != "title"}, None, "title"),
        ({**practice("a"), "title": {"fr_FR": "Parcs"}}, "title", "fr_FR"),
        ({**practice("a"), "status": "ongoing"}, "status", "status"),
        ({**practice("a"), "sdgs": ["SDG 9"]}, "sdgs", "sdgs"),
        ({**practice("a"), "@context": ["https://evil.example/context"]}, "@context", "fetched"),
        ({**practice("a"), "id": "https://elsewhere.example/records/a"}, "id", "records/"),
    ],
)
async def test_bad_records_are_refused_with_words_that_name_the_problem(
    medellin: RunningNode,
    draft: dict,
    field: str | None,
    words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connects: list[object] = []
    original = socket.socket.connect

    def spy(self: socket.socket, address: object) -> None:
        connects.append(address)
        original(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    body = await publish(medellin, practice("good"), draft, expect=422)
    assert body["code"] == "invalid_records"
    error = body["detail"]["errors"][0]
    assert error["position"] == 1
    if field:
        assert error.get("field") == field
    assert words in error["message"]
    # All or nothing: the good draft in the same batch was not stored either.
    assert await store.count_current(medellin.node.db.reader) == 0
    port = int(medellin.url.rsplit(":", 1)[1])
    assert all(address[1] == port for address in connects), connects  # type: ignore[index]


async def test_invalid_json_and_oversized_bodies(medellin: RunningNode) -> None:
    url = f"{medellin.url}/api/records"
    headers = {**medellin.auth(), "Content-Type": "application/json"}
    status, body, _ = await request_json("POST", url, data=b'{"type": "Project",', headers=headers)
    assert status == 400 and "not valid JSON" in body["message"]
    huge = b'{"type": "Project", "x": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    status, body, _ = await request_json("POST", url, data=io.BytesIO(huge), headers=headers)
    assert status == 413 and body["code"] == "payload_too_large"
    status, body, _ = await request_json(
        "POST", url, data=b"<html/>", headers={**medellin.auth(), "Content-Type": "text/html"}
    )
    assert status == 415
    # The node keeps serving and counted the refusals.
    status, _, _ = await request_json("GET", f"{medellin.url}/records")
    assert status == 200


async def test_results_must_point_at_a_known_practice(medellin: RunningNode) -> None:
    body = await publish(medellin, result("r1", of="nothing-here"), expect=422)
    assert body["detail"]["errors"][0]["field"] == "resultOf"
    await publish(medellin, practice("parques"), result("r1", of="parques"))
    _, record, _ = await request_json("GET", f"{medellin.url}/records/r1")
    assert record["resultOf"] == f"{medellin.url}/records/parques"
    assert record["measurements"][0]["value"] == 33


async def test_turtle_in(medellin: RunningNode) -> None:
    turtle = f"""
    @prefix cn: <https://w3id.org/citynode/vocab#> .
    @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix adms: <http://www.w3.org/ns/adms#> .
    @prefix dcat: <http://www.w3.org/ns/dcat#> .
    <records/medata> a cn:Programme ;
        dcterms:title "MEData"@es, "MEData open data"@en ;
        dcterms:abstract "Portal de datos abiertos."@es ;
        adms:status <{STATUS}ongoing> ;
        dcat:keyword "datos abiertos"@es, "transparencia"@es ;
        cn:sdg <http://metadata.un.org/sdg/16.10> .
    """
    status, body, _ = await request_json(
        "POST",
        f"{medellin.url}/api/records",
        data=turtle.encode(),
        headers={**medellin.auth(), "Content-Type": "text/turtle"},
    )
    assert status == 201, body
    _, record, _ = await request_json("GET", f"{medellin.url}/records/medata")
    assert record["type"] == "Programme"
    assert record["title"] == {"es": "MEData", "en": "MEData open data"}
    assert sorted(record["keywords"]["es"]) == ["datos abiertos", "transparencia"]
    bad = turtle.replace("cn:sdg", "<https://unknown.example/term>")
    status, body, _ = await request_json(
        "POST",
        f"{medellin.url}/api/records",
        data=bad.encode(),
        headers={**medellin.auth(), "Content-Type": "text/turtle"},
    )
    assert status == 422 and "unknown.example/term" in body["message"]


async def test_list_filters_and_paging(medellin: RunningNode) -> None:
    await publish(
        medellin,
        *[practice(f"p{i}", kind=("Project", "Policy")[i % 2]) for i in range(7)],
        practice("done", status=STATUS + "completed"),
    )
    _, page, _ = await request_json("GET", f"{medellin.url}/records?limit=3")
    assert page["count"] == 3 and "next" in page
    seen = [item["id"] for item in page["items"]]
    while "next" in page:
        _, page, _ = await request_json("GET", f"{medellin.url}{page['next']}")
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == 8
    _, policies, _ = await request_json("GET", f"{medellin.url}/records?type=Policy")
    assert {i["type"] for i in policies["items"]} == {"Policy"} and policies["count"] == 3
    _, done, _ = await request_json("GET", f"{medellin.url}/records?status=completed")
    assert [i["id"].rsplit("/", 1)[1] for i in done["items"]] == ["done"]
    _, later, _ = await request_json("GET", f"{medellin.url}/records?modified_since=2999-01-01")
    assert later["count"] == 0
    status, error, _ = await request_json("GET", f"{medellin.url}/records?type=Dragon")
    assert status == 400 and "Dragon" in error["message"]
    assert page["items"][0]["origin"]["city"] == "Medellín"


async def test_discovery_documents(medellin: RunningNode) -> None:
    _, did_document, _headers = await request_json("GET", f"{medellin.url}/.well-known/did.json")
    assert did_document["id"] == medellin.did
    assert medellin.did.startswith("did:web:127.0.0.1%3A")
    method = did_document["verificationMethod"][0]
    assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")
    assert did_document["assertionMethod"] == [method["id"]]
    _, descriptor, _ = await request_json("GET", f"{medellin.url}/.well-known/citynode")
    assert descriptor["did"] == medellin.did and descriptor["name"] == "Medellín"
    _, context, _ = await request_json("GET", f"{medellin.url}/vocab/v1")
    assert context["@context"]["title"]["@id"] == "dcterms:title"


async def test_shapes_catch_what_the_structure_cannot(medellin: RunningNode) -> None:
    """What the Structs cannot see: an end date before the start date (a publishing rule,
    protocol/record_rules.py) and a theme the closed SHACL list does not hold."""
    late = practice("fechas", startDate="2024-06-01", endDate="2020-01-01")
    body = await publish(medellin, practice("ok"), late, expect=422)
    error = body["detail"]["errors"][0]
    assert error["rule"] == "start-before-end" and error["position"] == 1, error
    assert error["field"] == "startDate", error
    odd = practice("tema", themes=["https://w3id.org/citynode/theme#sunshine"])
    body = await publish(medellin, practice("ok"), odd, expect=422)
    error = body["detail"]["errors"][0]
    assert error["rule"] == "shacl" and error["field"] == "themes", error
    assert await store.count_current(medellin.node.db.reader) == 0


async def test_refusals_are_counted_and_the_node_keeps_serving(medellin: RunningNode) -> None:
    url = f"{medellin.url}/api/records"
    for _ in range(3):
        await request_json("POST", url, json={"type": "Project"}, headers=medellin.auth())
        await request_json("POST", url, json=practice("x"))
    counters = await medellin.node.counters()
    assert sum(counters["rejected.invalid_records"].values()) == 3
    assert sum(counters["rejected.unauthorized"].values()) == 3
    await publish(medellin, practice("still-works"))
