"""UCUM unit codes: read them and convert values between them (case-sensitive UCUM, c/s).

A measurement names its unit with a UCUM code (The Unified Code for Units of Measure,
https://ucum.org/ucum, section 2 "Syntax Rules") so two cities' figures can be lined up: `%` and
`1`, `{person}` and `10*3.{person}` (thousands of people), `Mbit/s` and `kbit/s`. This module
reads the part of UCUM that practice indicators use: the metric prefixes, the base units of
length, mass, time and information, the common time and ratio units, integer factors and
`10*n`, multiplication (`.`), division (`/`), exponents and parentheses.

Annotations (`{person}`, `{household}`) are stricter here than in UCUM. UCUM gives them no
meaning (`{person}` equals `1`), which would let "households connected" be compared with
"people trained". Here an annotation names what is counted, so `{person}` converts to
`10*3.{person}` but never to `{household}` or to `1`.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from protocol.errors import ProtocolError


class UnitError(ProtocolError):
    """A unit code that is not UCUM, or two units that do not convert."""

    code = "invalid_unit"


class Unit(NamedTuple):
    """A unit as a factor of the base units and the powers of those base units."""

    factor: float
    dims: tuple[tuple[str, int], ...]


def _unit(factor: float, **dims: int) -> Unit:
    return Unit(factor, tuple(sorted(dims.items())))


# UCUM section 3, "Prefixes" (the ones in use; `da` is the only two-letter one).
_PREFIXES: Final = {
    "Y": 1e24, "Z": 1e21, "E": 1e18, "P": 1e15, "T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3,
    "h": 1e2, "da": 1e1, "d": 1e-1, "c": 1e-2, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12,
}  # fmt: skip
# Metric atoms take prefixes (UCUM tables "base units" and "SI units", "units used in
# information technology"). `L` is the litre, `ar` the are (so `ha` is the hectare).
_METRIC: Final = {
    "m": _unit(1, m=1),
    "g": _unit(1, g=1),
    "s": _unit(1, s=1),
    "L": _unit(1e-3, m=3),
    "l": _unit(1e-3, m=3),
    "ar": _unit(100, m=2),
    "t": _unit(1e6, g=1),
    "bit": _unit(1, bit=1),
    "By": _unit(8, bit=1),
}
_DAY: Final = 86_400.0
_JULIAN_YEAR: Final = 365.25 * _DAY
# Non-metric atoms (no prefixes). `a` and `mo` are UCUM's mean Julian year and month.
_PLAIN: Final = {
    "1": _unit(1),
    "%": _unit(1e-2),
    "[ppth]": _unit(1e-3),
    "[ppm]": _unit(1e-6),
    "min": _unit(60, s=1),
    "h": _unit(3600, s=1),
    "d": _unit(_DAY, s=1),
    "wk": _unit(7 * _DAY, s=1),
    "mo": _unit(_JULIAN_YEAR / 12, s=1),
    "a": _unit(_JULIAN_YEAR, s=1),
}
_SYMBOL: Final = re.compile(r"\[[^\[\]]+\]|[A-Za-z%]+")
_EXPONENT: Final = re.compile(r"[+-]?\d+")
_DIGITS: Final = re.compile(r"\d+")
_ANNOTATION: Final = re.compile(r"\{([^{}]*)\}")
MAX_LENGTH: Final = 100


def _combine(left: Unit, right: Unit, sign: int) -> Unit:
    dims = dict(left.dims)
    for name, power in right.dims:
        dims[name] = dims.get(name, 0) + sign * power
    factor = left.factor * right.factor if sign > 0 else left.factor / right.factor
    return Unit(factor, tuple(sorted((k, v) for k, v in dims.items() if v)))


def _power(unit: Unit, exponent: int) -> Unit:
    return Unit(unit.factor**exponent, tuple((k, v * exponent) for k, v in unit.dims))


class _Reader:
    def __init__(self, code: str) -> None:
        self.code = code
        self.at = 0

    def fail(self, why: str) -> UnitError:
        message = f"'{self.code}' is not a UCUM unit code: {why}"
        return UnitError(message, rule="ucum", unit=self.code)

    def peek(self) -> str:
        return self.code[self.at] if self.at < len(self.code) else ""

    def term(self) -> Unit:
        if self.peek() == "/":
            self.at += 1
            unit = _combine(_unit(1), self.component(), -1)
        else:
            unit = self.component()
        while self.peek() in (".", "/"):
            sign = 1 if self.peek() == "." else -1
            self.at += 1
            unit = _combine(unit, self.component(), sign)
        return unit

    def component(self) -> Unit:
        char = self.peek()
        if char == "(":
            self.at += 1
            unit = self.term()
            if self.peek() != ")":
                raise self.fail(f"a '(' at position {self.at} is never closed")
            self.at += 1
            return self._exponent(unit)
        if char == "{":
            return self._annotation(_unit(1))
        if self.code.startswith(("10*", "10^"), self.at):
            self.at += 3
            found = _EXPONENT.match(self.code, self.at)
            if found is None:
                raise self.fail("10* needs an exponent, as in 10*3 (a thousand)")
            self.at = found.end()
            return self._annotation(_unit(10.0 ** int(found.group())))
        digits = _DIGITS.match(self.code, self.at)
        if digits is not None:
            self.at = digits.end()
            return self._annotation(_unit(float(digits.group())))
        symbol = _SYMBOL.match(self.code, self.at)
        if symbol is None:
            where = f"'{char}' at position {self.at + 1}" if char else "the end"
            raise self.fail(f"a unit was expected at {where}")
        self.at = symbol.end()
        unit = self._exponent(self._atom(symbol.group()))
        return self._annotation(unit)

    def _atom(self, symbol: str) -> Unit:
        if symbol in _PLAIN:
            return _PLAIN[symbol]
        if symbol in _METRIC:
            return _METRIC[symbol]
        for size in (2, 1):
            prefix, rest = symbol[:size], symbol[size:]
            if prefix in _PREFIXES and rest in _METRIC:
                base = _METRIC[rest]
                return Unit(_PREFIXES[prefix] * base.factor, base.dims)
        raise self.fail(f"'{symbol}' is not a unit this node knows")

    def _exponent(self, unit: Unit) -> Unit:
        found = _EXPONENT.match(self.code, self.at)
        if found is None:
            return unit
        self.at = found.end()
        return _power(unit, int(found.group()))

    def _annotation(self, unit: Unit) -> Unit:
        found = _ANNOTATION.match(self.code, self.at)
        if found is None:
            return unit
        self.at = found.end()
        name = " ".join(found.group(1).lower().split())
        if not name:
            raise self.fail("an annotation {...} names what is counted, e.g. {person}")
        return _combine(unit, _unit(1, **{"{" + name + "}": 1}), 1)


def parse(code: str) -> Unit:
    """The unit a UCUM code stands for; `UnitError` naming the problem if it is not one."""
    if not code or len(code) > MAX_LENGTH or code != code.strip():
        raise UnitError(
            f"'{code}' is not a UCUM unit code (write it without spaces, e.g. {{person}} or %)",
            rule="ucum",
            unit=code,
        )
    reader = _Reader(code)
    unit = reader.term()
    if reader.at != len(code):
        raise reader.fail(f"unexpected '{code[reader.at]}' at position {reader.at + 1}")
    return unit


def is_unit(code: str) -> bool:
    try:
        parse(code)
    except UnitError:
        return False
    return True


def factor(source: str, target: str) -> float:
    """What a value in `source` is multiplied by to be in `target`; `UnitError` if the two
    measure different things (`{household}` and `{person}`, `%` and `{person}`)."""
    a, b = parse(source), parse(target)
    if a.dims != b.dims:
        raise UnitError(
            f"a value in '{source}' cannot be converted to '{target}': they measure different "
            "things",
            rule="unit-converts",
            unit=source,
            target=target,
        )
    return a.factor / b.factor


def convert(value: float, source: str, target: str) -> float:
    """`value` in `source` expressed in `target` (see `factor`)."""
    return value * factor(source, target)
