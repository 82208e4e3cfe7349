"""Snippets and titles for hits, computed in Python from the stored original text.

The FTS table holds stems, so FTS5's snippet() would show stems; instead the original text is
tokenized again and each word whose index term is a query stem is marked. Everything that is not
a mark is HTML-escaped, so a record's text can never inject markup into a results page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, Final

from citynode.search.text import analyse, term
from protocol.records import pick_text

_WORD: Final = re.compile(r"[^\W_]+")
SNIPPET_WORDS: Final = 32
#: Where snippets look for matched words, best first.
_SNIPPET_FIELDS: Final = (
    "summary",
    "description",
    "problem",
    "approach",
    "lessonsLearned",
    "transferability",
    "title",
)


def _marked(text: str, lang: str, stems: set[str]) -> tuple[str, bool]:
    """The text around the first matched word with matches in <mark>, and whether any matched."""
    words = list(_WORD.finditer(text))
    if not words:
        return html.escape(text), False
    first = next((i for i, m in enumerate(words) if stems and _matches(m.group(), lang, stems)), 0)
    start = max(0, first - SNIPPET_WORDS // 4)
    end = min(len(words), start + SNIPPET_WORDS)
    out: list[str] = ["… " if start > 0 else ""]
    cursor = words[start].start()
    matched = False
    for i in range(start, end):
        m = words[i]
        out.append(html.escape(text[cursor : m.start()]))
        word = html.escape(m.group())
        if stems and _matches(m.group(), lang, stems):
            matched = True
            word = f"<mark>{word}</mark>"
        out.append(word)
        cursor = m.end()
    out.append(html.escape(text[cursor:]) if end == len(words) else " …")
    return "".join(out).strip(), matched


def _matches(word: str, lang: str, stems: set[str]) -> bool:
    terms = term(word, lang)
    return terms in stems or (" " in terms and any(t in stems for t in terms.split()))


def snippet(texts: Mapping[str, Any], lang: str, stems: set[str]) -> tuple[str, bool]:
    """The best snippet for a hit and whether its text matched the query words at all.

    Prefers the reader's language; among fields, the first one that holds a match.
    """
    if not stems:  # nothing to mark (the landing page): the start of the summary
        for name in _SNIPPET_FIELDS:
            value = texts.get(name)
            if isinstance(value, Mapping) and value:
                return _marked(pick_text(value, lang)[1], lang, stems)[0], False
        return "", False
    first_text: tuple[str, str] | None = None
    for name in _SNIPPET_FIELDS:
        value = texts.get(name)
        if not isinstance(value, Mapping) or not value:
            continue
        for text_lang, text in [pick_text(value, lang), *value.items()]:
            if first_text is None and name != "title":
                first_text = (text, text_lang)
            # Cheap whole-text test first (cached analysis); only a matching text is marked.
            if not stems.isdisjoint(analyse(text, text_lang).split()):
                return _marked(text, text_lang, stems)[0], True
    fallback = _marked(*first_text, set())[0] if first_text else ""
    keywords = texts.get("keywords")
    matched = (
        bool(stems)
        and isinstance(keywords, Mapping)
        and any(_matches(w, kl, stems) for kl, ws in keywords.items() for w in ws)
    )
    return fallback, matched
