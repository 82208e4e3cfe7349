"""Text analysis shared by indexing and querying: fold, tokenize, drop stopwords, stem.

Why in Python and not in an FTS5 tokenizer: SQLite ships only an English porter stemmer, and a
custom tokenizer would need a C extension. So the index holds *analysed* text (space-separated
stems) and the query is analysed by the same function; FTS5's `unicode61` tokenizer then only splits
on spaces (its `remove_diacritics 2` is idempotent on our already folded tokens).

Order matters: fold first, then stem. People often type without accents ("educacao",
"participacion"); stemming the folded word on both sides makes "educacao" and "educação" meet,
whereas stemming the accented word gives "educ" for one and "educaca" for the other.

Stopwords are dropped at index time as well as in queries: they are ~40% of running text, so the
index is smaller and faster to build, and no query ever has to walk their huge posting lists.
A phrase "plan de movilidad" becomes the stems "plan movil" on both sides, which still match as a
phrase because positions are counted after the stopwords went.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final

import Stemmer

LANGUAGES: Final = ("es", "en", "pt")
_STEMMER_NAMES: Final = {"es": "spanish", "en": "english", "pt": "portuguese"}
_STEMMERS: Final = {lang: Stemmer.Stemmer(name) for lang, name in _STEMMER_NAMES.items()}

# unicode61 counts letters and digits as token characters and everything else (including "_")
# as separators; this pattern does the same on text that is already folded.
_TOKEN: Final = re.compile(r"[^\W_]+")
_PT_PLURAL_AO: Final = re.compile(r"(?<=..)[oa]es$")

# The most frequent function words (after folding). Short on purpose: a content word wrongly
# listed here could never be found.
_STOPWORDS_ES: Final = (
    "a al ante con contra de del desde durante e el en entre es esta este esto hacia hasta la las "
    "le les lo los mas mediante o para pero por que se segun sin sobre su sus tambien tras un una "
    "uno unos unas y ya como cual cuando donde muy ha han hay fue ser son sido"
)
_STOPWORDS_EN: Final = (
    "an and are as at be been but by for from has have in into is it its of on or that the their "
    "them then there these they this those to was were which while will with within without we our"
)
_STOPWORDS_PT: Final = (
    "ao aos as com da das do dos em entre na nas no nos num numa os pela pelas pelo pelos sem sob "
    "sua suas seu seus uma umas uns foi sao tem mais muito tambem onde quando"
)
STOPWORDS: Final = frozenset(" ".join((_STOPWORDS_ES, _STOPWORDS_EN, _STOPWORDS_PT)).split())

_stem_cache: dict[tuple[str, str], str] = {}
_CACHE_LIMIT: Final = 500_000


def fold(text: str) -> str:
    """Lower-case and strip diacritics ("Medellín" -> "medellin", "ÁGUA" -> "agua")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded word tokens of a text, stopwords included (for snippets and phrases)."""
    return _TOKEN.findall(fold(text))


def stem(token: str, lang: str) -> str:
    """The stem of one folded token in a language (unknown languages stem as Spanish)."""
    key = (token, lang)
    cached = _stem_cache.get(key)
    if cached is not None:
        return cached
    word = token
    if lang == "pt":
        # Snowball's Portuguese stemmer leaves "inclusoes" and "inclusao" apart once folded;
        # the -oes/-aes plural of -ao words is regular enough to undo first.
        word = _PT_PLURAL_AO.sub("ao", word)
    result = _STEMMERS.get(lang, _STEMMERS["es"]).stemWord(word)
    if len(_stem_cache) >= _CACHE_LIMIT:
        _stem_cache.clear()
    _stem_cache[key] = result
    return result


def analyse(text: str, lang: str) -> str:
    """Index terms of a text in a language, space-separated: folded, stopwords out, stemmed.

    The hot loop of indexing. Whitespace-separated pieces ("Medellín,") are cached per language
    with their terms ("medellin"), so most pieces cost one C-level dict lookup; only a new piece
    goes through folding, the token pattern and the stemmer. A piece yields the same terms as the
    query side's `tokens()` gives for it, since both split on whitespace and then on non-letters.
    """
    cache = _analysed.get(lang)
    if cache is None:
        cache = _analysed.setdefault(lang, {})
    pieces = text.lower().split()
    terms = list(map(cache.get, pieces))
    if None in terms:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        for n, term in enumerate(terms):
            if term is None:
                terms[n] = cache[pieces[n]] = _analyse_piece(pieces[n], lang)
    return " ".join(filter(None, terms))


_analysed: dict[str, dict[str, str]] = {}


def term(word: str, lang: str) -> str:
    """The index term(s) of one word, from the indexing cache when it has been seen."""
    lowered = word.lower()
    cached = _analysed.get(lang, {}).get(lowered)
    return cached if cached is not None else analyse(lowered, lang)


def _analyse_piece(piece: str, lang: str) -> str:
    """One whitespace-separated piece's index terms, or "" (stopwords, punctuation)."""
    return " ".join(stem(t, lang) for t in _TOKEN.findall(fold(piece)) if t not in STOPWORDS)


def query_stems(token: str) -> list[str]:
    """Every stem a query word may have been indexed under: the query's language is unknown, so
    the word is stemmed as Spanish, English and Portuguese (usually one or two distinct stems)."""
    seen: list[str] = []
    for lang in LANGUAGES:
        s = stem(token, lang)
        if s not in seen:
            seen.append(s)
    return seen


#: (text, language) pairs of one record's title, summary and body columns.
Columns = tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]
#: Text fields that make up the `body` column (weight 1), in the order snippets look at them.
BODY_FIELDS: Final = ("description", "problem", "approach", "lessonsLearned", "transferability")


def _pairs(value: object) -> list[tuple[str, str]]:
    return [(text, lang) for lang, text in value.items()] if isinstance(value, dict) else []


def columns_of(doc: dict[str, Any]) -> Columns:
    """The (text, language) pairs of a record's title, summary (+ keywords) and body columns."""
    if doc.get("type") == "Tombstone":
        return [], [], []
    title = _pairs(doc.get("title"))
    summary = _pairs(doc.get("summary"))
    for lang, words in (doc.get("keywords") or {}).items():
        summary.extend((word, lang) for word in words)
    body = [pair for name in BODY_FIELDS for pair in _pairs(doc.get(name))]
    for measurement in doc.get("measurements") or ():
        body.extend(_pairs(measurement.get("indicator")))
    return title, summary, body


#: The analysed title, summary and body of one record.
Analysed = tuple[str, str, str]


def analyse_columns(columns: Columns) -> Analysed:
    """The analysed title, summary and body of one record (what the FTS table holds)."""
    return tuple(  # type: ignore[return-value]
        " ".join(filter(None, (analyse(text, lang) for text, lang in pairs))) for pairs in columns
    )


def analyse_many(records: list[Columns]) -> list[Analysed]:
    """`analyse_columns` over a batch: the unit of work sent to the analysis process."""
    return [analyse_columns(columns) for columns in records]
