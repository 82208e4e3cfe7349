"""msgspec's validation messages, reworded so they name the record, the field and the rule.

A city clerk reads these (in the API's error shape, the CLI and the CSV import report), so a
regular expression never reaches them: `_EXPECTED` says in words what a value must look like.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

from protocol import langtags
from protocol.errors import InvalidRecord

_PATH: Final = re.compile(r" - at `(?:key` in `)?\$(?P<path>[^`]*)`$")
_IS_KEY: Final = re.compile(r" - at `key` in `")
_CN: Final = "https://w3id.org/citynode/"
_DAY_OR_LESS: Final = "a year (2021), a month (2021-05) or a day (2021-05-31)"
_ILLUSTRATIVE: Final = "true, or a list of the fields whose values are illustrative"
_RECORD_TYPES: Final = ("Project", "Policy", "Programme", "Result", "Tombstone")

#: What a value must look like, by field, in a clerk's words (instead of a regular expression).
_EXPECTED: Final = {
    "period": f"{_DAY_OR_LESS}, or a range like 2020/2023",
    "startDate": _DAY_OR_LESS,
    "endDate": _DAY_OR_LESS,
    "date": _DAY_OR_LESS,
    "dateDocument": "a date like 2024-05-31",
    "issued": "a UTC time like 2024-05-31T10:00:00Z",
    "modified": "a UTC time like 2024-05-31T10:00:00Z",
    "created": "a UTC time like 2024-05-31T10:00:00Z",
    "status": f"one of {_CN}status#planned, ongoing, completed, suspended or discontinued",
    "stage": f"one of {_CN}stage#idea, pilot, scaled or ended",
    "governmentLevel": f"one of {_CN}government-level#local, regional, national or international",
    "scale": f"one of {_CN}scale#neighbourhood, district, city, metropolitan or national",
    "themes": f"a theme like {_CN}theme#connectivity or an EU data theme IRI",
    "sdgs": "a UN SDG goal or target like http://metadata.un.org/sdg/11.2",
    "hasEmail": "an address like mailto:innovacion@medellin.gov.co",
    "currency": "an ISO 4217 currency code in capitals, like COP, EUR or UYU",
    "measures": f"an indicator of the citynode scheme, like {_CN}indicator#people-trained",
    "sameAs": "a Wikidata item (http://www.wikidata.org/entity/Q48278) or a ROR id "
    "(https://ror.org/0...) for an organisation, or a gazetteer address for a place",
    "editorial": 'a list of the names of text fields of the same object, like ["problem"]',
    "illustrative": _ILLUSTRATIVE,
}
_KIND_SCHEMES: Final = {
    "organisation-kind": "public, private, academic, civil-society or multilateral",
    "evidence-kind": "evaluation, audit, study, report or dataset",
    "media-kind": "image, video, audio, document, presentation or map",
    "cost-kind": "budget or spent",
}


def guess_id(document: Any) -> str | None:
    if isinstance(document, dict):
        value = document.get("id")
        return value if isinstance(value, str) else None
    return None


def _kind_words(path: str) -> str:
    if path.startswith(("funders", "partners")) or ".creator" in path:
        scheme = "organisation-kind"
    elif path.startswith("evidence"):
        scheme = "evidence-kind"
    elif path.startswith("media"):
        scheme = "media-kind"
    else:
        scheme = "cost-kind"
    return f"'{path}' must be one of {_CN}{scheme}#{_KIND_SCHEMES[scheme]}"


def _bad_tags(document: Any, path: str) -> list[str]:
    """The keys of the language map at `path` that are not BCP 47 tags."""
    node = document
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError, ValueError):
            return []
    if not isinstance(node, dict):
        return []
    return [key for key in node if not (isinstance(key, str) and langtags.is_language_tag(key))]


def clerk_words(
    exc: msgspec.ValidationError | msgspec.DecodeError,
    record_id: str | None,
    document: Any = None,
) -> InvalidRecord:
    """Turn msgspec's message into one that names the record, the field and the rule."""
    text = str(exc)
    match = _PATH.search(text)
    path = match.group("path").lstrip(".") if match else ""
    rule = _PATH.sub("", text).strip()
    field = re.sub(r"\[[^\]]*\]", "", path).split(".")[-1] if path else ""
    if rule.startswith("Object contains unknown field"):
        name = rule.split("`")[1]
        where = f" in '{path}'" if path else ""
        rule = f"unknown term `{name}`{where} (not in the citynode vocabulary)"
        field = name
    elif rule.startswith("Object missing required field"):
        name = rule.split("`")[1]
        rule = f"missing required field '{name}'" + (f" in '{path}'" if path else "")
        field = name
    elif _IS_KEY.search(text):
        bad = _bad_tags(document, path)
        which = f" ({', '.join(repr(tag) for tag in bad)})" if bad else ""
        rule = (
            f"'{path}' has a language{which} that is not a BCP 47 tag: write a tag such as es, "
            "en, pt, fr, pt-BR or es-419 as the key of each text"
        )
    elif field == "type" and rule.startswith("Invalid value"):
        value = rule.removeprefix("Invalid value ")
        if path.count(".") == 0 and "[" not in path:
            rule = f"type {value} is not one of {', '.join(_RECORD_TYPES)}"
        else:
            rule = f"'{path}' has type {value}, which this field does not take"
            if value == "'Organization'" and path.startswith(("funders", "partners")):
                rule += " (a funder or partner is an Organisation; Organization is a contact)"
    elif "matching regex" in rule and field == "kind":
        rule = _kind_words(path)
    elif "matching regex" in rule and field in _EXPECTED:
        rule = f"'{path}' must be {_EXPECTED[field]}"
    elif field == "illustrative" or (field == "" and path.startswith("illustrative")):
        rule = f"'{path}' must be {_ILLUSTRATIVE}"
    elif field:
        rule = f"'{path}': {rule}"
    who = f"record {record_id}" if record_id else "the record"
    return InvalidRecord(
        f"{who}: {rule}", record=record_id, field=field or None, path=path or None, rule=rule
    )
