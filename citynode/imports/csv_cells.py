"""Cell readers for the CSV templates: one spreadsheet cell in, one record value out.

Each reader takes the text of a cell and returns the value the record model wants, or raises
`CellError` with a sentence a city clerk can act on. Clerks type what they know ("en curso",
"SDG 11.2", "connectivity", "6/3/2014"), so readers accept the usual short and local forms and
expand them; they never guess where a value is ambiguous ("13.700" is refused, not read as 13.7).

This module reads plain values (slugs, dates, periods, numbers, addresses, yes/no, field names);
`csv_terms` reads the cells that name vocabulary terms (types, statuses, roles, themes, SDGs,
small schemes) and `csv_nested` the cells that hold nested objects (organisations, adaptations,
legal acts).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from typing import Final

WIKIDATA_NS: Final = "http://www.wikidata.org/entity/"

_TRUE: Final = frozenset({"yes", "y", "true", "1", "x", "si", "sim", "verdadero", "verdadeiro"})
_FALSE: Final = frozenset({"no", "n", "false", "0", "nao", "falso"})

SLUG_RE: Final = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_ISO_DATE: Final = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_DMY_DATE: Final = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_PERIOD: Final = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?$")
_NUMBER: Final = re.compile(r"^([+-]?\d+)(?:([.,])(\d+))?$")
_URL: Final = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WIKIDATA: Final = re.compile(r"^(?:https?://www\.wikidata\.org/(?:entity|wiki)/)?(Q\d+)$")


class CellError(ValueError):
    """A cell that cannot be read; the message says what to write instead."""


def fold(text: str) -> str:
    """Lowercase, accents removed, inner spaces collapsed: "Línea  Base" -> "linea base"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def split_list(cell: str, separators: str = ";") -> list[str]:
    """List cells are separated by ';' (commas also split the code lists, which never hold one)."""
    parts = re.split(f"[{re.escape(separators)}]", cell)
    return [part.strip() for part in parts if part.strip()]


def unique(items: Iterable[str]) -> list[str]:
    """The items without repeats, in their first order."""
    return list(dict.fromkeys(items))


def read_slug(cell: str) -> str:
    slug = cell.strip().removeprefix("records/")
    if not SLUG_RE.match(slug) or len(slug) > 120:
        hint = re.sub(r"[^a-z0-9]+", "-", fold(slug)).strip("-")
        example = f", for example '{hint}'" if hint and SLUG_RE.match(hint) else ""
        raise CellError(
            f"'{cell}' is not a valid slug; use lowercase letters without accents, digits and "
            f"hyphens{example}"
        )
    return slug


def read_partial_date(cell: str) -> str:
    """A year (2020), a year and month (2020-03), or a date as `read_date` reads it."""
    text = cell.strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    month = re.fullmatch(r"(\d{4})[-/](\d{1,2})", text)
    if month:
        if not 1 <= int(month.group(2)) <= 12:
            raise CellError(f"'{cell}' is not a real month")
        return f"{month.group(1)}-{int(month.group(2)):02d}"
    return read_date(text)


