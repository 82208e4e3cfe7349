"""Any field of a record as HTML, generically: language maps, IRIs, lists and nested objects.

The practice page names the fields it lays out itself (`LAID_OUT`); every other field, including
those the vocabulary adds later, is shown by `value_html` under its label from `LABELS` (a catalog
message) or, for a term this node does not know yet, its name in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from markupsafe import Markup, escape

from citynode.web.views import N_, concept_label, lang_text

#: Fields the practice page shows in its own places (not in "More about this record").
LAID_OUT: Final = frozenset(
    {
        "@context",
        "context",
        "id",
        "type",
        "version",
        "previousVersion",
        "issued",
        "modified",
        "publisher",
        "proof",
        "title",
        "summary",
        "description",
        "problem",
        "approach",
        "lessonsLearned",
        "transferability",
        "reason",
        "status",
        "themes",
        "sdgs",
        "keywords",
        "illustrative",
        "editorial",
        "measurements",
        "resultOf",
        "progress",
        "period",
        "adaptedFrom",
        "formerType",
        "license",
        "conformsTo",
        # Vocabulary 1.1's parts, laid out by templates/practice_parts.html.
        "responsible",
        "governmentLevel",
        "scale",
        "stage",
        "startDate",
        "endDate",
        "spatial",
        "website",
        "contactPoint",
        "areas",
        "costs",
        "funders",
        "partners",
        "beneficiaries",
        "legalBasis",
        "evidence",
        "media",
        "partOf",
        "hasPart",
    }
)
#: Labels of fields shown generically (the vocabulary's names, issue 9 item 1).
LABELS: Final = {
    "title": N_("Title"),
    "summary": N_("Summary"),
    "description": N_("Description"),
    "problem": N_("Problem"),
    "approach": N_("Approach"),
    "lessonsLearned": N_("Lessons learned"),
    "transferability": N_("Transferability"),
    "reason": N_("Reason for withdrawal"),
    "status": N_("Status"),
    "themes": N_("Themes"),
    "sdgs": N_("Sustainable Development Goals"),
    "keywords": N_("Keywords"),
    "measurements": N_("Measurements"),
    "resultOf": N_("Result of"),
    "progress": N_("Progress"),
    "period": N_("Period"),
    "illustrative": N_("illustrative"),
    "editorial": N_("editorial"),
    "adaptedFrom": N_("Adapted from"),
    "responsible": N_("Responsible"),
    "legalBasis": N_("Legal basis"),
    "website": N_("Website"),
    "spatial": N_("Place"),
    "startDate": N_("Start"),
    "endDate": N_("End"),
    "contactPoint": N_("Contact"),
    "costs": N_("Cost and budget"),
    "governmentLevel": N_("Level of government"),
    "sameAs": N_("Registry entry"),
    "contribution": N_("Contribution"),
    "covers": N_("What it covers"),
    "who": N_("Who"),
    "source": N_("Source"),
    "creator": N_("By"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "changes": N_("What was changed"),
    "value": N_("Value"),
    "practice": N_("Practice"),
    "funders": N_("Funders"),
    "partners": N_("Partners"),
    "beneficiaries": N_("Beneficiaries"),
    "scale": N_("Scale"),
    "stage": N_("Stage"),
    "areas": N_("Areas"),
    "evidence": N_("Evidence"),
    "media": N_("Media and attachments"),
    "partOf": N_("Part of"),
    "hasPart": N_("Parts"),
    "fn": N_("Name"),
    "hasEmail": N_("Email"),
    "url": N_("Link"),
    "identifier": N_("Identifier"),
    "dateDocument": N_("Date"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "date": N_("Date"),
    "license": N_("Licence"),
    "alt": N_("Text alternative"),
    "count": N_("How many"),
}
_LANG_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_WORDS = re.compile(r"(?<=[a-z])(?=[A-Z])")


def label(field: str, _: Callable[[str], str]) -> str:
    known = LABELS.get(field)
    return _(known) if known else _WORDS.sub(" ", field).capitalize()


def _is_language_map(value: dict[str, Any]) -> bool:
    return bool(value) and all(
        _LANG_TAG.match(k) and isinstance(v, str | list) for k, v in value.items()
    )


def _link(iri: str, lang: str) -> Markup:
    if iri.startswith("mailto:"):
        return Markup('<a href="{}">{}</a>').format(iri, iri.removeprefix("mailto:"))
    shown = concept_label(iri, lang) if "w3id.org/citynode" in iri else iri
    return Markup('<a href="{}">{}</a>').format(iri, shown or iri)


def value_html(value: Any, lang: str, _: Callable[[str], str], depth: int = 0) -> Markup:
    """A field value as HTML (always escaped; links only for http(s) and mailto IRIs)."""
    if depth > 6:
        return escape("…")
    if isinstance(value, bool):
        return escape(_("yes") if value else _("no"))
    if isinstance(value, int | float):
        return escape(f"{value:,}")
    if isinstance(value, str):
        if value.startswith(("https://", "http://", "mailto:")):
            return _link(value, lang)
        return escape(value)
    if isinstance(value, list):
        if not value:
            return Markup("")
        items = Markup("").join(
            Markup("<li>{}</li>").format(value_html(v, lang, _, depth + 1)) for v in value
        )
        return Markup("<ul>{}</ul>").format(items)
    if isinstance(value, dict):
        if _is_language_map(value):
            flat = {k: "; ".join(v) if isinstance(v, list) else v for k, v in value.items()}
            return lang_text(flat, lang)
        rows = Markup("").join(
            Markup("<dt>{}</dt><dd>{}</dd>").format(label(k, _), value_html(v, lang, _, depth + 1))
            for k, v in value.items()
            if k != "type"
        )
        return Markup('<dl class="facts">{}</dl>').format(rows)
    return escape(str(value))


def other_fields(document: dict[str, Any]) -> list[str]:
    """The fields of a record not laid out by the page, in the record's order."""
    return [k for k in document if k not in LAID_OUT and document[k] not in (None, "", [], {})]
