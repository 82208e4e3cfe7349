"""Atom feeds (RFC 4287): a node's practices, the whole replica, and any search.

So a person can follow "new practices on connectivity in any city" in a feed reader: one entry
per record (its IRI is the entry id, so a new version updates the entry instead of adding one),
newest change first, in the reader's language when the record has it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, Final

import msgspec

import vocab
from protocol.records import PRACTICE_TYPES

ATOM: Final = "http://www.w3.org/2005/Atom"
MEDIA_TYPE: Final = "application/atom+xml"


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    language: str
    summary: str
    updated: str
    published: str | None = None
    city: str
    kind: str
    categories: tuple[tuple[str, str], ...] = ()  # (IRI, label)


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    self_url: str
    alternate_url: str
    author: str
    updated: str
    entries: list[Entry]


def _text(values: Any, lang: str) -> tuple[str, str]:
    """The text in `lang`, else in the first language the record has."""
    if not isinstance(values, Mapping) or not values:
        return "", lang
    if lang in values:
        return str(values[lang]), lang
    first = next(iter(values))
    return str(values[first]), str(first)


def record_entry(document: dict[str, Any], city: str, lang: str) -> Entry:
    """A stored record as a feed entry."""
    title, title_lang = _text(document.get("title"), lang)
    summary, _ = _text(document.get("summary") or document.get("description"), lang)
    categories = tuple(
        (iri, _label(iri, lang)) for iri in [*document.get("themes", []), *document.get("sdgs", [])]
    )
    return Entry(
        id=document["id"],
        title=title or document["id"],
        language=title_lang,
        summary=summary,
        updated=document.get("modified", document.get("issued", "")),
        published=document.get("issued"),
        city=city,
        kind=document.get("type", ""),
        categories=categories,
    )


def _label(iri: str, lang: str) -> str:
    try:
        return vocab.label(iri, lang)
    except vocab.VocabError:  # a concept a newer taxonomy has: its IRI's last part
        return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def render(feed: Feed) -> bytes:
    """The feed as Atom XML."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _child(root, "id", feed.id)
    _child(root, "title", feed.title)
    _child(root, "updated", feed.updated)
    _link(root, feed.self_url, "self", MEDIA_TYPE)
    _link(root, feed.alternate_url, "alternate", "application/json")
    author = _child(root, "author")
    _child(author, "name", feed.author)
    _child(root, "generator", "citynode")
    for entry in feed.entries:
        element = _child(root, "entry")
        _child(element, "id", entry.id)
        title = _child(element, "title", entry.title)
        title.set("{http://www.w3.org/XML/1998/namespace}lang", entry.language)
        _child(element, "updated", entry.updated)
        if entry.published:
            _child(element, "published", entry.published)
        _link(element, entry.id, "alternate", "text/html")
        _link(element, entry.id, "alternate", "application/ld+json")
        entry_author = _child(element, "author")
        _child(entry_author, "name", entry.city)
        kind = "practice" if entry.kind in PRACTICE_TYPES else entry.kind.lower()
        category = _child(element, "category")
        category.set("term", entry.kind)
        category.set("label", kind)
        for iri, label in entry.categories:
            category = _child(element, "category")
            category.set("term", iri)
            category.set("scheme", iri.rsplit("#", 1)[0] if "#" in iri else iri.rsplit("/", 1)[0])
            category.set("label", label)
        if entry.summary:
            summary = _child(element, "summary", entry.summary)
            summary.set("type", "text")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _child(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    if text is not None:
        element.text = text
    return element


def _link(parent: ET.Element, href: str, rel: str, media: str) -> None:
    link = _child(parent, "link")
    link.set("href", href)
    link.set("rel", rel)
    link.set("type", media)