def read_date(cell: str) -> str:
    """ISO dates, or day first (6/3/2014) as Excel writes them in Spanish and Portuguese."""
    text = cell.strip()
    iso = _ISO_DATE.match(text)
    dmy = _DMY_DATE.match(text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif dmy:
        day, month, year = (int(part) for part in dmy.groups())
    else:
        only_year = re.fullmatch(r"\d{4}", text) is not None
        extra = (
            "; a date needs day, month and year. If you only know the year, leave the cell "
            "empty and say the year in the summary"
            if only_year
            else ""
        )
        raise CellError(f"'{cell}' is not a date; write YYYY-MM-DD (2022-03-06){extra}")
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise CellError(f"'{cell}' is not a real date (day {day}, month {month})") from None


def is_date(text: str) -> bool:
    """Whether `text` is written as `read_date` reads a day (ISO, or day first)."""
    return bool(_ISO_DATE.match(text) or _DMY_DATE.match(text))


def read_period(cell: str) -> str:
    """A year, month or day, or an interval of those; "2020-2023" is read as 2020/2023."""
    text = cell.strip().replace(" ", "")
    years = re.fullmatch(r"(\d{4})-(\d{4})", text)
    if years:
        text = f"{years.group(1)}/{years.group(2)}"
    problem = not _PERIOD.match(text)
    if not problem:
        # The pattern (the model's) lets "2023-13" through; read each end as a real date.
        ends = [(part + "-01-01")[:10] for part in text.split("/")]
        try:
            dates = [dt.date.fromisoformat(end) for end in ends]
        except ValueError:
            problem = True
        else:
            problem = len(dates) == 2 and dates[1] < dates[0]
    if problem:
        raise CellError(
            f"'{cell}' is not a period; write a year (2023), a month (2023-06), a day (2023-06-30) "
            "or an interval from earlier to later (2020/2023)"
        )
    return text


def read_number(cell: str) -> int | float:
    """Decimal point or comma; no thousands separators, since "13.700" is 13.7 or 13700."""
    text = re.sub(r"[\s\u00a0\u202f]", "", cell)  # spaces, incl. the ones Excel puts in 13 700
    match = _NUMBER.match(text)
    if match is None:
        raise CellError(
            f"'{cell}' is not a number; write digits only, such as 13700 or 2.5, without "
            "thousands separators, units or % signs (put the unit in the 'unit' column)"
        )
    whole, separator, decimals = match.groups()
    if separator is None:
        return int(whole)
    if len(decimals) == 3 and whole.lstrip("+-").strip("0"):
        raise CellError(
            f"'{cell}' is ambiguous: write {whole}{decimals} for a whole number (without a "
            f"thousands separator), or {whole}.{decimals}0 for a fraction"
        )
    return float(f"{whole}.{decimals}")


def read_percent(cell: str) -> int:
    text = cell.strip().removesuffix("%").strip()
    if not re.fullmatch(r"\d{1,3}", text) or int(text) > 100:
        raise CellError(
            f"'{cell}' is not a progress percentage; write a whole number from 0 to 100"
        )
    return int(text)


def read_url(cell: str) -> str:
    text = cell.strip()
    if not _URL.match(text) or len(text) > 2000:
        raise CellError(f"'{cell}' is not a web address; write it in full, starting with https://")
    return text


def read_email(cell: str) -> str:
    text = cell.strip().removeprefix("mailto:")
    if not _EMAIL.match(text):
        raise CellError(f"'{cell}' is not an e-mail address")
    return f"mailto:{text}"


def read_wikidata(cell: str) -> str:
    match = _WIKIDATA.match(cell.strip())
    if match is None:
        raise CellError(
            f"'{cell}' is not a Wikidata item; write its Q number (Q48278 for Medellín) or its "
            "http://www.wikidata.org/entity/ address"
        )
    return WIKIDATA_NS + match.group(1)


def read_bool(cell: str) -> bool:
    word = fold(cell)
    if word in _TRUE:
        return True
    if word in _FALSE or not word:
        return False
    raise CellError(f"'{cell}' is not yes or no; write yes or no (sí/no, sim/não)")


def read_marks(cell: str) -> bool | list[str]:
    """An `illustrative` cell: yes/no for the whole row's object, or the names of the fields
    that no source gives (`status; period`)."""
    word = fold(cell)
    if word in _TRUE:
        return True
    if word in _FALSE or not word:
        return False
    return read_field_names(cell)


def read_field_names(cell: str) -> list[str]:
    """Field names (JSON terms) separated by ';' or ',': `summary; problem`."""
    names = split_list(cell, ";,")
    for name in names:
        if not re.fullmatch(r"[a-z][A-Za-z]{0,40}", name):
            raise CellError(
                f"'{name}' is not a field name; write the fields' names as in the record "
                "(summary, problem, status, period...), separated by ';'"
            )
    return names


def read_iris(cell: str) -> list[str]:
    """Web addresses separated by ';' (partOf, hasPart)."""
    return unique(read_url(item) for item in split_list(cell))
