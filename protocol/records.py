"""The record model: practices, results and tombstones as msgspec Structs.

The Structs mirror the JSON-LD context `https://w3id.org/citynode/v1`
(`vocab/contexts/citynode-v1.jsonld`): each field name is a term of that context, so a record
decoded here is also a JSON-LD document any RDF tool can read. Unknown fields are an error
(docs/DESIGN.md: "unknown terms are an error, not silently dropped").

Dates stay strings (checked by pattern) so that a record re-encoded from its Struct is byte-for-byte
the JSON that was signed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

from protocol.errors import InvalidRecord
from protocol.naming import json_term

CONTEXT_URL: Final = "https://w3id.org/citynode/v1"
DATA_INTEGRITY_CONTEXT_URL: Final = "https://w3id.org/security/data-integrity/v2"
RECORD_CONTEXT: Final = [CONTEXT_URL, DATA_INTEGRITY_CONTEXT_URL]
SHAPES_VERSION: Final = "https://w3id.org/citynode/shapes/v1"
DEFAULT_LICENSE: Final = "https://creativecommons.org/licenses/by/4.0/"
#: One signed record (its JSON bytes) may not be larger than this; every node enforces it.
MAX_RECORD_BYTES: Final = 256 * 1024

#: Languages a record's text may be written in.
LANGUAGES: Final = ("es", "en", "pt")
Language = Literal["es", "en", "pt"]

Text = Annotated[str, Meta(min_length=1, max_length=20_000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=400)]
LangText = dict[Language, Text]
LangShort = dict[Language, ShortText]
Iri = Annotated[str, Meta(pattern=r"^(https?|did|urn|mailto):[^\s<>\"{}|\\^`]+$", max_length=2000)]
HttpIri = Annotated[str, Meta(pattern=r"^https?://[^\s<>\"{}|\\^`]+$", max_length=2000)]
Date = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]
DateTime = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
#: A year, a month, a day, or an ISO 8601 interval of those ("2021", "2020-01/2023-12").
_YMD = r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?"
Period = Annotated[str, Meta(pattern=f"^{_YMD}(/{_YMD})?$")]
Version = Annotated[int, Meta(ge=1, le=2**31)]
Percent = Annotated[int, Meta(ge=0, le=100)]

# Concept schemes the model points into (the SKOS files in vocab/taxonomies/).
STATUS_NS: Final = "https://w3id.org/citynode/status#"
THEME_NS: Final = "https://w3id.org/citynode/theme#"
SDG_NS: Final = "http://metadata.un.org/sdg/"
StatusIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/status#[a-z-]+$")]
ThemeIri = Annotated[
    str,
    Meta(
        pattern=r"^(https://w3id\.org/citynode/theme#[a-z-]+"
        r"|http://publications\.europa\.eu/resource/authority/data-theme/[A-Z]+)$"
    ),
]
SdgIri = Annotated[str, Meta(pattern=r"^http://metadata\.un\.org/sdg/\d{1,2}(\.[0-9a-z]{1,2})?$")]


class _Base(Struct, forbid_unknown_fields=True, omit_defaults=True, rename=json_term, kw_only=True):
    pass


class Proof(_Base, tag_field="type", tag="DataIntegrityProof", kw_only=True):
    """A W3C Data Integrity proof (the fields `eddsa-jcs-2022` uses)."""

    cryptosuite: str
    created: DateTime
    verification_method: Iri
    proof_purpose: Literal["assertionMethod"]
    proof_value: Annotated[str, Meta(min_length=2, max_length=200)]
    context: list[str] | None = None


class LegalResource(_Base, tag_field="type", tag="LegalResource", kw_only=True):
    """A law, decree or agreement a policy rests on (ELI `LegalResource`)."""

    title: LangShort
    identifier: ShortText | None = None
    url: HttpIri | None = None
    date_document: Date | None = None


class ContactPoint(_Base, tag_field="type", tag="Organization", kw_only=True):
    """Who to ask about a practice (vCard)."""

    fn: ShortText
    has_email: Annotated[str, Meta(pattern=r"^mailto:[^@\s]+@[^@\s]+$")] | None = None
    url: HttpIri | None = None


class Measurement(_Base, tag_field="type", tag="Measurement", kw_only=True):
    """One indicator value of a result: observed, baseline or target."""

    indicator: LangShort
    value: int | float
    unit: ShortText
    period: Period
    role: Literal["observed", "baseline", "target"] = "observed"
    source: HttpIri | None = None
    illustrative: bool = False


class _Record(_Base, kw_only=True):
    """Record metadata shared by every kind of record."""

    context: list[str]
    id: HttpIri
    version: Version
    previous_version: HttpIri | None = None
    issued: DateTime
    modified: DateTime
    publisher: Iri
    proof: Proof | None = None


class _Described(_Record, kw_only=True):
    title: LangShort
    summary: LangText | None = None
    description: LangText | None = None
    status: StatusIri
    keywords: dict[Language, list[ShortText]] | None = None
    license: HttpIri = DEFAULT_LICENSE
    conforms_to: HttpIri = SHAPES_VERSION
    illustrative: bool = False


class _Practice(_Described, kw_only=True):
    summary: LangText
    problem: LangText | None = None
    approach: LangText | None = None
    lessons_learned: LangText | None = None
    transferability: LangText | None = None
    themes: list[ThemeIri] = []
    sdgs: list[SdgIri] = []
    spatial: HttpIri | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    website: HttpIri | None = None
    responsible: LangShort | None = None
    contact_point: ContactPoint | None = None
    legal_basis: list[LegalResource] = []


class Project(_Practice, tag_field="type", tag="Project", kw_only=True):
    """Something a city built or ran, with a start and usually an end."""


class Policy(_Practice, tag_field="type", tag="Policy", kw_only=True):
    """A rule, plan or agreement a city adopted; `legal_basis` names its legal acts."""


class Programme(_Practice, tag_field="type", tag="Programme", kw_only=True):
    """A standing line of work that groups projects or serves people year after year."""


class Result(_Described, tag_field="type", tag="Result", kw_only=True):
    """An outcome of a practice: its progress and its measured indicators."""

    result_of: HttpIri
    progress: Percent | None = None
    measurements: list[Measurement] = []
    period: Period | None = None


class Tombstone(_Record, tag_field="type", tag="Tombstone", kw_only=True):
    """A signed notice that a record was withdrawn; it wins over every lower version."""

    former_type: Literal["Project", "Policy", "Programme", "Result"] | None = None
    reason: LangShort | None = None


Practice = Project | Policy | Programme
Record = Project | Policy | Programme | Result | Tombstone
PRACTICE_TYPES: Final = ("Project", "Policy", "Programme")
RECORD_TYPES: Final = ("Project", "Policy", "Programme", "Result", "Tombstone")

_decoder: msgspec.json.Decoder[Record] = msgspec.json.Decoder(Record)
_PATH = re.compile(r" - at `(?:key` in `)?\$(?P<path>[^`]*)`$")
_IS_KEY = re.compile(r" - at `key` in `")

#: What a value must look like, by field, in a clerk's words (instead of a regular expression).
_EXPECTED = {
    "period": "a year (2021), a month (2021-05), a day (2021-05-31) or a range like 2020/2023",
    "startDate": "a date like 2024-05-31",
    "endDate": "a date like 2024-05-31",
    "dateDocument": "a date like 2024-05-31",
    "issued": "a UTC time like 2024-05-31T10:00:00Z",
    "modified": "a UTC time like 2024-05-31T10:00:00Z",
    "created": "a UTC time like 2024-05-31T10:00:00Z",
    "status": f"one of {STATUS_NS}planned, ongoing, completed, suspended or discontinued",
    "themes": f"a theme like {THEME_NS}connectivity or an EU data theme IRI",
    "sdgs": f"a UN SDG goal or target like {SDG_NS}11.2",
    "hasEmail": "an address like mailto:innovacion@medellin.gov.co",
}


def _clerk_words(
    exc: msgspec.ValidationError | msgspec.DecodeError, record_id: str | None
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
    elif _IS_KEY.search(text) and "enum value" in rule:
        tag = rule.split("'")[1] if "'" in rule else rule
        rule = f"language '{tag}' is not allowed in '{path}': use {', '.join(LANGUAGES)}"
    elif field == "type" and rule.startswith("Invalid value"):
        rule = f"type {rule.removeprefix('Invalid value ')} is not one of {', '.join(RECORD_TYPES)}"
    elif "matching regex" in rule and field in _EXPECTED:
        rule = f"'{path}' must be {_EXPECTED[field]}"
    elif field:
        rule = f"'{path}': {rule}"
    who = f"record {record_id}" if record_id else "the record"
    return InvalidRecord(
        f"{who}: {rule}", record=record_id, field=field or None, path=path or None, rule=rule
    )


def _guess_id(document: Any) -> str | None:
    if isinstance(document, dict):
        value = document.get("id")
        return value if isinstance(value, str) else None
    return None


def parse_record_json(data: bytes) -> Record:
    """Decode and validate one record from JSON bytes."""
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        try:
            guess = _guess_id(msgspec.json.decode(data))
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            guess = None
        raise _clerk_words(exc, guess) from None
    except msgspec.DecodeError as exc:
        raise InvalidRecord(f"the record is not valid JSON: {exc}", rule="json") from None
    except UnicodeDecodeError:
        raise InvalidRecord("the record is not valid JSON: not UTF-8 text", rule="utf-8") from None
    except RecursionError:
        raise InvalidRecord("the record is nested too deeply", rule="depth") from None


def parse_record(document: dict[str, Any]) -> Record:
    """Validate one record already decoded into builtins (as the JSON-LD or CSV readers give)."""
    if not isinstance(document, dict):
        raise InvalidRecord("a record must be a JSON object", rule="object")
    try:
        record: Record = msgspec.convert(document, Record)
    except msgspec.ValidationError as exc:
        raise _clerk_words(exc, _guess_id(document)) from None
    return record


def record_to_builtins(record: Record) -> dict[str, Any]:
    """The record as plain JSON values, in the shape that is signed and stored."""
    result: dict[str, Any] = msgspec.to_builtins(record)
    return result


def check_context(record: Record) -> None:
    """The context must be exactly the bundled pair: a remote context is never fetched."""
    if record.context != RECORD_CONTEXT:
        raise InvalidRecord(
            f"record {record.id}: '@context' must be {RECORD_CONTEXT!r}; other contexts are not "
            "fetched or accepted",
            record=record.id,
            field="@context",
            rule="bundled-context",
        )


def pick_text(texts: Mapping[str, str], lang: str) -> tuple[str, str]:
    """(language, text) of a language map in the reader's language, else en, es, pt, else any;
    ("", "") for an empty map."""
    for candidate in (lang, "en", "es", "pt"):
        if candidate in texts:
            return candidate, texts[candidate]
    first = next(iter(texts), "")
    return first, texts.get(first, "")
