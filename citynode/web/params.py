"""Parameter readers: a request's query string or path as the Struct its route declares.

A value that does not fit is a 400 naming the parameter, never an exception out of the handler.
Values arrive as text; `msgspec.convert(..., strict=False)` reads "5" as 5 and "true" as True.
A field typed as a list takes every repetition of its parameter (`?type=Project&type=Policy`);
any other field takes the first. An empty value counts as absent (`?limit=` is the default),
and parameters the route does not declare are ignored, as browsers and proxies add their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

import msgspec
from aiohttp import web
from multidict import MultiMapping

from citynode.errors import BadRequest

S = TypeVar("S", bound=msgspec.Struct)
_AT = re.compile(r" - at `\$\.?(?P<name>[^`\[]*)[^`]*`$")
#: msgspec's words for a failed check -> words for a person reading the error.
_WORDS = (
    (re.compile(r"^Expected `int`(, got `\w+`)?$"), "must be a whole number"),
    (re.compile(r"^Expected `int` >= (?P<n>-?\d+)$"), "must be at least {n}"),
    (re.compile(r"^Expected `int` <= (?P<n>-?\d+)$"), "must be at most {n}"),
    (re.compile(r"^Expected `str` matching regex .*$"), "does not have the expected form"),
    (re.compile(r"^Expected `str` of length <= (?P<n>\d+)$"), "must be at most {n} characters"),
    (re.compile(r"^Invalid enum value (?P<v>.*)$"), "cannot be {v}"),
)


_MANY = (msgspec.inspect.ListType, msgspec.inspect.VarTupleType, msgspec.inspect.SetType)


@cache
def _fields(kind: type[msgspec.Struct]) -> tuple[tuple[str, bool], ...]:
    """(parameter name, takes several values) of each field."""
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    out = []
    for field in info.fields:
        kinds = [_bare(field.type)]
        if isinstance(kinds[0], msgspec.inspect.UnionType):
            kinds = [_bare(t) for t in kinds[0].types]
        out.append((field.encode_name, any(isinstance(t, _MANY) for t in kinds)))
    return tuple(out)


def _bare(kind: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """The type under `Annotated[..., Meta(...)]`."""
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    return kind


def _convert(raw: dict[str, Any], kind: type[S], where: str) -> S:
    try:
        value = msgspec.convert(raw, kind, strict=False)
    except UnicodeEncodeError:
        # Lone surrogates: bytes that were not UTF-8, kept by the URL decoder; a pattern
        # check cannot run on them.
        raise BadRequest(f"a {where} parameter is not valid text (not UTF-8)") from None
    except msgspec.ValidationError as exc:
        text = str(exc)
        found = _AT.search(text)
        name = found.group("name") if found else ""
        reason = _words(text[: found.start()] if found else text, kind, name)
        raise BadRequest(
            f"{where} parameter '{name}' {reason}" if name else f"{where}: {reason}",
            parameter=name or None,
            given=_shown(raw.get(name)) if name else None,
        ) from None
    for name in raw:
        # Lax conversion reads the text "null" as None for an optional field; a parameter that is
        # present has a value (absent is how a query string says "none").
        if getattr(value, name, "") is None:
            raise BadRequest(
                f"{where} parameter '{name}' is not valid: {_shown(raw[name])!r}", parameter=name
            )
    return value


def _words(reason: str, kind: type[msgspec.Struct], name: str) -> str:
    for pattern, words in _WORDS:
        found = pattern.match(reason)
        if found:
            text = words.format(**found.groupdict())
            described = _description(kind, name)
            if text == "does not have the expected form" and described:
                text = f"must be {described}"
            if text.startswith("cannot be") and name:
                text += f" (one of {', '.join(_choices(kind, name))})"
            return text
    return f"is not valid: {reason}"


def _description(kind: type[msgspec.Struct], name: str) -> str:
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        if field.encode_name == name:
            options = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else ()
            for kind_info in (field.type, *options):
                if isinstance(kind_info, msgspec.inspect.Metadata) and kind_info.extra_json_schema:
                    return str(kind_info.extra_json_schema.get("description", ""))
    return ""


def _choices(kind: type[msgspec.Struct], name: str) -> list[str]:
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    for field in info.fields:
        if field.encode_name == name:
            found = _bare(field.type)
            if isinstance(found, msgspec.inspect.ListType):
                found = _bare(found.item_type)
            if isinstance(found, msgspec.inspect.LiteralType):
                return [str(v) for v in found.values]
    return []


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, list):
        return [_shown(v) for v in value[:10]]
    return value


def read_query(request: web.Request, kind: type[S]) -> S:
    """The request's query string as `kind` (a Struct with one field per parameter)."""
    return query_from(request.query, kind)


def query_from(query: MultiMapping[str], kind: type[S]) -> S:
    raw: dict[str, Any] = {}
    for name, many in _fields(kind):
        if many:
            values = [v for v in query.getall(name, []) if v != ""]
            if values:
                raw[name] = values
        else:
            value = query.get(name)
            if value is not None and value != "":
                raw[name] = value
    return _convert(raw, kind, "query")


def read_path(request: web.Request, kind: type[S]) -> S:
    """The path parameters (already matched by the route's regex) as `kind`."""
    return path_from(request.match_info, kind)


def path_from(match: Mapping[str, str], kind: type[S]) -> S:
    return _convert(dict(match), kind, "path")
