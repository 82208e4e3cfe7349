"""RFC 8785 JSON Canonicalization Scheme (JCS): one value, one byte string.

`canonicalize` is the hash input of every `eddsa-jcs-2022` proof, so it must agree byte for byte
with every other conformant implementation. msgspec does the heavy lifting (sorted keys, RFC 8785
string escaping, UTF-8); a pre-pass over the value fixes what msgspec's encoder does differently:

* numbers (RFC 8785 section 3.2.2.3): floats are written as ECMAScript `Number.prototype.toString`
  writes them (`1.0` -> `1`, `1e21` -> `1e+21`, `1e20` -> `100000000000000000000`, `-0.0` -> `0`);
  NaN and the infinities have no JSON form;
* integers (RFC 8785 sections 3.1 and 3.2.2.3, I-JSON RFC 7493 section 2.2): JCS numbers are
  IEEE 754 doubles. Integers within +-(2**53 - 1) are written as they are; a larger one is
  accepted only when a double holds it exactly (2**53, 10**17), and is then written as that
  double is (`1e+21`), as a JavaScript implementation would after `JSON.parse`; any other
  (2**53 + 1, 10**30) would be silently rounded by other implementations, so it is refused;
* key order (RFC 8785 section 3.2.3): keys sort by their UTF-16 code units; msgspec sorts by code
  point, which differs only when a key holds a character beyond U+FFFF, so only such objects take
  the slow path;
* strings (RFC 8785 section 3.2.2.2): msgspec already escapes exactly `"`, `\\`, the short forms
  `\\b \\f \\n \\r \\t` and other controls as lowercase `\\u00xx`, and writes the rest as UTF-8;
  a lone surrogate cannot be encoded and is refused.

Only JSON builtins are accepted (dict with str keys, list, tuple, str, int, float, bool, None);
convert Structs with `msgspec.to_builtins` first.
"""

from __future__ import annotations

import math
from typing import Any, Final

import msgspec

from protocol.errors import CanonicalizationError

__all__ = ["MAX_SAFE_INTEGER", "canonicalize", "format_number"]

#: Largest integer an IEEE 754 double holds exactly together with all its neighbours
#: (ECMAScript `Number.MAX_SAFE_INTEGER`; I-JSON RFC 7493 section 2.2).
MAX_SAFE_INTEGER: Final = 2**53 - 1

