"""The table under a CSV template: decoding, the delimiter, the header, rows and their problems.

What a spreadsheet program does to a CSV is handled here, once, for both templates: Excel's
byte order mark, Windows-1252, `;` as separator in Spanish and Portuguese locales, retyped
header names, blank rows and trailing unnamed columns.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar

from citynode.imports.csv_cells import CellError, split_list
from protocol.langtags import canonical_case, is_language_tag
from protocol.records import LANGUAGES

T = TypeVar("T")

SHORT: Final = 400  # the limits of protocol.records ShortText and Text
LONG: Final = 20_000


class CsvImportError(Exception):
    """A CSV file that cannot be imported as it is.

    `file`, `row` (1-based, the header is row 1) and `field` (the column) say where, `message`
    says what to write instead. When a file has several problems, one error carries them all in
    `problems`, each with its own row and column; `row` and `field` are then None.
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
        problems: Sequence[CsvImportError] = (),
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.message = message
        self.problems: list[CsvImportError] = list(problems) or [self]
        super().__init__(f"{file} {message}" if problems else self._located())

    def _located(self) -> str:
        where = ", ".join(
            part
            for part in (
                f"row {self.row}" if self.row else "",
                f"column '{self.field}'" if self.field else "",
            )
            if part
        )
        return f"{self.file} {where}: {self.message}" if where else f"{self.file}: {self.message}"

    @classmethod
    def collect(cls, file: str, problems: list[CsvImportError]) -> CsvImportError:
        """One error for the whole file: the problem itself when there is only one."""
        if len(problems) == 1:
            return problems[0]
        listing = "\n".join(f"  - {problem._located()}" for problem in problems)
        return cls(
            file,
            f"has {len(problems)} problems; fix them all, then import the file again:\n{listing}",
            problems=problems,
        )


def language_of(column: str, base: str) -> str | None:
    """The BCP 47 tag of a text column (`title_fr` -> fr, `summary_pt_br` -> pt-BR), or None.

    Headers are normalised (`Title PT-BR` -> `title_pt_br`), so the tag's hyphens come back as
    underscores and its case is lost: it is given the case RFC 5646 recommends (the export
    writes `pt-BR` as `pt_br`, and the import reads `pt-BR` again). Any well-formed tag is a
    language a record may be written in.
    """
    if not column.startswith(base + "_"):
        return None
    tag = column[len(base) + 1 :].replace("_", "-")
    return canonical_case(tag) if is_language_tag(tag) else None


def language_columns(columns: Iterable[str], base: str) -> list[tuple[str, str]]:
    """(column, tag) of every text column of `base`: es, en, pt first, then as they come."""
    found = [(c, tag) for c in columns if (tag := language_of(c, base)) is not None]
    order = {lang: i for i, lang in enumerate(LANGUAGES)}
    return sorted(found, key=lambda item: order.get(item[1], len(order)))


