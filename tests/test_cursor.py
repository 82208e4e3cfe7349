"""The changes-feed cursor: opaque, canonical, stateless."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.cursor import (
    MAX_PAGE_SIZE,
    MAX_SEQUENCE,
    START,
    clamp_limit,
    cursor_position,
    decode_cursor,
    encode_cursor,
)
from protocol.errors import InvalidCursor


def test_known_values() -> None:
    assert START == encode_cursor(0) == "1.AA"
    assert encode_cursor(1) == "1.AQ"
    assert encode_cursor(256) == "1.AQA"
    assert encode_cursor(MAX_SEQUENCE) == "1.f_________8"
    assert cursor_position(None) == cursor_position("") == 0
    assert cursor_position("1.AQA") == 256


@given(st.integers(0, MAX_SEQUENCE))
def test_round_trip_and_order(seq: int) -> None:
    cursor = encode_cursor(seq)
    assert decode_cursor(cursor) == seq
    assert cursor.isascii() and all(c.isalnum() or c in "._-" for c in cursor)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "1.",
        "1.A",
        "2.AQ",
        "AQ",
        "1.AR",
        "1.AAE",
        "1.AQ==",
        "1.A+",
        "1.gAAAAAAAAAAA",
        "1.AQ ",
        "x" * 500,
    ],
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(garbage)


@given(st.text(max_size=30))
def test_fuzz_decode_raises_only_invalid_cursor(text: str) -> None:
    try:
        seq = decode_cursor(text)
    except InvalidCursor:
        return
    assert encode_cursor(seq) == text


@pytest.mark.parametrize("bad", [-1, MAX_SEQUENCE + 1, True, 1.0])
def test_encode_refuses_out_of_range(bad: object) -> None:
    with pytest.raises(InvalidCursor):
        encode_cursor(bad)  # type: ignore[arg-type]


def test_clamp_limit() -> None:
    assert clamp_limit(None) == 100
    assert clamp_limit(0) == 1
    assert clamp_limit(-5) == 1
    assert clamp_limit(50) == 50
    assert clamp_limit(10**9) == MAX_PAGE_SIZE
    assert clamp_limit(None, default=10, maximum=5) == 5
