"""Snippets for hits, from the record's original text, in the reader's language when it has it.

The index holds no text (schema.py): a hit's record is read from the store and its text is
analysed again with the index's own analysers (analysis.tokens), so a word is marked exactly
when the index matched it. Everything that is not a mark is HTML-escaped, so a record's text
can never inject markup into a results page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Final

from citynode.search import analysis

SNIPPET_WORDS: Final = 32
#: Where snippets look for matched words, best first.
FIELDS: Final = (
    "summary",
    "description",
    "problem",
    "approach",
    "lessonsLearned",
    "transferability",
    "title",
)


def ordered(texts: Mapping[str, str], lang: str) -> list[tuple[str, str]]:
    """A language map's (tag, text) pairs: the reader's language first, then its primary
    language ("pt" for "pt-BR", and "pt-BR" for "pt"), then en, es, pt, then the rest."""
    base = lang.split("-", 1)[0]

    def rank(tag: str) -> float:
        if tag == lang:
            return 0.0
        primary = tag.split("-", 1)[0]
        if primary == base:
            return 1.0
        return {"en": 2.0, "es": 3.0, "pt": 4.0}.get(primary, 5.0)

    pairs = [(tag, text) for tag, text in texts.items() if isinstance(text, str)]
    return sorted(pairs, key=lambda item: (rank(item[0]), item[0]))


def _marked(text: str, tag: str, terms: set[str]) -> tuple[str, bool]:
    """The text around its first matched word, matches in <mark>; and whether any matched."""
    words = analysis.tokens(text, analysis.analyser_of(tag))
    if not words:
        return html.escape(_clip(text)), False
    first = next((i for i, (term, _, _) in enumerate(words) if term in terms), None)
    start = max(0, (first or 0) - SNIPPET_WORDS // 4)
    end = min(len(words), start + SNIPPET_WORDS)
    begin = 0 if start == 0 else words[start][1]
    finish = len(text) if end == len(words) else words[end - 1][2]
    out: list[str] = ["… " if begin > 0 else ""]
    cursor = begin
    matched = False
    for term, left, right in words[start:end]:
        out.append(html.escape(text[cursor:left]))
        piece = html.escape(text[left:right])
        if term in terms:
            matched = True
            piece = f"<mark>{piece}</mark>"
        out.append(piece)
        cursor = right
    out.append(html.escape(text[cursor:finish]))
    if finish < len(text):
        out.append(" …")
    return "".join(out).strip(), matched


def _clip(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def snippet(doc: Mapping[str, Any], lang: str, terms: Mapping[str, set[str]]) -> tuple[str, bool]:
    """The best snippet of a record and whether its text matched the query's terms.

    Prefers the reader's language; among fields, the first that holds a match; with no match
    (or no query words), the start of the summary in the reader's language.
    """
    fallback: tuple[str, str] | None = None
    for name in FIELDS:
        value = doc.get(name)
        if not isinstance(value, Mapping) or not value:
            continue
        for tag, text in ordered(value, lang):
            if fallback is None and name != "title":
                fallback = (tag, text)
            wanted = terms.get(analysis.analyser_of(tag))
            if not wanted:
                continue
            if not wanted.isdisjoint(analysis.terms(text, analysis.analyser_of(tag))):
                return _marked(text, tag, wanted)[0], True
    matched = _keywords_match(doc.get("keywords"), terms)
    if fallback is None:
        return "", matched
    return _marked(fallback[1], fallback[0], set())[0], matched


def _keywords_match(keywords: object, terms: Mapping[str, set[str]]) -> bool:
    if not isinstance(keywords, Mapping):
        return False
    for tag, words in keywords.items():
        wanted = terms.get(analysis.analyser_of(tag))
        if wanted and isinstance(words, list):
            text = " ".join(w for w in words if isinstance(w, str))
            found = analysis.terms(text, analysis.analyser_of(tag))
            if not wanted.isdisjoint(found):
                return True
    return False