class Row:
    """One data row: its cells by column name, and where its problems go."""

    def __init__(
        self, file: str, number: int, cells_: dict[str, str], problems: list[CsvImportError]
    ) -> None:
        self.file = file
        self.number = number
        self.cells = cells_
        self.problems = problems

    def cell(self, column: str) -> str:
        return self.cells.get(column, "").replace("\r\n", "\n").strip()

    def fail(self, column: str | None, message: str) -> None:
        self.problems.append(CsvImportError(self.file, message, row=self.number, field=column))

    def read(
        self, column: str, reader: Callable[[str], T], *, required: str | None = None
    ) -> T | None:
        """The cell converted by `reader`; None (and a problem noted) when it cannot be read.

        `required` names what needs the cell ("every practice"), for the empty-cell message.
        """
        text = self.cell(column)
        if not text:
            if required:
                self.fail(column, f"this cell is empty; {required} needs one")
            return None
        try:
            return reader(text)
        except CellError as exc:
            self.fail(column, str(exc))
            return None

    def texts(self, base: str, limit: int, *, required: str | None = None) -> dict[str, str]:
        """A language map from the `<base>_<language>` cells (`title_es`, `title_fr`...)."""
        found: dict[str, str] = {}
        for column, lang in language_columns(self.cells, base):
            text = self.cell(column)
            if not text:
                continue
            if len(text) > limit:
                self.fail(column, f"the text has {len(text)} characters; the limit is {limit}")
                continue
            found[lang] = text
        if required and not found:
            self.fail(
                self.first_column(base),
                f"{required} needs a {base} in at least one language "
                f"({', '.join(f'{base}_{lang}' for lang in LANGUAGES)}, or _fr, _it...)",
            )
        return found

    def first_column(self, base: str) -> str:
        columns = language_columns(self.cells, base)
        return columns[0][0] if columns else f"{base}_{LANGUAGES[0]}"

    def keywords(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for column, lang in language_columns(self.cells, "keywords"):
            words = split_list(self.cell(column))
            too_long = [word for word in words if len(word) > SHORT]
            if too_long:
                self.fail(
                    column, f"the keyword '{too_long[0][:40]}...' is longer than {SHORT} characters"
                )
            elif words:
                found[lang] = words
        return found


def sniff_delimiter(header_line: str) -> str:
    """Comma, or ';' as Excel writes CSV in Spanish and Portuguese locales, or tab."""
    outside_quotes = re.sub(r'"[^"]*"', "", header_line)
    counts = {delimiter: outside_quotes.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def column_name(raw: str) -> str:
    """'Title ES' and 'title-es' are 'title_es': clerks retype headers."""
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def read_table(text: str, file: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header names and the numbered data rows; blank rows (Excel leaves some) dropped."""
    text = text.removeprefix("\ufeff")  # the byte order mark Excel puts before UTF-8 files
    if not text.strip():
        raise CsvImportError(file, "the file is empty", row=1)
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if any(value.strip() for value in row):
                rows.append((number, row))
    except csv.Error:
        raise CsvImportError(
            file,
            'a quotation mark (") is not closed or stands inside a cell; a cell that holds the '
            "separator or a line break must be wholly enclosed in quotation marks",
            row=number + 1,
        ) from None
    if not rows or rows[0][0] != 1:
        raise CsvImportError(file, "the first row must hold the column names", row=1)
    return [column_name(name) for name in rows[0][1]], rows[1:]


def check_header(
    names: list[str],
    file: str,
    template: str,
    known: Iterable[str],
    required: Iterable[str],
    language_bases: Iterable[str],
) -> list[CsvImportError]:
    """Problems of the header row: unknown, unsupported-language, repeated or missing columns.

    `required` names columns; `title_*` means the column in at least one language.
    """
    known_set = set(known)
    problems: list[CsvImportError] = []
    seen: set[str] = set()
    for name in names:
        if not name:
            continue  # an unnamed column is ignored, unless a row fills it (checked per row)
        if name in seen:
            problems.append(CsvImportError(file, "this column appears twice", row=1, field=name))
        seen.add(name)
        if name in known_set:
            continue
        bases = [base for base in language_bases if name.startswith(base + "_")]
        if any(language_of(name, base) for base in bases):
            continue  # a text column in another language: title_fr, summary_pt_br
        if bases:
            message = (
                f"'{name.removeprefix(max(bases, key=len) + '_')}' is not a language tag; text "
                "columns end in a BCP 47 tag such as _es, _en, _pt, _fr or _pt_br"
            )
        else:
            close = difflib.get_close_matches(name, sorted(known_set), n=1, cutoff=0.7)
            hint = f"; did you mean '{close[0]}'?" if close else "."
            message = (
                f"unknown column{hint} The {template} template's columns are listed in "
                "docs/csv-template.md"
            )
        problems.append(CsvImportError(file, message, row=1, field=name))
    for column in required:
        if column.endswith("_*"):
            base = column[:-2]
            if not language_columns(seen, base):
                problems.append(
                    CsvImportError(
                        file,
                        f"a {base}_<language> column ({base}_es, {base}_en, {base}_pt...) is "
                        "required",
                        row=1,
                    )
                )
        elif column not in seen:
            problems.append(CsvImportError(file, f"the column '{column}' is required", row=1))
    return problems


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); else Windows-1252, which Excel on Windows uses for
    'CSV (delimited)' in Spanish and Portuguese, and which decodes any byte string."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
