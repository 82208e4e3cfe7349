"""The search index's schema, and a record -> index document.

Why these fields (measured in bench/engine_choice.py; see bench/RESULTS.md "Search engine"):
- Text: two fields per analyser (analysis.py), `head_<lang>` (title, summary, keywords) and
  `body_<lang>` (description, problem, approach, lessons, transferability, indicator names and
  the other texts listed below).
  A text goes to the fields of its own language, analysed there by tantivy in the writer's
  threads (Rust, off the GIL: analysing in Python cost ~150 us a record, more than the whole
  budget for 8,000 records/s). A query word is looked up in each language's fields with that
  language's analyser, so its language need not be known. Fields of languages the index holds no
  text in cost nothing at query time (the term is not in their dictionary). Two parts, not one
  field per record field: scoring cost grows with the number of (field, term) pairs, and "title
  and summary first" needs only the head/body split (head boosted).
- Facets: one raw-token, columnar ("fast") text field per facet, so counts are exact terms
  aggregations over every match, and a filter is a term query.
- `id` (raw, stored) for replacing and deleting a record; `seq` (columnar, stored): the record
  version's position in the change log, so a hit is read from the store by primary key; nothing
  else is stored (the store holds the text: the index stays small).
- `modified` (columnar seconds) for `sort=date`; `result_of` so a practice without a start date
  can take its year from its results.

What is indexed is a record's readable part (protocol/readable.py, `readable` below): a peer's
record with terms or values this node does not know is indexed by what it can read, never
refused and never able to break a batch. Vocabulary 1.1's texts go to the body fields too (who is
responsible, funders, partners, beneficiaries, areas, evidence, legal basis, media, what an
adaptation changed, what a cost covers), and a measurement that names a comparable indicator
(`measures`) is found by the indicator's labels in every language the scheme has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Literal

import msgspec
import tantivy

import vocab
from citynode.origins import Origin
from citynode.search import analysis
from citynode.search.concepts import sdg_goal
from protocol.errors import ProtocolError
from protocol.readable import read_record_json

#: Bumped by hand when fields or what goes into them change (the analyser has its own version:
#: analysis.VERSION); an index of another version is rebuilt from the store.
SCHEMA_VERSION: Final = 2

HEAD_FIELDS: Final = ("title", "summary")
BODY_FIELDS: Final = (
    "description",
    "problem",
    "approach",
    "lessonsLearned",
    "transferability",
    "responsible",
)
#: Lists of objects whose texts go to the body fields: list term -> the text terms of each item.
BODY_ITEMS: Final = (
    ("funders", ("name", "contribution")),
    ("partners", ("name", "contribution")),
    ("beneficiaries", ("who",)),
    ("areas", ("name",)),
    ("evidence", ("title", "summary")),
    ("legalBasis", ("title",)),
    ("media", ("title",)),
    ("adaptedFrom", ("changes",)),
    ("costs", ("covers",)),
    ("measurements", ("indicator",)),
)
#: Facets, in the order results list them.
FACETS: Final = (
    "city",
    "country",
    "type",
    "status",
    "theme",
    "sdg_goal",
    "sdg_target",
    "year",
    "published",
    "language",
)
_YEAR: Final = re.compile(r"(\d{4})")
_encode = msgspec.json.Encoder().encode


def head_field(lang: str) -> str:
    return f"head_{lang}"


def body_field(lang: str) -> str:
    return f"body_{lang}"


def build() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_unsigned_field("seq", stored=True, indexed=False, fast=True)
    builder.add_integer_field("modified", indexed=False, fast=True)
    builder.add_text_field("result_of", tokenizer_name="raw", index_option="basic")
    for lang in analysis.ANALYSERS:
        name = analysis.analyser_name(lang)
        builder.add_text_field(head_field(lang), tokenizer_name=name, index_option="position")
        builder.add_text_field(body_field(lang), tokenizer_name=name, index_option="position")
    for facet in FACETS:
        builder.add_text_field(facet, fast=True, tokenizer_name="raw", index_option="basic")
    return builder.build()


def year_of(value: object) -> str | None:
    """The year a date or period starts in ("2021", "2021-05", "2020-01/2023", "2021-05-31")."""
    if not isinstance(value, str):
        return None
    match = _YEAR.match(value)
    return match.group(1) if match else None


def result_year(doc: Mapping[str, Any]) -> str | None:
    """A result's own year: its period's start, else its earliest measurement period."""
    own = year_of(doc.get("period"))
    if own:
        return own
    years = [year_of(m.get("period")) for m in doc.get("measurements") or () if isinstance(m, dict)]
    found = [y for y in years if y]
    return min(found) if found else None


def practice_year(doc: Mapping[str, Any], result_years: Iterable[str] = ()) -> str | None:
    """The practice's own year: its start date, else the earliest period of its results."""
    own = year_of(doc.get("startDate"))
    if own:
        return own
    found = [y for y in result_years if y]
    return min(found) if found else None


