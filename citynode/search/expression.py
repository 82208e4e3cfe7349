"""Text typed by people -> what it asks for: words, "quoted phrases", -exclusions, concepts.

Nothing typed is ever handed to a query language: the text is cut into pieces here and the
engine's queries are built from analysed terms (plan.py), so `*`, `:`, `AND`, parentheses and
unbalanced quotes are plain text and no query can fail to parse. A `-` before a word or a quoted
phrase excludes it; anywhere else it is a separator ("low-income" is two words).

A run of consecutive words that is a taxonomy label in any language ("connectivity",
"conectividad", "participación ciudadana", "11.2") also names that concept, so records tagged
with it match whatever language they are written in (the hit says why).

Bounded: at most `MAX_CHARS` characters and `MAX_WORDS` words and phrases are used; the rest is
cut with a notice, so a thousand OR-ed words cannot hold the node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from citynode.search import concepts
from citynode.search.concepts import LabelMap
from vocab import fold

MAX_CHARS: Final = 1000
MAX_WORDS: Final = 32
#: A quoted phrase (closing quote optional), or a run of text without quotes.
_PIECES: Final = re.compile(r'(-?)"([^"]*)"?|((?:[^"-]|-(?!"))+)')
#: A word with an optional leading "-" (an exclusion when it starts the word).
_WORD: Final = re.compile(r"(?:(?<![^\W_])-)?[^\W_]+")
#: Words dropped from queries in every language: function words of the node's main languages.
#: (The analysers drop each language's own stopwords too; this list keeps "for" or "de" from
#: being looked up as content words in the other languages' fields.)
_COMMON_WORDS: Final = (
    "a al ante con de del desde e el en entre es la las lo los o para por que se sin sobre "
    "su sus un una unos unas y como mas muy "
    "an and are as at be by for from has have in into is it its of on or that the their "
    "this to was were which with we our how what who where when "
    "ao aos as com da das do dos em na nas no nos num numa os pela pelas pelo pelos sem "
    "uma umas uns"
)
COMMON: Final = frozenset(_COMMON_WORDS.split())


@dataclass(slots=True)
class Parsed:
    """What the query asks for, ready for the engine and for explaining hits."""

    words: list[str] = field(default_factory=list)  # as typed (accents kept), in order
    phrases: list[list[str]] = field(default_factory=list)
    excluded_words: list[str] = field(default_factory=list)
    excluded_phrases: list[list[str]] = field(default_factory=list)
    concepts: dict[str, str] = field(default_factory=dict)  # concept IRI -> words that named it
    notices: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No text to match (only exclusions, or nothing)."""
        return not self.words and not self.phrases and not self.concepts


def _split(text: str) -> list[tuple[bool, str]]:
    """(excluded, word) for each word of a text."""
    found = []
    for match in _WORD.finditer(text):
        word = match.group()
        found.append((True, word[1:]) if word.startswith("-") else (False, word))
    return found


def parse(text: str, labels: LabelMap) -> Parsed:
    """Parse a query; never raises, whatever the text."""
    parsed = Parsed()
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        parsed.notices.append(f"The query was cut to its first {MAX_CHARS} characters.")
    used = 0
    cut = False
    for match in _PIECES.finditer(text):
        minus, quoted, loose = match.group(1), match.group(2), match.group(3)
        if quoted is not None:
            words = [w for _, w in _split(quoted)]
            if not words:
                continue
            if used >= MAX_WORDS:
                cut = True
                continue
            used += 1
            if minus:
                parsed.excluded_phrases.append(words)
                continue
            parsed.phrases.append(words)
            hits = concepts.lookup([fold(w) for w in words], labels).get((0, len(words)))
            if hits:
                parsed.concepts.update(dict.fromkeys(sorted(hits), " ".join(words)))
            continue
        pieces = _split(loose)
        kept: list[str] = []
        for excluded, word in pieces:
            if used >= MAX_WORDS:
                cut = True
                break
            if excluded:
                parsed.excluded_words.append(word)
                used += 1
            elif fold(word) not in COMMON or len(pieces) == 1:
                kept.append(word)
                used += 1
        parsed.words.extend(kept)
        # Labels are looked for over the words as typed, function words included
        # ("plan de movilidad"), then matched against the bundled taxonomies.
        typed = [fold(w) for excluded, w in pieces if not excluded]
        for (start, end), iris in sorted(concepts.lookup(typed, labels).items()):
            for iri in sorted(iris):
                parsed.concepts.setdefault(iri, " ".join(typed[start:end]))
    if cut:
        parsed.notices.append(
            f"Only the first {MAX_WORDS} words and phrases of the query were used."
        )
    if parsed.empty and text.strip() and not (parsed.excluded_words or parsed.excluded_phrases):
        parsed.notices.append(
            "The query has no words to search for (very common words are left out);"
            " showing recent records."
        )
    return parsed
