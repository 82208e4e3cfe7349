"""What pages show of records, in the reader's language: titles, marks, badges, links, snippets.

Pure functions over the stored JSON and search hits, shared by every page module, so a field
added to the vocabulary shows the same way everywhere (`FIELDS` lists the narrative fields a
practice page renders, in order; a new language-map field needs only a line there and a label).
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlencode

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from markupsafe import Markup, escape

import vocab
from citynode.record_ids import records_base
from protocol.records import pick_text
from vocab.errors import UnknownConcept

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it here (gettext's N_ idiom)."""
    return message


#: Narrative fields of a record, in page order, with their heading (a catalog message).
FIELDS: Final = (
    ("summary", N_("Summary")),
    ("description", N_("Description")),
    ("problem", N_("Problem")),
    ("approach", N_("Approach")),
    ("lessonsLearned", N_("Lessons learned")),
    ("transferability", N_("Transferability")),
    ("reason", N_("Reason for withdrawal")),
)
#: Record types as people say them.
TYPES: Final = {
    "Project": N_("Project"),
    "Policy": N_("Policy"),
    "Programme": N_("Programme"),
    "Result": N_("Result"),
    "Tombstone": N_("Withdrawn record"),
}
ROLES: Final = {"observed": N_("observed"), "baseline": N_("baseline"), "target": N_("target")}
SIGNATURES: Final = {
    "verified": N_("Signature verified"),
    "revoked": N_("Signed with a revoked key"),
    "unverified": N_("Signature not verified"),
}
FACET_NAMES: Final = {
    "city": N_("City"),
    "country": N_("Country"),
    "type": N_("Kind"),
    "status": N_("Status"),
    "theme": N_("Theme"),
    "sdg_goal": N_("Sustainable Development Goal"),
    "sdg_target": N_("SDG target"),
    "year": N_("Year"),
    "language": N_("Language"),
    "published": N_("Published"),
}


def text_of(value: Any, lang: str, preferred: tuple[str, ...] = ()) -> tuple[str, str]:
    """(text, its language) of a language map: the page's language, else the other languages
    the reader accepts in their order (issue 9 item 3), else any the record has."""
    if isinstance(value, str):
        return value, lang
    if not isinstance(value, dict) or not value:
        return "", lang
    for wanted in (lang, *preferred):
        if wanted in value:
            return str(value[wanted]), wanted
        primary = wanted.split("-")[0]
        for tag, text in value.items():
            if tag.split("-")[0] == primary:
                return str(text), tag
    found, text = pick_text(value, lang)
    return str(text), found


def lang_text(value: Any, lang: str, preferred: tuple[str, ...] = ()) -> Markup:
    """The text escaped, in a `<span lang>` when it is not in the page's language (WCAG 3.1.2)."""
    text, found = text_of(value, lang, preferred)
    if found != lang:
        return Markup('<span lang="{}">{}</span>').format(found, text)
    return escape(text)


def signature_kind(value: str) -> str:
    """One of the three badges, from a hit's or a record's signature state."""
    if value in ("verified", "revoked"):
        return value
    return "unverified"


def safe_snippet(snippet: str) -> Markup:
    """A snippet with only `<mark>` kept: local snippets are escaped already, a live peer's are
    not to be trusted, so both are unescaped, escaped again and the marks put back."""
    escaped = str(escape(html.unescape(snippet or "")))
    return Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))


def concept_label(iri: str, lang: str) -> str:
    """A concept's label; for one the bundled taxonomies lack (a newer peer's), its IRI's last
    part in words: a record never fails to show because of a concept we do not know."""
    try:
        return vocab.label(iri, lang)
    except UnknownConcept:
        tail = iri.rstrip("/#").replace("#", "/").rsplit("/", 1)[-1]
        return tail.replace("-", " ").replace("_", " ") or iri


def concept_known(iri: str) -> bool:
    try:
        vocab.label(iri, "en")
    except UnknownConcept:
        return False
    return True


