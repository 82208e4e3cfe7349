"""Cell readers for the cells that hold nested objects: organisations (funders, partners),
adaptations (adaptedFrom) and legal acts, in a short `a | b | c` form or as the JSON list the
CSV export writes."""

from __future__ import annotations

import json
import re

from citynode.imports.csv_cells import (
    CellError,
    is_date,
    read_date,
    read_url,
    read_wikidata,
    split_list,
)
from citynode.imports.csv_terms import read_concept


def read_json_list(cell: str) -> list[object]:
    """A JSON list of objects, as the CSV export writes nested fields (funders, costs...)."""
    try:
        value = json.loads(cell)
    except json.JSONDecodeError as exc:
        raise CellError(f"this cell is not a JSON list of objects: {exc.msg}") from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CellError("this cell must be a JSON list of objects, like [{...}, {...}]")
    return value


def read_organisations(cell: str, language: str) -> list[object]:
    """Funders or partners: a JSON list, or `name | kind | Wikidata or ROR id` separated by ';'
    (the name in `language`)."""
    if cell.lstrip().startswith("["):
        return read_json_list(cell)
    kinds = read_concept(
        "organisation-kind", "public, private, academic, civil-society or multilateral"
    )
    found: list[object] = []
    for entry in split_list(cell):
        parts = [part.strip() for part in entry.split("|")]
        org: dict[str, object] = {"type": "Organisation", "name": {language: parts[0]}}
        for part in parts[1:]:
            if not part:
                continue
            if part.startswith(("http://", "https://")) or re.fullmatch(r"Q\d+", part):
                org["sameAs"] = read_wikidata(part) if part.startswith("Q") else read_url(part)
            else:
                org["kind"] = kinds(part)
        found.append(org)
    return found


def read_adaptations(cell: str, language: str) -> list[object]:
    """adaptedFrom: a JSON list, or `https://address of the practice | what changed` entries
    separated by ';' (what changed in `language`)."""
    if cell.lstrip().startswith("["):
        return read_json_list(cell)
    found: list[object] = []
    for entry in split_list(cell):
        address, _, changes = (part.strip() for part in entry.partition("|"))
        item: dict[str, object] = {"type": "Adaptation", "practice": read_url(address)}
        if changes:
            item["changes"] = {language: changes}
        found.append(item)
    return found


def read_legal_basis(cell: str, language: str) -> list[dict[str, object]]:
    """Acts separated by ';', parts of an act by '|': name | identifier | date | https://url.

    Only the name is required; a part that looks like a date or a web address is read as one
    wherever it stands, so "Acuerdo 057 de 2022 | 2022-05-10" works. The name is stored in
    `language`, the language the act was written in (the caller passes the row's first). A JSON
    list (what the export writes for acts with titles in several languages) is read as it is.
    """
    if cell.lstrip().startswith("["):
        return [dict(item) for item in read_json_list(cell) if isinstance(item, dict)]
    acts: list[dict[str, object]] = []
    for entry in split_list(cell):
        parts = [part.strip() for part in entry.split("|") if part.strip()]
        names: list[str] = []
        act: dict[str, object] = {"type": "LegalResource"}
        for part in parts:
            if part.startswith(("http://", "https://")):
                act["url"] = read_url(part)
            elif is_date(part):
                act["dateDocument"] = read_date(part)
            else:
                names.append(part)
        if not names or len(names) > 2:
            raise CellError(
                f"'{entry}' is not a legal act; write name | identifier | date | web address, "
                "with only the name required (for example: Ley 1712 de 2014 | 2014-03-06)"
            )
        act["title"] = {language: names[0]}
        if len(names) == 2:
            act["identifier"] = names[1]
        acts.append(
            {
                key: act[key]
                for key in ("type", "title", "identifier", "url", "dateDocument")
                if key in act
            }
        )
    return acts
