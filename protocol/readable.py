"""How a node reads a record from a peer: the part it knows, and what it set aside.

docs/DESIGN.md "Evolution": vocabulary additions are additive within `citynode/v1`, so a record
signed by a newer node may carry terms (or values, such as a new indicator IRI) this node does
not know. Such a record is still verified, stored and relayed exactly as signed; what this node
shows, indexes and compares is its *readable part*: the record with every part it cannot read
set aside. Only publishing on this node (protocol.records.parse_record) rejects unknown terms.

The readable part is found by asking the record model itself: decode, and on the first part the
model refuses, set that part aside and decode again. An unknown key goes; a value of the wrong
shape goes; an object that then misses a required field goes with its whole object (a
measurement without a value); a record whose own required field goes (no title) is not
readable, and is rejected as before.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Final

import msgspec

from protocol import langtags
from protocol.errors import InvalidRecord
from protocol.record_errors import clerk_words, guess_id
from protocol.records import Record

_AT: Final = re.compile(r" - at `(?P<key>key` in `)?\$(?P<path>[^`]*)`$")
_STEP: Final = re.compile(r"\.([^.\[\]]+)|\[(\d+|\.\.\.)\]")
#: A record has a few dozen fields; past this many set-asides something else is wrong.
MAX_SET_ASIDE: Final = 200
_typed: msgspec.json.Decoder[Record] = msgspec.json.Decoder(Record)
_plain = msgspec.json.Decoder()


class Readable(msgspec.Struct, frozen=True, kw_only=True):
    """A peer's record as this node reads it."""

    record: Record
    #: JSON paths of what was set aside ("colour", "measurements[0].uncertainty").
    ignored: tuple[str, ...] = ()

    @property
    def document(self) -> dict[str, Any]:
        """The readable part as plain JSON values (what pages, search and comparisons use)."""
        result: dict[str, Any] = msgspec.to_builtins(self.record)
        return result


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for name, index in _STEP.findall(path):
        if name:
            steps.append(name)
        elif index == "...":
            steps.append("...")
        else:
            steps.append(int(index))
    return steps


def _text_ok(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(_text_ok(item) for item in value)
    return isinstance(value, str) and 0 < len(value) <= 20_000


def _prune_map(document: Any, steps: list[str | int]) -> bool:
    """In the language map at `steps`, drop the entries with a bad tag or a bad text; False if
    none is bad (then the whole map is set aside)."""
    target = document
    for step in steps:
        try:
            target = target[step]
        except (KeyError, IndexError, TypeError):
            return False
    if not isinstance(target, dict):
        return False
    bad = [k for k, v in target.items() if not langtags.is_language_tag(k) or not _text_ok(v)]
    for key in bad:
        del target[key]
    return bool(bad) and bool(target)


def _remove(document: Any, steps: list[str | int], in_key: bool) -> bool:
    """Delete the value at `steps`; False when it is the whole record or cannot be found."""
    if "..." in steps or in_key:
        # msgspec names a map's key or value only as `key in $.title` or `$.title[...]`: drop
        # the entries that are wrong, or else the whole map.
        steps = steps[: steps.index("...")] if "..." in steps else steps
        if _prune_map(document, steps):
            return True
    if not steps:
        return False
    parent = document
    for step in steps[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    try:
        del parent[last]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _path(steps: list[str | int]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) or step == "..." else f".{step}"
    return text.lstrip(".")


def read_record(document: dict[str, Any]) -> Readable:
    """The readable part of a peer's record; `InvalidRecord` if not even that can be read."""
    if not isinstance(document, dict):
        raise InvalidRecord("a record must be a JSON object", rule="object")
    working: dict[str, Any] | None = None
    ignored: list[str] = []
    while True:
        try:
            record: Record = msgspec.convert(working or document, Record)
        except msgspec.ValidationError as exc:
            text = str(exc)
            found = _AT.search(text)
            steps = _steps(found.group("path")) if found else []
            if text.startswith("Object contains unknown field"):
                steps.append(text.split("`")[1])
            elif text.startswith("Object missing required field"):
                pass  # the object that misses it goes (steps already name it)
            if working is None:
                working = copy.deepcopy(document)
            in_key = bool(found and found.group("key"))
            if len(ignored) >= MAX_SET_ASIDE or not _remove(working, steps, in_key):
                raise clerk_words(exc, guess_id(document)) from None
            ignored.append(_path(steps))
            continue
        return Readable(record=record, ignored=tuple(ignored))


def read_record_json(data: bytes) -> Readable:
    """`read_record` of a record's JSON bytes (as stored): one typed decode when this node knows
    every part, which is the common case, and the set-aside walk only when it does not."""
    try:
        return Readable(record=_typed.decode(data))
    except msgspec.ValidationError:
        pass
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidRecord("the record is not valid JSON", rule="json") from None
    return read_record(_plain.decode(data))
