"""Text typed by people -> an FTS5 MATCH expression that cannot fail to parse.

We never hand user text to FTS5's query language (where `*`, `^`, `:`, `NEAR`, `AND`/`OR`/`NOT`,
`-` and parentheses are syntax). The text is cut into words and "quoted phrases"; every word is
analysed like indexed text (folded, stemmed) into letters-and-digits-only stems, and only those
stems, double-quoted, reach the expression. Operators typed by people are therefore plain words
(stopwords like "and"/"or"/"not" are dropped), and an unbalanced quote just ends at the end.

Every word becomes a group "(its es/en/pt stems)"; a run of words that is a taxonomy label adds
"OR tags:(the concept tokens)". Groups are ANDed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from citynode.search import concepts
from citynode.search.concepts import LabelMap
from citynode.search.text import LANGUAGES, STOPWORDS, query_stems, stem, tokens

MAX_CHARS: Final = 300
MAX_TERMS: Final = 32
_PIECES: Final = re.compile(r'"([^"]*)"?|([^"]+)')


@dataclass(slots=True)
class Parsed:
    """What the query asks for, ready for SQL and for explaining hits."""

    match: str = ""  # the FTS5 MATCH expression ("" when there is no text to match)
    stems: set[str] = field(default_factory=set)  # every stem a hit's text may match
    concepts: dict[str, str] = field(default_factory=dict)  # concept IRI -> the words that named it
    # One entry per ANDed group: (its stems, its concept IRIs), for scoring hits (query.py).
    groups: list[tuple[frozenset[str], frozenset[str]]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _word_group(word: str, stems: set[str]) -> str:
    alternatives = query_stems(word)
    stems.update(alternatives)
    return "(" + " OR ".join(_quoted(s) for s in alternatives) + ")"


def _phrase_group(words: list[str], stems: set[str]) -> str:
    """One FTS5 phrase per language stemmer (the phrase's language is unknown), ORed."""
    variants: list[str] = []
    for lang in LANGUAGES:
        phrase = " ".join(stem(w, lang) for w in words)
        if phrase not in variants:
            variants.append(phrase)
    for phrase in variants:
        stems.update(phrase.split())
    return "(" + " OR ".join(_quoted(p) for p in variants) + ")"


def _with_concepts(group: str, iris: frozenset[str]) -> str:
    toks = " OR ".join(_quoted(concepts.token(iri)) for iri in sorted(iris))
    return f"({group} OR {{tags}} : ({toks}))"


def parse(text: str, labels: LabelMap) -> Parsed:
    """Parse a query; never raises, whatever the text."""
    parsed = Parsed()
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        parsed.notices.append(f"The query was cut to its first {MAX_CHARS} characters.")

    # Pieces: ("phrase", [words]) for quoted text, ("words", [words]) for the rest.
    pieces: list[tuple[str, list[str]]] = []
    count = 0
    for match in _PIECES.finditer(text):
        quoted, loose = match.group(1), match.group(2)
        words = tokens(quoted if quoted is not None else loose)
        if quoted is not None:
            content = [w for w in words if w not in STOPWORDS]
            if content:
                pieces.append(("phrase", words))
                count += 1
        else:
            pieces.append(("words", words))
            count += sum(1 for w in words if w not in STOPWORDS)
    if count > MAX_TERMS:
        parsed.notices.append(f"Only the first {MAX_TERMS} words of the query were used.")

    groups: list[str] = []
    used = 0
    for kind, words in pieces:
        if used >= MAX_TERMS:
            break
        if kind == "phrase":
            content = [w for w in words if w not in STOPWORDS]
            own: set[str] = set()
            group = _phrase_group(content, own)
            hits = concepts.lookup(words, labels).get((0, len(words)))
            parsed.stems |= own
            parsed.groups.append((frozenset(own), hits or frozenset()))
            if hits:
                group = _with_concepts(group, hits)
                parsed.concepts.update(dict.fromkeys(hits, " ".join(words)))
            groups.append(group)
            used += 1
            continue
        spans = concepts.lookup(words, labels)
        position = 0
        while position < len(words) and used < MAX_TERMS:
            span = next(((s, e) for (s, e) in spans if s == position), None)
            end = span[1] if span else position + 1
            content = [w for w in words[position:end] if w not in STOPWORDS]
            if content:
                own = set()
                parts = [_word_group(w, own) for w in content[: MAX_TERMS - used]]
                parsed.stems |= own
                parsed.groups.append((frozenset(own), spans[span] if span else frozenset()))
                used += len(parts)
                group = parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
                if span:
                    group = _with_concepts(group, spans[span])
                    parsed.concepts.update(
                        dict.fromkeys(spans[span], " ".join(words[position:end]))
                    )
                groups.append(group)
            position = end
    if not groups and text.strip():
        parsed.notices.append(
            "The query has no words to search for (very common words are left out);"
            " showing recent records."
        )
    parsed.match = " AND ".join(groups)
    return parsed
