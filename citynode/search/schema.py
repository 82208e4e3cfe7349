"""The search index's schema, and a record -> index document.

Why these fields (measured in bench/engine_choice.py; see bench/RESULTS.md "Search engine"):
- Text: two fields per analyser (analysis.py), `head_<lang>` (title, summary, keywords) and
  `body_<lang>` (description, problem, approach, lessons, transferability, indicator names).
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
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import msgspec
import tantivy

from citynode.origins import Origin
from citynode.search import analysis
from citynode.search.concepts import sdg_goal

#: Bumped by hand when fields change (the analyser has its own version: analysis.VERSION).
SCHEMA_VERSION: Final = 1

HEAD_FIELDS: Final = ("title", "summary")
BODY_FIELDS: Final = ("description", "problem", "approach", "lessonsLearned", "transferability")
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


def _texts(value: object) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    return [(lang, text) for lang, text in value.items() if isinstance(text, str)]


def languages(doc: Mapping[str, Any]) -> list[str]:
    """The language tags any of a record's texts is written in (the `language` facet; it also
    tells queries which analysers' fields hold text)."""
    found = {lang for name in (*HEAD_FIELDS, *BODY_FIELDS) for lang, _ in _texts(doc.get(name))}
    keywords = doc.get("keywords")
    if isinstance(keywords, dict):
        found.update(k for k in keywords if isinstance(k, str))
    return sorted(found)


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

    def add(field: str, lang: str, text: str) -> None:
        analyser = analysis.analyser_of(lang)
        parts.setdefault(f"{field}_{analyser}", []).append(analysis.prepare(text, analyser))

    for name in HEAD_FIELDS:
        for lang, text in _texts(doc.get(name)):
            add("head", lang, text)
    keywords = doc.get("keywords")
    if isinstance(keywords, dict):
        for lang, words in keywords.items():
            if isinstance(words, list):
                add("head", lang, " ".join(w for w in words if isinstance(w, str)))
    for name in BODY_FIELDS:
        for lang, text in _texts(doc.get(name)):
            add("body", lang, text)
    for measurement in doc.get("measurements") or ():
        if isinstance(measurement, dict):
            for lang, text in _texts(measurement.get("indicator")):
                add("body", lang, text)
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
        "language": languages(doc),
    }
    fields.update({name: values for name, values in facets.items() if values})
    return _encode(fields)
