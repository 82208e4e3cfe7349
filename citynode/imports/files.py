"""Read drafts from files and folders: JSON-LD (.json, .jsonld), Turtle (.ttl) and CSV (.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from citynode import rdf
from citynode.errors import ImportFailed
from citynode.imports.csv_records import read_csv_file
from citynode.imports.csv_table import CsvImportError
from citynode.publishing import require_draft_list
from protocol.errors import InvalidRecord

SUFFIXES = (".json", ".jsonld", ".ttl", ".csv")
#: In a folder, plain .json files are often something else (a node.json, a config): only files
#: named directly are read as .json records.
FOLDER_SUFFIXES = (".jsonld", ".ttl", ".csv")
#: A single import file larger than this is refused before it is read.
MAX_FILE_BYTES = 64 * 1024 * 1024


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, and the record files inside named folders (sorted, recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in FOLDER_SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise ImportFailed(f"{path}: no such file or folder", file=str(path))
    return files


def read_drafts(path: Path, base_url: str) -> list[dict[str, Any]]:
    """The drafts one file holds, with the file named in any error."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportFailed(
            f"{path}: unknown file type '{suffix}'; use .jsonld, .json, .ttl or .csv",
            file=str(path),
        )
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ImportFailed(
            f"{path}: {size} bytes is over the {MAX_FILE_BYTES} byte limit for one file; split it",
            file=str(path),
        )
    try:
        if suffix == ".csv":
            return read_csv_file(path)
        text = path.read_text(encoding="utf-8-sig")
        if suffix == ".ttl":
            return rdf.drafts_from_turtle(text, base_url, str(path))
        try:
            payload = msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            raise ImportFailed(f"{path} is not valid JSON: {exc}", file=str(path)) from None
        return require_draft_list(payload)
    except UnicodeDecodeError as exc:
        raise ImportFailed(f"{path} is not UTF-8 text: {exc}", file=str(path)) from None
    except CsvImportError as exc:
        raise ImportFailed(str(exc), file=str(path)) from None
    except InvalidRecord as exc:
        message = exc.message if exc.message.startswith(str(path)) else f"{path}: {exc.message}"
        raise ImportFailed(message, file=str(path), **exc.detail) from None
