"""Bad input against the 1.1 vocabulary, through the API and the CSV import: each a 4xx naming
the record, the field and the rule (CSV: file, row, column), and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from citynode.imports.csv_records import read_results
from citynode.imports.csv_table import CsvImportError, language_of
from tests.federation_support import publish
from tests.support import RunningNode, request_json

IND = "https://w3id.org/citynode/indicator#"
STATUS = "https://w3id.org/citynode/status#ongoing"


def practice(slug: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"records/{slug}",
        "type": "Programme",
        "title": {"fr": f"Programme {slug}"},
        "summary": {"fr": "Un programme de la ville."},
        "status": STATUS,
        **extra,
    }


def result(slug: str, of: str, **measurement: Any) -> dict[str, Any]:
    return {
        "id": f"records/{slug}",
        "type": "Result",
        "resultOf": f"records/{of}",
        "title": {"en": "People trained"},
        "status": STATUS,
        "measurements": [
            {"type": "Measurement", "value": 10, "period": "2024", **measurement},
        ],
    }


async def refused(node: RunningNode, *drafts: dict[str, Any], put: bool = False) -> dict[str, Any]:
    if put:
        url, payload = f"{node.url}/api/{drafts[0]['id']}", drafts[0]
    else:
        url, payload = f"{node.url}/api/records", list(drafts)
    status, body, _ = await request_json(
        "PUT" if put else "POST", url, json=payload, headers=node.auth()
    )
    assert 400 <= status < 500, (status, body)
    assert set(body) == {"code", "message", "detail"}
    error: dict[str, Any] = body["detail"]["errors"][0]
    return error


@pytest.mark.parametrize(
    ("measurement", "field", "rule"),
    [
        ({"measures": IND + "smiles", "unitCode": "{person}"}, "measures", "known-indicator"),
        (
            {"measures": IND + "people-trained", "unitCode": "{household}"},
            "unitCode",
            "unit-converts",
        ),
        ({"measures": IND + "people-trained", "unitCode": "people"}, "unitCode", "ucum"),
        ({"measures": IND + "people-trained", "unit": "people"}, "unitCode", "indicator-unit"),
    ],
)
async def test_indicator_and_unit_rules(
    medellin: RunningNode, measurement: dict[str, Any], field: str, rule: str
) -> None:
    await publish(medellin, practice("p"))
    error = await refused(medellin, result("r", "p", **measurement))
    assert error["record"] == f"{medellin.url}/records/r"
    assert (error["field"], error["rule"]) == (field, rule)
    assert error["path"] == f"measurements[0].{field}"
    status, _, _ = await request_json("GET", f"{medellin.url}/records/r")
    assert status == 404


async def test_currency_must_be_iso_4217(medellin: RunningNode) -> None:
    cost = {
        "type": "MonetaryAmount",
        "kind": "https://w3id.org/citynode/cost-kind#budget",
        "value": 1000,
        "currency": "EUD",
    }
    error = await refused(medellin, practice("p", costs=[cost]))
    assert (error["path"], error["rule"]) == ("costs[0].currency", "iso-4217")
    assert "EUD" in error["message"] and "ISO 4217" in error["message"]


async def test_part_of_cycle_is_refused(medellin: RunningNode) -> None:
    base = f"{medellin.url}/records"
    await publish(medellin, practice("a"), practice("b", partOf=[f"{base}/a"]))
    error = await refused(medellin, practice("a", partOf=[f"{base}/b"]), put=True)
    assert (error["record"], error["field"], error["rule"]) == (
        f"{base}/a",
        "partOf",
        "part-of-cycle",
    )
    assert f"{base}/a is part of {base}/b is part of {base}/a" in error["message"]
    # hasPart counts too: c lists a as one of its parts, so c cannot also be part of a.
    await publish(medellin, practice("c", hasPart=[f"{base}/a"]))
    error = await refused(
        medellin, practice("c", hasPart=[f"{base}/a"], partOf=[f"{base}/a"]), put=True
    )
    assert error["rule"] == "part-of-cycle"
    assert f"{base}/c is part of {base}/a is part of {base}/c" in error["message"]
    error = await refused(medellin, practice("d", partOf=[f"{base}/d"]))
    assert error["rule"] == "not-part-of-itself"


async def test_adapted_from_itself_is_refused(medellin: RunningNode) -> None:
    own = f"{medellin.url}/records/p"
    adaptation = {"type": "Adaptation", "practice": own}
    error = await refused(medellin, practice("p", adaptedFrom=[adaptation]))
    assert (error["record"], error["path"], error["rule"]) == (
        own,
        "adaptedFrom[0].practice",
        "not-adapted-from-itself",
    )


async def test_any_language_tag_but_not_a_malformed_one(medellin: RunningNode) -> None:
    await publish(
        medellin, practice("fr", title={"fr": "Wi-Fi", "pt-BR": "Wi-Fi", "zh-Hant": "無線"})
    )
    error = await refused(medellin, practice("bad", title={"en_US": "Wi-Fi"}))
    assert error["field"] == "title" and "'en_US'" in error["message"]
    assert "BCP 47" in error["message"]


def test_a_csv_language_column_gives_the_tag_in_its_recommended_case() -> None:
    # Column names lose a tag's case (`title_pt_br`); RFC 5646 2.1.1's case brings it back.
    assert language_of("title_pt_br", "title") == "pt-BR"
    assert language_of("title_zh_hant_tw", "title") == "zh-Hant-TW"
    assert language_of("summary_es_419", "summary") == "es-419"
    assert language_of("title_en_x_local", "title") == "en-x-local"
    assert language_of("title_fr", "title") == "fr" and language_of("title_en_us1", "x") is None


async def test_published_records_state_licence_shapes_and_role(medellin: RunningNode) -> None:
    await publish(
        medellin,
        practice("p"),
        result("r", "p", measures=IND + "people-trained", unitCode="{person}"),
    )
    _, record, _ = await request_json("GET", f"{medellin.url}/records/r")
    assert record["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert record["conformsTo"] == "https://w3id.org/citynode/shapes/v1"
    assert record["measurements"][0]["role"] == "observed"


def test_csv_names_file_row_and_column() -> None:
    text = (
        "result_slug,result_of,status,title_en,indicator_en,measures,value,unit_code,period\n"
        "r,p,ongoing,Trained,People trained,people-trained,10,{person},2024\n"
        "r,,,,People trained,smiles,11,{person},2025\n"
        "s,p,ongoing,Trained,People trained,people-trained,12,{household},2024\n"
    )
    with pytest.raises(CsvImportError) as caught:
        read_results(text, "results.csv")
    found = {(p.row, p.field) for p in caught.value.problems}
    assert found == {(3, "measures"), (4, "unit_code")}
    messages = " ".join(p.message for p in caught.value.problems)
    assert "smiles" in messages and "does not convert to {person}" in messages
