"""The record model: practices, results and tombstones as msgspec Structs.

The Structs mirror the JSON-LD context `https://w3id.org/citynode/v1`
(`vocab/contexts/citynode-v1.jsonld`): each field name is a term of that context, so a record
decoded here is also a JSON-LD document any RDF tool can read.

Two readings of a record (docs/DESIGN.md "Records", "Evolution"):
- `parse_record` is the publishing check: a term this node does not know is an error, and so is
  any broken rule (`protocol.record_rules`), each named for a city clerk.
- `read_record` (`protocol.readable`) is how a node reads a peer's record: the part it knows,
  with the rest set aside but kept (the signed bytes are stored and relayed untouched), so a
  newer node's additions never break an older node's federation.

Additions after the first release are additive within `citynode/v1`: every new field is
optional. Dates stay strings (checked by pattern) so that a record re-encoded from its Struct is
byte-for-byte the JSON that was signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta, Struct

from protocol import langtags
from protocol.errors import InvalidRecord
from protocol.naming import json_term
from protocol.record_errors import clerk_words, guess_id
from protocol.record_rules import check_rules

CONTEXT_URL: Final = "https://w3id.org/citynode/v1"
DATA_INTEGRITY_CONTEXT_URL: Final = "https://w3id.org/security/data-integrity/v2"
RECORD_CONTEXT: Final = [CONTEXT_URL, DATA_INTEGRITY_CONTEXT_URL]
SHAPES_VERSION: Final = "https://w3id.org/citynode/shapes/v1"
#: The licence a node states on every record it publishes, unless the draft names another.
DEFAULT_LICENSE: Final = "https://creativecommons.org/licenses/by/4.0/"
#: One signed record (its JSON bytes) may not be larger than this; every node enforces it.
MAX_RECORD_BYTES: Final = 256 * 1024

#: The languages the project's own texts (samples, messages) come in first; a record's text may
#: be in any language (`LanguageTag`).
LANGUAGES: Final = ("es", "en", "pt")

LanguageTag = Annotated[str, Meta(pattern=langtags.PATTERN, max_length=langtags.MAX_LENGTH)]
Text = Annotated[str, Meta(min_length=1, max_length=20_000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=400)]
LangText = dict[LanguageTag, Text]
LangShort = dict[LanguageTag, ShortText]
Iri = Annotated[str, Meta(pattern=r"^(https?|did|urn|mailto):[^\s<>\"{}|\\^`]+$", max_length=2000)]
HttpIri = Annotated[str, Meta(pattern=r"^https?://[^\s<>\"{}|\\^`]+$", max_length=2000)]
Date = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")]
DateTime = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")]
#: A year, a month, a day, or an ISO 8601 interval of those ("2021", "2020-01/2023-12").
_YMD = r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?"
#: A year (2021), a year and month (2021-05) or a full date (2021-05-31): EDTF level 0 dates.
PartialDate = Annotated[str, Meta(pattern=f"^{_YMD}$")]
Period = Annotated[str, Meta(pattern=f"^{_YMD}(/{_YMD})?$")]
Version = Annotated[int, Meta(ge=1, le=2**31)]
Percent = Annotated[int, Meta(ge=0, le=100)]
Amount = Annotated[int, Meta(ge=0)] | Annotated[float, Meta(ge=0)]
Count = Annotated[int, Meta(ge=0, le=2**53)]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
#: The JSON term of a field in the same object (`editorial: ["problem"]`).
FieldTerm = Annotated[str, Meta(pattern=r"^[a-z][A-Za-z]{0,40}$")]
#: A whole object marked illustrative (`true`), or the fields whose values are (["period"]).
Illustrative = bool | list[FieldTerm]

# Concept schemes the model points into (the SKOS files in vocab/taxonomies/). The Structs check
# the shape of an IRI; that it names a concept of the bundled scheme is a publishing rule
# (record_rules), so a newer node's new concept reaches an older node as an ignored value.
CN: Final = "https://w3id.org/citynode/"
STATUS_NS: Final = CN + "status#"
THEME_NS: Final = CN + "theme#"
INDICATOR_NS: Final = CN + "indicator#"
SDG_NS: Final = "http://metadata.un.org/sdg/"


StatusIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/status#[a-z0-9-]+$")]
StageIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/stage#[a-z0-9-]+$")]
GovernmentLevelIri = Annotated[
    str, Meta(pattern=r"^https://w3id\.org/citynode/government-level#[a-z0-9-]+$")
]
ScaleIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/scale#[a-z0-9-]+$")]
OrganisationKindIri = Annotated[
    str, Meta(pattern=r"^https://w3id\.org/citynode/organisation-kind#[a-z0-9-]+$")
]
EvidenceKindIri = Annotated[
    str, Meta(pattern=r"^https://w3id\.org/citynode/evidence-kind#[a-z0-9-]+$")
]
MediaKindIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/media-kind#[a-z0-9-]+$")]
CostKindIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/cost-kind#[a-z0-9-]+$")]
IndicatorIri = Annotated[str, Meta(pattern=r"^https://w3id\.org/citynode/indicator#[a-z0-9-]+$")]
ThemeIri = Annotated[
    str,
    Meta(
        pattern=r"^(https://w3id\.org/citynode/theme#[a-z-]+"
        r"|http://publications\.europa\.eu/resource/authority/data-theme/[A-Z]+)$"
    ),
]
SdgIri = Annotated[str, Meta(pattern=r"^http://metadata\.un\.org/sdg/\d{1,2}(\.[0-9a-z]{1,2})?$")]
#: ISO 4217 alphabetic code; that it is a current code is a publishing rule.
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
#: A UCUM code (protocol.ucum reads it; that it converts is a publishing rule).
UcumCode = Annotated[str, Meta(min_length=1, max_length=100)]
#: Wikidata items and ROR organisation ids (the registries a funder or partner is named in).
OrganisationIri = Annotated[
    str,
    Meta(
        pattern=r"^(https?://www\.wikidata\.org/(entity|wiki)/Q[1-9]\d*"
        r"|https://ror\.org/0[a-z0-9]{6}[0-9]{2})$"
    ),
]


class _Base(Struct, forbid_unknown_fields=True, omit_defaults=True, rename=json_term, kw_only=True):
    pass


class _Marked(_Base, kw_only=True):
    """An object whose values may be marked: `illustrative` (not from a source, shown as an
    example) and `editorial` (text written by someone other than the publishing city)."""

    illustrative: Illustrative = False
    editorial: list[FieldTerm] = []


class Proof(_Base, tag_field="type", tag="DataIntegrityProof", kw_only=True):
    """A W3C Data Integrity proof (the fields `eddsa-jcs-2022` uses)."""

    cryptosuite: str
    created: DateTime
    verification_method: Iri
    proof_purpose: Literal["assertionMethod"]
    proof_value: Annotated[str, Meta(min_length=2, max_length=200)]
    context: list[str] | None = None


class LegalResource(_Marked, tag_field="type", tag="LegalResource", kw_only=True):
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


class Organisation(_Marked, tag_field="type", tag="Organisation", kw_only=True):
    """A funder, partner or author (W3C ORG `Organization`), named in words and, when it has
    one, by its Wikidata item or ROR id."""

    name: LangShort
    kind: OrganisationKindIri | None = None
    same_as: OrganisationIri | None = None
    contribution: LangShort | None = None


class MonetaryAmount(_Marked, tag_field="type", tag="MonetaryAmount", kw_only=True):
    """A budget or a cost (schema.org `MonetaryAmount`) in an ISO 4217 currency."""

    kind: CostKindIri
    value: Amount
    currency: Currency
    covers: LangShort | None = None
    period: Period | None = None
    source: HttpIri | None = None


class Audience(_Marked, tag_field="type", tag="Audience", kw_only=True):
    """Who a practice serves and how many it reached (schema.org `Audience`)."""

    who: LangShort
    count: Count | None = None
    period: Period | None = None
    source: HttpIri | None = None


class Place(_Marked, tag_field="type", tag="Place", kw_only=True):
    """An area the practice covers: a gazetteer IRI (Wikidata, GeoNames...), a name, a point."""

    name: LangShort | None = None
    same_as: HttpIri | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class Evidence(_Marked, tag_field="type", tag="Evidence", kw_only=True):
    """An evaluation, audit, study, report or dataset that shows how the practice worked."""

    kind: EvidenceKindIri
    title: LangShort | None = None
    url: HttpIri | None = None
    date: PartialDate | None = None
    creator: Organisation | None = None
    summary: LangText | None = None


class MediaObject(_Marked, tag_field="type", tag="MediaObject", kw_only=True):
    """A picture, video, document... about the practice (schema.org `MediaObject`)."""

    url: HttpIri
    kind: MediaKindIri
    title: LangShort | None = None
    alt: LangShort | None = None
    license: HttpIri | None = None


class Adaptation(_Marked, tag_field="type", tag="Adaptation", kw_only=True):
    """Where a practice was learned from (a PROV `Derivation`): the other city's practice
    record, and what was changed on the way."""

    practice: HttpIri
    changes: LangText | None = None


class Measurement(_Marked, tag_field="type", tag="Measurement", kw_only=True):
    """One indicator value of a result: observed, baseline or target.

    `measures` names a comparable indicator (vocab/taxonomies/indicators.ttl) and `unitCode` its
    UCUM unit; `indicator` and `unit` are the same in words, for people (records from before
    the indicator scheme have only those).
    """

    indicator: LangShort | None = None
    measures: IndicatorIri | None = None
    value: int | float
    unit: ShortText | None = None
    unit_code: UcumCode | None = None
    period: Period
    #: Stated on every measurement a node publishes; None only in records from before that rule,
    #: where it means "observed".
    role: Literal["observed", "baseline", "target"] | None = None
    source: HttpIri | None = None

    @property
    def stated_role(self) -> str:
        return self.role or "observed"


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
    # The marks of _Marked (a Struct may inherit fields from one base only).
    illustrative: Illustrative = False
    editorial: list[FieldTerm] = []
    title: LangShort
    summary: LangText | None = None
    description: LangText | None = None
    status: StatusIri
    keywords: dict[LanguageTag, list[ShortText]] | None = None
    #: Stated on every record a node publishes (the node fills DEFAULT_LICENSE and
    #: SHAPES_VERSION in); None only in records from before that rule.
    license: HttpIri | None = None
    conforms_to: HttpIri | None = None
    part_of: list[HttpIri] = []
    has_part: list[HttpIri] = []
    evidence: list[Evidence] = []
    media: list[MediaObject] = []


class _Practice(_Described, kw_only=True):
    summary: LangText
    problem: LangText | None = None
    approach: LangText | None = None
    lessons_learned: LangText | None = None
    transferability: LangText | None = None
    themes: list[ThemeIri] = []
    sdgs: list[SdgIri] = []
    spatial: HttpIri | None = None
    areas: list[Place] = []
    start_date: PartialDate | None = None
    end_date: PartialDate | None = None
    website: HttpIri | None = None
    responsible: LangShort | None = None
    contact_point: ContactPoint | None = None
    legal_basis: list[LegalResource] = []
    stage: StageIri | None = None
    government_level: GovernmentLevelIri | None = None
    scale: ScaleIri | None = None
    costs: list[MonetaryAmount] = []
    funders: list[Organisation] = []
    partners: list[Organisation] = []
    beneficiaries: list[Audience] = []
    adapted_from: list[Adaptation] = []


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


def _checked(record: Record) -> Record:
    check_rules(record_to_builtins(record))
    return record


def parse_record_json(data: bytes) -> Record:
    """Decode and validate one record from JSON bytes (the publishing check)."""
    try:
        record = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        try:
            plain = msgspec.json.decode(data)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            plain = None
        raise clerk_words(exc, guess_id(plain), plain) from None
    except msgspec.DecodeError as exc:
        raise InvalidRecord(f"the record is not valid JSON: {exc}", rule="json") from None
    except UnicodeDecodeError:
        raise InvalidRecord("the record is not valid JSON: not UTF-8 text", rule="utf-8") from None
    except RecursionError:
        raise InvalidRecord("the record is nested too deeply", rule="depth") from None
    return _checked(record)


def parse_record(document: dict[str, Any]) -> Record:
    """Validate one record already decoded into builtins (the publishing check: unknown terms
    and broken rules are errors)."""
    if not isinstance(document, dict):
        raise InvalidRecord("a record must be a JSON object", rule="object")
    try:
        record: Record = msgspec.convert(document, Record)
    except msgspec.ValidationError as exc:
        raise clerk_words(exc, guess_id(document), document) from None
    return _checked(record)


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
    """(language, text) of a language map in the reader's language, else the same language in
    another region (`pt` for `pt-BR`), else en, es, pt, else any; ("", "") for an empty map."""
    if lang in texts:
        return lang, texts[lang]
    wanted = langtags.primary(lang) if lang else ""
    for tag, text in texts.items():
        if langtags.primary(tag) == wanted:
            return tag, text
    for candidate in ("en", "es", "pt"):
        if candidate in texts:
            return candidate, texts[candidate]
    first = next(iter(texts), "")
    return first, texts.get(first, "")
