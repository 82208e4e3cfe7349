"""Text analysis for the search index: one analyser per language, shared by indexing and queries.

Records carry text in any BCP 47 language. Seven have their own analyser (Snowball stemmer and
stopwords, as tantivy ships them): es, en, pt, fr, it, de, nl. Every other language (and a tag we
cannot read) goes through the fold-only analyser `xx`: lower-case and accent folding, no
stemming, no stopwords, so a word is still found as typed, with or without accents.

Each analyser: split on anything that is not a letter or digit, drop tokens over 40 characters,
lower-case, drop the language's stopwords, fold accents (ASCII), stem. Fold comes *before* the
stemmer on purpose: people type without accents ("educacao", "participacion"); stemming the
folded word on both sides makes them meet, whereas the accented and unaccented words stem apart
("educ" and "educaca"). Stopwords go before folding because tantivy's lists are accented.

Portuguese plurals in -ões/-ães of -ão words ("inclusões", "inclusão") stem apart once folded;
that plural is regular enough to undo in `prepare` before the analyser runs (the same on both
sides).

The analysers run inside tantivy (Rust), in the index writer's threads when indexing; the query
side and the snippet marker call the same analysers through `terms` and `tokens`. `VERSION`
names the whole configuration: the index records it, and an index built with another version is
rebuilt from the store instead of drifting (engine.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Final

import tantivy
from tantivy import Filter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

#: Languages with their own stemmer and stopwords (ISO 639-1 -> tantivy's language name).
STEMMED: Final = {
    "es": "spanish",
    "en": "english",
    "pt": "portuguese",
    "fr": "french",
    "it": "italian",
    "de": "german",
    "nl": "dutch",
}
#: The analyser for every other language: folded, not stemmed.
OTHER: Final = "xx"
#: Every analyser, hence every per-language text field of the index.
ANALYSERS: Final = (*STEMMED, OTHER)
MAX_TOKEN_CHARS: Final = 40

#: "-ões"/"-ães" (and "-oes"/"-aes" typed without accents) after at least one letter: the
#: rule is `_PT_PLURAL_VERSIONED` (what the analyser version names); this spelling matches
#: exactly the same (tests/test_search_index.py), 4x faster: a leading `\B` is tried at every
#: position of the text.
_PT_PLURAL: Final = re.compile(r"[oõaãOÕAÃ](?<=\w.)[eE][sS]\b")
#: The rule as the analyser version has always named it (the pattern before it was made faster).
_PT_PLURAL_VERSIONED: Final = r"\B[oõaã]es\b"
_BCP47: Final = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$")

#: Everything that decides which terms a text gives. Change any of it and bump nothing by hand:
#: the version below changes and every index built before is rebuilt.
CONFIGURATION: Final = {
    "tokenizer": "simple",
    "remove_long": MAX_TOKEN_CHARS,
    "steps": ["lowercase", "stopwords", "ascii_fold", "stemmer"],
    "stemmed": STEMMED,
    "other": "lowercase, ascii_fold",
    "pt_plural": _PT_PLURAL_VERSIONED,
    # The engine version names the stemmers and stopword lists it ships.
    "tantivy": str(getattr(tantivy, "__version__", "")),
}
VERSION: Final = hashlib.sha256(json.dumps(CONFIGURATION, sort_keys=True).encode()).hexdigest()[:16]


def analyser_name(lang: str) -> str:
    """The tokenizer name an analyser is registered under in the index."""
    return f"cn_{lang}"


@functools.lru_cache(maxsize=4096)
def analyser_of(tag: str) -> str:
    """The analyser for a BCP 47 language tag: its primary subtag if we stem it, else `xx`.

    "pt-BR" -> "pt", "es-419" -> "es", "ca" -> "xx", "not a tag" -> "xx".
    """
    if not _BCP47.match(tag):
        return OTHER
    primary = tag.split("-", 1)[0].lower()
    return primary if primary in STEMMED else OTHER


@functools.cache
def analyser(lang: str) -> TextAnalyzer:
    """The tantivy analyser of one of `ANALYSERS`."""
    builder = (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(MAX_TOKEN_CHARS))
        .filter(Filter.lowercase())
    )
    language = STEMMED.get(lang)
    if language is not None:
        builder = builder.filter(Filter.stopword(language))
    builder = builder.filter(Filter.ascii_fold())
    if language is not None:
        builder = builder.filter(Filter.stemmer(language))
    return builder.build()


def register(index: tantivy.Index) -> None:
    """Make every analyser known to an opened index (needed by the writer and by queries)."""
    for lang in ANALYSERS:
        index.register_tokenizer(analyser_name(lang), analyser(lang))


def prepare(text: str, lang: str) -> str:
    """What the analyser of `lang` is given for `text` (the Portuguese plural undone)."""
    if lang == "pt" and "es" in text:
        return _PT_PLURAL.sub("ão", text)
    return text


def terms(text: str, lang: str) -> list[str]:
    """The index terms of a text in the analyser `lang` (stopwords gone, in order)."""
    return analyser(lang).analyze(prepare(text, lang))


def tokens(text: str, lang: str) -> list[tuple[str, int, int]]:
    """(term, start, end) of each indexed word of `text`, as character offsets into `text`.

    For marking matched words in snippets. The Portuguese plural rewrite changes lengths
    ("ões" -> "ão"), so Portuguese text is analysed word by word to keep offsets true.
    """
    if lang == "pt":
        return [
            (term, match.start(), match.end())
            for match in _WORD.finditer(text)
            for term in terms(match.group(), lang)
        ]
    pre = analyser(lang).pre_tokenize(text)
    return [(t.text, t.char_offset_from, t.char_offset_to) for t in pre.tokens]


_WORD: Final = re.compile(r"[^\W_]+")