_encode = msgspec.json.Encoder(order="sorted").encode
_Raw = msgspec.Raw


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Raises `CanonicalizationError` for values JCS cannot represent: NaN, infinities, integers
    no IEEE 754 double holds exactly, lone surrogates, non-string object keys and non-JSON types.
    """
    try:
        return _encode(_prepare(value))
    except RecursionError:
        raise CanonicalizationError(
            "the value is nested too deeply to canonicalize", rule="depth"
        ) from None
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            "text contains a lone UTF-16 surrogate, which has no UTF-8 form (RFC 8785 section "
            "3.2.2.2)",
            rule="lone-surrogate",
        ) from exc


def format_number(x: float) -> str:
    """Serialize a double as ECMAScript `Number.prototype.toString` does (RFC 8785 3.2.2.3).

    Python's `repr` gives the shortest digit string that round-trips, which is the digit string
    ECMA-262 section 6.1.6.1.20 asks for; only the layout (where the point and exponent go)
    differs, and that is what this function redoes.
    """
    if x != x or x in (math.inf, -math.inf):
        raise CanonicalizationError(
            f"the number {x!r} has no JSON form (RFC 8785 section 3.2.2.3)", rule="number"
        )
    if x == 0.0:
        return "0"  # also -0.0: ECMAScript writes both zeros as "0"
    ax = abs(x)
    if ax < 9007199254740992.0 and x == int(x):
        # Integral and exact: the shortest digits are the integer's own digits.
        return str(int(x))
    if 1e-4 <= ax < 9007199254740992.0:
        # Not integral (the branch above took those), so `repr` writes a plain decimal here,
        # exactly as ECMAScript does.
        return repr(x)
    return _layout(x)


def _layout(x: float) -> str:
    """Place the shortest round-trip digits of `x` per ECMA-262 Number::toString steps 6-12."""
    text = repr(abs(x))
    mantissa, _, exp_text = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    full = whole + frac
    stripped = full.lstrip("0")
    # value = 0.DIGITS x 10**n
    n = len(whole) + (int(exp_text) if exp_text else 0) - (len(full) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        sign = "+" if e >= 0 else "-"
        head = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{head}e{sign}{abs(e)}"
    return "-" + body if x < 0 else body


def _number(x: float) -> msgspec.Raw:
    return _Raw(format_number(x).encode("ascii"))


def _big_int(n: int) -> msgspec.Raw:
    """An integer beyond +-MAX_SAFE_INTEGER: written as its double if that is exact."""
    try:
        as_double = float(n)
    except OverflowError:
        as_double = math.inf
    if as_double != n:
        raise CanonicalizationError(
            f"the integer {n} has no exact IEEE 754 double form; JSON numbers outside "
            f"+-{MAX_SAFE_INTEGER} must be doubles (RFC 8785 section 3.2.2.3, RFC 7493 section "
            "2.2); send it as a string",
            rule="integer-range",
        )
    return _number(as_double)


def _prepare(value: Any) -> Any:
    """Return `value`, or a copy where what msgspec would write differently is pre-encoded."""
    t = type(value)
    if t is dict:
        return _prepare_dict(value)
    if t is list or t is tuple:
        return _prepare_list(value)
    if t is str or t is bool or value is None:
        return value
    if t is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _big_int(value)
    if t is float:
        return _number(value)
    return _prepare_other(value)


def _prepare_dict(d: dict[Any, Any]) -> Any:
    # Hot loop: scalars are handled inline; only containers and floats cost a call.
    out: dict[str, Any] | None = None
    utf16 = False
    for key, item in d.items():
        if type(key) is not str:
            raise CanonicalizationError(
                f"object key {key!r} is not a string (RFC 8785 section 3.2.3)", rule="key-type"
            )
        if not key.isascii() and max(key) > "\uffff":
            utf16 = True
        t = type(item)
        if t is str or t is bool or item is None:
            continue
        if t is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            new = _big_int(item)
        elif t is dict:
            new = _prepare_dict(item)
        elif t is list:
            new = _prepare_list(item)
        elif t is float:
            new = _number(item)
        else:
            new = _prepare(item)
        if new is not item:
            if out is None:
                out = dict(d)
            out[key] = new
    result = d if out is None else out
    if utf16:
        return _utf16_sorted(result)
    return result


def _prepare_list(items: list[Any] | tuple[Any, ...]) -> Any:
    out: list[Any] | None = None
    for i, item in enumerate(items):
        t = type(item)
        if t is str or t is bool or item is None:
            continue
        if t is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            new = _big_int(item)
        elif t is dict:
            new = _prepare_dict(item)
        elif t is list:
            new = _prepare_list(item)
        elif t is float:
            new = _number(item)
        else:
            new = _prepare(item)
        if new is not item:
            if out is None:
                out = list(items)
            out[i] = new
    return items if out is None else out


def _utf16_sorted(d: dict[str, Any]) -> msgspec.Raw:
    """Encode an object whose keys need UTF-16 code-unit order (RFC 8785 section 3.2.3).

    Its values are already prepared; they are encoded one by one and joined in the right order.
    """
    try:
        ordered = sorted(d.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        parts = [_encode(k) + b":" + _encode(v) for k, v in ordered]
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(
            "an object key contains a lone UTF-16 surrogate (RFC 8785 section 3.2.2.2)",
            rule="lone-surrogate",
        ) from exc
    return _Raw(b"{" + b",".join(parts) + b"}")


def _prepare_other(value: Any) -> Any:
    """Subclasses of JSON builtins (str, int enums) become the builtin; the rest is refused."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return _prepare(int(value))
    if isinstance(value, float):
        return _number(float(value))
    if isinstance(value, dict):
        return _prepare_dict(dict(value))
    if isinstance(value, list | tuple):
        return _prepare_list(list(value))
    if isinstance(value, msgspec.Raw):
        raise CanonicalizationError("pre-encoded JSON cannot be canonicalized", rule="type")
    raise CanonicalizationError(
        f"a {type(value).__name__} is not a JSON value; convert it to builtins first",
        rule="type",
    )
