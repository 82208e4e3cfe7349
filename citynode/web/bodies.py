"""Request bodies: JSON decoded to the Struct a route declares, every failure a 4xx.

msgspec raises more than `DecodeError` on hostile input: `RecursionError` for JSON nested deeper
than its stack allows (a thousand `[`), `UnicodeDecodeError` for bytes that are not UTF-8 inside a
string. Each becomes a 400 in the error shape here, so a handler never sees them (issue 7).
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

import msgspec
from aiohttp import web

from citynode.errors import BadRequest

T = TypeVar("T")


@overload
def decode_json(raw: bytes, kind: type[T], expected: str = "") -> T: ...
@overload
def decode_json(raw: bytes) -> Any: ...


def decode_json(raw: bytes, kind: Any = Any, expected: str = "") -> Any:
    """`raw` as `kind` (any JSON without one); `BadRequest` names what is wrong (and
    `expected`, the shape wanted)."""
    hint = f"; expected {expected}" if expected else ""
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"the body does not have the expected shape: {exc}{hint}") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}{hint}", rule="json") from None
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid JSON: it is not UTF-8 text", rule="utf-8") from None
    except RecursionError:
        raise BadRequest(
            "the body is not valid JSON here: it is nested too deeply", rule="depth"
        ) from None


def decode_text(raw: bytes, what: str) -> str:
    """A text body (Turtle, CSV) as str; not UTF-8 is a 400."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"the {what} body is not UTF-8 text (byte {exc.start} is not valid)", rule="utf-8"
        ) from None


async def read_json(request: web.Request, kind: type[T], expected: str = "") -> T:
    """The request's body as `kind`; an empty body is read as `{}`."""
    return decode_json(await request.read() or b"{}", kind, expected)