def readable(body: bytes) -> dict[str, Any] | None:
    """A stored record's readable part as plain JSON values (None: not even that is readable,
    e.g. stored by a release whose model differed; such a record is not indexed or shown)."""
    try:
        return read_record_json(body).document
    except ProtocolError:
        return None


def _texts(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    return [(lang, text) for lang, text in value.items() if isinstance(text, str)]


def _items(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def texts(doc: Mapping[str, Any]) -> Iterator[tuple[Literal["head", "body"], str, str]]:
    """(part, language, text) of every text a record is searched by."""
    for name in HEAD_FIELDS:
        for lang, text in _texts(doc.get(name)):
            yield "head", lang, text
    keywords = doc.get("keywords")
    if isinstance(keywords, dict):
        for lang, words in keywords.items():
            if isinstance(words, list):
                yield "head", lang, " ".join(w for w in words if isinstance(w, str))
    for name in BODY_FIELDS:
        for lang, text in _texts(doc.get(name)):
            yield "body", lang, text
    for name, parts in BODY_ITEMS:
        for item in _items(doc.get(name)):
            for part in parts:
                for lang, text in _texts(item.get(part)):
                    yield "body", lang, text
            creator = item.get("creator")  # evidence: who made the evaluation or study
            if isinstance(creator, dict):
                for lang, text in _texts(creator.get("name")):
                    yield "body", lang, text


def indicator_labels(doc: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(language, label) of each comparable indicator the record's measurements name, from the
    bundled scheme: "people trained" finds a result that gives only the indicator's IRI."""
    named = {m.get("measures") for m in _items(doc.get("measurements"))}
    for iri in sorted(i for i in named if isinstance(i, str)):
        indicator = vocab.concepts().get(iri)
        if indicator is not None:
            yield from indicator.pref_label.items()


def languages(doc: Mapping[str, Any]) -> list[str]:
    """The language tags any of a record's own texts is written in (the `language` facet; it
    also tells queries which analysers' fields hold text)."""
    return sorted({lang for _, lang, _ in texts(doc)})


def _seconds(stamp: object) -> int:
    if not isinstance(stamp, str):
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def document(
    doc: Mapping[str, Any], seq: int, origin: Origin | None, result_years: Iterable[str] = ()
) -> bytes:
    """The index document (JSON for `IndexWriter.add_json`) of a record's current version.

    `result_years`: the years of the practice's results (its year when it has no start date).
    """
    fields: dict[str, Any] = {
        "id": doc["id"],
        "seq": seq,
        "modified": _seconds(doc.get("modified")),
    }
    parts: dict[str, list[str]] = {}
    written: set[str] = set()  # the record's own languages (indicator labels are not its own)

    for part, lang, text in texts(doc):
        written.add(lang)
        analyser = analysis.analyser_of(lang)
        parts.setdefault(f"{part}_{analyser}", []).append(analysis.prepare(text, analyser))
    for lang, text in indicator_labels(doc):
        analyser = analysis.analyser_of(lang)
        parts.setdefault(f"body_{analyser}", []).append(analysis.prepare(text, analyser))
    fields.update(parts)

    kind = doc.get("type", "")
    sdgs = sorted({s for s in doc.get("sdgs") or () if isinstance(s, str)})
    goals = sorted({g for g in map(sdg_goal, sdgs) if g})
    if kind == "Result":
        year = result_year(doc)
        if isinstance(doc.get("resultOf"), str):
            fields["result_of"] = doc["resultOf"]
    else:
        year = practice_year(doc, result_years)
    facets: dict[str, list[str]] = {
        "city": [origin.city] if origin else [],
        "country": [origin.country] if origin else [],
        "type": [kind],
        "status": [doc["status"]] if isinstance(doc.get("status"), str) else [],
        "theme": sorted({t for t in doc.get("themes") or () if isinstance(t, str)}),
        "sdg_goal": goals,
        "sdg_target": [s for s in sdgs if s not in goals],
        "year": [year] if year else [],
        "published": [y] if (y := year_of(doc.get("issued"))) else [],
        "language": sorted(written),
    }
    fields.update({name: values for name, values in facets.items() if values})
    return _encode(fields)