def practice_href(link: Callable[..., str], record_id: str, base_url: str) -> str:
    """This node's page of a record: its own path for own records, the held copy otherwise."""
    own = records_base(base_url)
    if record_id.startswith(own):
        return link("/records/" + record_id[len(own) :])
    return link("/practice", id=record_id)


def why_text(reason: str, _: Gettext) -> str:
    if reason == "text":
        return _("words of the query are in its text")
    if reason.startswith("concept: "):
        return _("it has the concept %(name)s") % {"name": reason.removeprefix("concept: ")}
    if reason.startswith("answered live by "):
        return _("answered live by %(peer)s") % {"peer": reason.removeprefix("answered live by ")}
    return reason


def toggled(query: list[tuple[str, str]], name: str, value: str) -> str:
    """The query string with one facet value added, or removed when present (and paging reset)."""
    pair = (name, value)
    kept = [item for item in query if item != pair and item[0] != "page"]
    if pair not in query:
        kept.append(pair)
    return urlencode(kept)


def facet_value_label(facet: str, value: str, label: str, _: Gettext) -> str:
    """A facet value as people read it: kinds in the page's language, SDG goals short."""
    if facet == "type" and value in TYPES:
        return _(TYPES[value])
    if facet in ("sdg_goal", "sdg_target"):
        code = value.rstrip("/").rsplit("/", 1)[-1]
        short = label if len(label) <= 48 else label[:45].rsplit(" ", 1)[0] + "…"
        goal = _("SDG %(n)s") % {"n": code}
        return f"{goal}: {short}"
    return label


_PARTIAL_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def number_text(value: float, lang: str) -> str:
    """A number in the reader's convention; whole numbers without decimals, others with two at
    most (the figures a city reports, not measurements to the last digit)."""
    if float(value).is_integer():
        return format_decimal(int(value), locale=lang)
    return format_decimal(round(float(value), 2), format="#,##0.##", locale=lang)


def date_text(value: str, lang: str) -> str:
    """A year (2021), a year and month (2021-05: "mayo de 2021") or a full date in words; the
    text as written when it is none of those (a newer peer's date form)."""
    match = _PARTIAL_DATE.match(value.strip())
    if not match:
        return value
    year, month, day = match.groups()
    try:
        if month is None:
            return year
        if day is None:
            return format_skeleton("yMMMM", datetime.date(int(year), int(month), 1), locale=lang)
        return format_date(datetime.date(int(year), int(month), int(day)), "long", locale=lang)
    except ValueError:
        return value


def period_text(value: str, lang: str) -> str:
    """A date or an interval of dates ("2020-01/2023-12") in words: "2020-01 – 2023-12"."""
    if not value:
        return ""
    parts = value.split("/")
    return " – ".join(date_text(part, lang) for part in parts[:2])


def unit_text(code: str | None) -> str:
    """A UCUM code as people read it: an annotation alone (`{person}`) is the thing counted."""
    if not code:
        return ""
    match = re.fullmatch(r"\{([^{}]+)\}", code)
    return match.group(1) if match else code


#: The search service's notices (search/expression.py, federation/live_search.py) as catalog
#: messages: the service speaks English to API clients; a page says the same in its language.
_NOTICES: Final = (
    (re.compile(r"^The query was cut to its first (\d+) characters\.$"),
     N_("The query was cut to its first %(n)s characters.")),
    (re.compile(r"^Only the first (\d+) words and phrases of the query were used\.$"),
     N_("Only the first %(n)s words and phrases of the query were used.")),
    (re.compile(r"^The query has no words to search for"),
     N_("The query has no words to search for (very common words are left out); showing recent"
        " records.")),
    (re.compile(r"^(\d+) peer\(s\) did not answer in time"),
     N_("%(n)s cities did not answer in time.")),
)  # fmt: skip


def notice_text(notice: str, _: Gettext) -> Markup:
    """A search notice in the page's language (in English, marked so, if it is a new one)."""
    for pattern, message in _NOTICES:
        match = pattern.match(notice)
        if match:
            found = match.groups()
            return escape(_(message) % {"n": found[0]} if found else _(message))
    return Markup('<span lang="en">{}</span>').format(notice)
