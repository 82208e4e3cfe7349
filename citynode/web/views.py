"""What pages show of records, in the reader's language: titles, marks, badges, links, snippets.

Pure functions over the stored JSON and search hits, shared by every page module, so a field
added to the vocabulary shows the same way everywhere (`FIELDS` lists the narrative fields a
practice page renders, in order; a new language-map field needs only a line there and a label).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlencode

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


def text_of(value: Any, lang: str) -> tuple[str, str]:
    """(text, its language) of a language map, in the reader's language when it has it."""
    if isinstance(value, str):
        return value, lang
    if not isinstance(value, dict) or not value:
        return "", lang
    found, text = pick_text(value, lang)
    return str(text), found


def lang_text(value: Any, lang: str) -> Markup:
    """The text escaped, in a `<span lang>` when it is not in the page's language (WCAG 3.1.2)."""
    text, found = text_of(value, lang)
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
