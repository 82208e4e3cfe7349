"""RFC 8785 canonicalization: published vectors, ECMAScript numbers, and the independent
`rfc8785` package as an oracle."""

from __future__ import annotations

import enum
import json
import math
import struct
from pathlib import Path
from typing import Any

import msgspec
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import CanonicalizationError
from protocol.jcs import MAX_SAFE_INTEGER, canonicalize, format_number

VECTORS = Path(__file__).parent / "vectors" / "jcs"
INPUTS = sorted((VECTORS / "input").glob("*.json"))
NUMBER_LINES = (VECTORS / "es6-numbers-generated.txt").read_text("ascii").splitlines()


# --- published vectors -------------------------------------------------------------------------


@pytest.mark.parametrize("path", INPUTS, ids=[p.stem for p in INPUTS])
def test_vector_byte_exact(path: Path) -> None:
    expected = (VECTORS / "output" / path.name).read_bytes()
    assert expected == bytes.fromhex((VECTORS / "outhex" / f"{path.stem}.txt").read_text())
    assert canonicalize(msgspec.json.decode(path.read_bytes())) == expected
    # The stdlib decoder gives the same value, so the result does not hang on msgspec's decoder.
    assert canonicalize(json.loads(path.read_bytes())) == expected


def test_vector_set_is_complete() -> None:
    assert [p.stem for p in INPUTS] == [
        "arrays",
        "french",
        "structures",
        "unicode",
        "values",
        "weird",
    ]


def test_all_es6_number_cases() -> None:
    assert len(NUMBER_LINES) == 25_015
    failures = []
    for line in NUMBER_LINES:
        hex_bits, expected = line.split(",")
        value = struct.unpack(">d", bytes.fromhex(hex_bits))[0]
        got = canonicalize(value).decode("ascii")
        if got != expected:
            failures.append((hex_bits, expected, got))
    assert failures == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (56.0, "56"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-9, "1.5e-9"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
        (0.1 + 0.2, "0.30000000000000004"),
        (333333333.33333329, "333333333.3333333"),
        (1e16, "10000000000000000"),
    ],
)
def test_number_forms(value: float, text: str) -> None:
    assert format_number(value) == text
    assert canonicalize([value]) == f"[{text}]".encode()


# --- strings and keys ----------------------------------------------------------------------------


def test_string_escaping_is_rfc8785() -> None:
    controls = "".join(chr(c) for c in range(0x20))
    out = canonicalize(controls + '"\\/\x7f\u2028\u2029é😀').decode()
    assert out == (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
        '\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\"\\\\/\x7f\u2028\u2029é😀"'
    )


def test_keys_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 although its code point is higher.
    value = {"\ufb33": 2, "\U0001f600": 1, "a": 0, "\u00f6": 3}
    assert canonicalize(value) == '{"a":0,"\u00f6":3,"\U0001f600":1,"\ufb33":2}'.encode()


def test_utf16_order_in_nested_object_with_floats() -> None:
    value = {"z": [{"\U00010000": 1.0, "\uffff": -0.0, "x": {"y": 1e21}}]}
    assert canonicalize(value) == '{"z":[{"x":{"y":1e+21},"𐀀":1,"\uffff":0}]}'.encode()


def test_input_is_not_modified() -> None:
    value = {"a": [1.0, {"b": 2.5}], "\U0001f600": 1.0}
    snapshot = json.dumps(value)
    canonicalize(value)
    assert json.dumps(value) == snapshot


def test_tuples_and_builtin_subclasses() -> None:
    class Colour(enum.StrEnum):
        RED = "red"

    class Size(enum.IntEnum):
        BIG = 3

    assert canonicalize({"c": Colour.RED, "s": Size.BIG, "t": (1.0, True)}) == (
        b'{"c":"red","s":3,"t":[1,true]}'
    )


def test_safe_integer_bounds_are_accepted() -> None:
    assert canonicalize([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == (
        b"[9007199254740991,-9007199254740991]"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2**53, "9007199254740992"),
        (-(2**53), "-9007199254740992"),
        (10**17, "100000000000000000"),
        (10**21, "1e+21"),
        (2**64, "18446744073709552000"),
    ],
)
def test_large_integers_held_exactly_by_a_double_are_written_as_that_double(
    value: int, text: str
) -> None:
    # What a JavaScript implementation writes after JSON.parse; same bytes as the float.
    assert canonicalize({"n": value}) == f'{{"n":{text}}}'.encode()
    assert canonicalize(value) == canonicalize(float(value))


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        {"deep": [1, {"x": math.nan}]},
        2**53 + 1,
        -(2**53) - 1,
        10**30,
        {"n": [2**64 + 1]},
        2**1100,
        "\ud800",
        {"k": "a\udfffb"},
        {"\ud83d": 1},
        {"\ud800": 1, "\U0001f600": 2},
        "\ud83d\ude00",  # two lone surrogates in Python, not one character
        {1: "int key"},
        {"s": {1, 2}},
        b"bytes",
        msgspec.Raw(b"1"),
    ],
    # Stable ids (a Raw's repr holds its address): pytest-xdist's workers must collect the same.
    ids=lambda value: "Raw(b'1')" if isinstance(value, msgspec.Raw) else repr(value),
)
def test_refused_values(value: Any) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert info.value.message


def test_deep_nesting_is_a_canonicalization_error() -> None:
    value: Any = 1.5
    for _ in range(5000):
        value = {"a": value}
    with pytest.raises(CanonicalizationError, match="nested too deeply"):
        canonicalize(value)


def test_error_messages_name_the_problem() -> None:
    with pytest.raises(CanonicalizationError, match="surrogate"):
        canonicalize({"t": "\udc00"})
    with pytest.raises(CanonicalizationError, match="no exact IEEE 754 double"):
        canonicalize(2**60 + 1)
    with pytest.raises(CanonicalizationError, match="nan"):
        canonicalize(math.nan)


# --- property tests against the independent `rfc8785` package ---------------------------------

# What both implementations accept: safe integers, finite floats, text without surrogates
# (`rfc8785` also refuses the large integers a double holds exactly, which we accept).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
keys = st.text() | st.sampled_from(["\U0001f600", "\ufb33", "\uffff", "\U00010000", "a", "é"])
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_matches_rfc8785_package(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_form_is_a_fixed_point(value: Any) -> None:
    once = canonicalize(value)
    # Read numbers as an ECMAScript parser does: an integer token beyond the safe range is a
    # double (its shortest digits need not name the double exactly, e.g. 54190352004914780).
    again = json.loads(once, parse_int=_es_int)
    assert canonicalize(again) == once


def _es_int(token: str) -> int | float:
    n = int(token)
    return n if -MAX_SAFE_INTEGER <= n <= MAX_SAFE_INTEGER else float(token)


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_and_match_rfc8785(value: float) -> None:
    text = format_number(value)
    assert float(text) == value
    assert text.encode() == rfc8785.dumps(value)
