"""RFC 8941 Structured Field Values: the parts HTTP message signatures and digests need.

Parsing follows the algorithms of RFC 8941 section 4.2 step by step (Dictionaries, Lists, Inner
Lists, Parameters and every Bare Item type); serialization follows section 4.1, so that
`serialize_inner_list(parse ...)` is the canonical form RFC 9421 signs as `@signature-params`.

The parser only ever raises `MalformedField`: header values come from strangers.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from protocol.errors import MalformedField

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "Member",
    "Params",
    "Token",
    "parse_dictionary",
    "parse_item",
    "parse_list",
    "serialize_bare_item",
    "serialize_dictionary",
    "serialize_inner_list",
    "serialize_item",
    "serialize_params",
]


class Token(str):
    """An sf-token (RFC 8941 section 3.3.4), kept apart from an sf-string."""

    __slots__ = ()


#: Integer, Decimal, String, Token, Byte Sequence or Boolean (RFC 8941 section 3.3).
BareItem = int | Decimal | str | bytes | bool
Params = dict[str, BareItem]


@dataclass(frozen=True, slots=True)
class Item:
    """A Bare Item with its Parameters (RFC 8941 section 3.3)."""

    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InnerList:
    """An Inner List of Items with its own Parameters (RFC 8941 section 3.1.1)."""

    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Item | InnerList

_INT_MAX: Final = 999_999_999_999_999
_LCALPHA: Final = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS: Final = frozenset("0123456789")
_ALPHA: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ") | _LCALPHA
_B64: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_KEY_RE: Final = re.compile(r"[a-z*][a-z0-9_\-.*]*")
# tchar (RFC 9110 section 5.6.2) plus ":" and "/" (RFC 8941 section 3.3.4).
_TOKEN_RE: Final = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")


class _Parser:
    """A cursor over one field value; each method is one algorithm of RFC 8941 section 4.2."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        # 4.2 step 1-2: ASCII only; leading and trailing SP are discarded.
        if not text.isascii():
            raise MalformedField("a structured field must be ASCII", rule="ascii")
        self.text = text.strip(" ")
        self.pos = 0

    def fail(self, what: str) -> MalformedField:
        return MalformedField(
            f"malformed structured field: {what} at character {self.pos}",
            rule=what,
            position=self.pos,
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and not self.at_end():
            self.pos += 1

    # 4.2.1 Parsing a List
    def list(self) -> list[Member]:
        members: list[Member] = []
        while not self.at_end():
            members.append(self.item_or_inner_list())
            self.skip_ows()
            if self.at_end():
                return members
            if self.peek() != ",":
                raise self.fail("expected ',' between list members")
            self.pos += 1
            self.skip_ows()
            if self.at_end():
                raise self.fail("trailing comma")
        return members

    def item_or_inner_list(self) -> Member:
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    # 4.2.1.2 Parsing an Inner List
    def inner_list(self) -> InnerList:
        if self.peek() != "(":
            raise self.fail("expected '('")
        self.pos += 1
        items: list[Item] = []
        while not self.at_end():
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in inner list")
        raise self.fail("unterminated inner list")

    # 4.2.2 Parsing a Dictionary
    def dictionary(self) -> dict[str, Member]:
        members: dict[str, Member] = {}
        while not self.at_end():
            key = self.key()
            member: Member
            if self.peek() == "=":
                self.pos += 1
                member = self.item_or_inner_list()
            else:
                member = Item(True, self.params())
            # Duplicate keys: the last one wins (RFC 8941 section 3.2).
            members.pop(key, None)
            members[key] = member
            self.skip_ows()
            if self.at_end():
                return members
            if self.peek() != ",":
                raise self.fail("expected ',' between dictionary members")
            self.pos += 1
            self.skip_ows()
            if self.at_end():
                raise self.fail("trailing comma")
        return members

    # 4.2.3 Parsing an Item
    def item(self) -> Item:
        value = self.bare_item()
        return Item(value, self.params())

    # 4.2.3.1 Parsing a Bare Item
    def bare_item(self) -> BareItem:
        c = self.peek()
        if c == "-" or c in _DIGITS:
            return self.number()
        if c == '"':
            return self.string()
        if c == "*" or c in _ALPHA:
            return self.token()
        if c == ":":
            return self.byte_sequence()
        if c == "?":
            return self.boolean()
        raise self.fail("unrecognized item")

    # 4.2.3.2 Parsing Parameters
    def params(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params.pop(key, None)
            params[key] = value
        return params

    # 4.2.3.3 Parsing a Key
    def key(self) -> str:
        match = _KEY_RE.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected a key")
        self.pos = match.end()
        return match.group()

    # 4.2.4 Parsing an Integer or Decimal
    def number(self) -> int | Decimal:
        sign = 1
        if self.peek() == "-":
            sign = -1
            self.pos += 1
        if self.peek() not in _DIGITS or self.at_end():
            raise self.fail("expected a digit")
        start = self.pos
        is_decimal = False
        while not self.at_end():
            c = self.peek()
            if c in _DIGITS:
                self.pos += 1
            elif c == "." and not is_decimal:
                if self.pos - start > 12:
                    raise self.fail("decimal with more than 12 integer digits")
                is_decimal = True
                self.pos += 1
            else:
                break
            if not is_decimal and self.pos - start > 15:
                raise self.fail("integer with more than 15 digits")
            if is_decimal and self.pos - start > 16:
                raise self.fail("decimal longer than 16 characters")
        number = self.text[start : self.pos]
        if not is_decimal:
            return sign * int(number)
        if number.endswith("."):
            raise self.fail("decimal ends with '.'")
        if len(number) - number.index(".") - 1 > 3:
            raise self.fail("decimal with more than 3 fraction digits")
        return sign * Decimal(number)

    # 4.2.5 Parsing a String
    def string(self) -> str:
        self.pos += 1  # the opening DQUOTE
        out: list[str] = []
        while not self.at_end():
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\":
                if self.at_end():
                    raise self.fail("dangling escape in string")
                nxt = self.text[self.pos]
                if nxt not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                out.append(nxt)
                self.pos += 1
            elif c == '"':
                return "".join(out)
            elif not (" " <= c <= "~"):
                raise self.fail("control character in string")
            else:
                out.append(c)
        raise self.fail("unterminated string")

    # 4.2.6 Parsing a Token
    def token(self) -> Token:
        match = _TOKEN_RE.match(self.text, self.pos)
        if match is None:  # pragma: no cover - bare_item checked the first character
            raise self.fail("expected a token")
        self.pos = match.end()
        return Token(match.group())

    # 4.2.7 Parsing a Byte Sequence
    def byte_sequence(self) -> bytes:
        self.pos += 1  # the opening ":"
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        chunk = self.text[self.pos : end]
        if not set(chunk) <= _B64:
            raise self.fail("byte sequence is not base64")
        self.pos = end + 1
        # 4.2.7: parsers SHOULD NOT fail when "=" padding is missing; anything else is an error.
        stripped = chunk.rstrip("=")
        if "=" in stripped or len(chunk) - len(stripped) > 2:
            raise self.fail("misplaced '=' in byte sequence")
        try:
            return base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
        except binascii.Error:
            raise self.fail("byte sequence is not base64") from None

    # 4.2.8 Parsing a Boolean
    def boolean(self) -> bool:
        self.pos += 1  # the "?"
        c = self.peek()
        if c in ("0", "1"):
            self.pos += 1
            return c == "1"
        raise self.fail("boolean must be ?0 or ?1")

    def finish(self) -> None:
        # 4.2 step 6-7: anything left over after the top-level value is an error.
        self.skip_sp()
        if not self.at_end():
            raise self.fail("unexpected characters after the value")


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse an sf-dictionary (RFC 8941 section 4.2.2) such as `Signature-Input`."""
    parser = _Parser(text)
    members = parser.dictionary()
    parser.finish()
    return members


def parse_list(text: str) -> list[Member]:
    """Parse an sf-list (RFC 8941 section 4.2.1)."""
    parser = _Parser(text)
    members = parser.list()
    parser.finish()
    return members


def parse_item(text: str) -> Item:
    """Parse an sf-item (RFC 8941 section 4.2.3)."""
    parser = _Parser(text)
    item = parser.item()
    parser.finish()
    return item


# --- Serialization (RFC 8941 section 4.1) ---


def serialize_bare_item(value: BareItem) -> str:
    """Serialize one Bare Item (RFC 8941 section 4.1.3.1)."""
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "?1" if value else "?0"
    if isinstance(value, int):
        if not -_INT_MAX <= value <= _INT_MAX:
            raise MalformedField("integer out of range for a structured field", rule="integer")
        return str(value)
    if isinstance(value, Decimal):
        return _serialize_decimal(value)
    if isinstance(value, Token):
        if not _TOKEN_RE.fullmatch(value):
            raise MalformedField(f"not a valid token: {value!r}", rule="token")
        return str(value)
    if isinstance(value, str):
        if not all(" " <= c <= "~" for c in value):
            raise MalformedField("strings must be printable ASCII", rule="string")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    raise MalformedField(f"cannot serialize {type(value).__name__}", rule="type")


def _serialize_decimal(value: Decimal) -> str:
    # 4.1.5: round to three fraction digits (half to even), at most 12 integer digits.
    rounded = value.quantize(Decimal("0.001"))
    if abs(rounded) >= Decimal(10) ** 12:
        raise MalformedField("decimal out of range for a structured field", rule="decimal")
    text = f"{rounded:f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def serialize_params(params: Params) -> str:
    """Serialize Parameters (RFC 8941 section 4.1.1.2): `;key` for true, `;key=value` else."""
    out: list[str] = []
    for key, value in params.items():
        if not _KEY_RE.fullmatch(key):
            raise MalformedField(f"not a valid key: {key!r}", rule="key")
        out.append(f";{key}" if value is True else f";{key}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_item(item: Item) -> str:
    """Serialize an Item with its Parameters (RFC 8941 section 4.1.3)."""
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    """Serialize an Inner List (RFC 8941 section 4.1.1.1)."""
    return (
        "("
        + " ".join(serialize_item(i) for i in inner.items)
        + ")"
        + serialize_params(inner.params)
    )


def serialize_dictionary(members: dict[str, Member]) -> str:
    """Serialize a Dictionary (RFC 8941 section 4.1.2)."""
    out: list[str] = []
    for key, member in members.items():
        if not _KEY_RE.fullmatch(key):
            raise MalformedField(f"not a valid key: {key!r}", rule="key")
        if isinstance(member, Item) and member.value is True:
            out.append(key + serialize_params(member.params))
        elif isinstance(member, InnerList):
            out.append(f"{key}={serialize_inner_list(member)}")
        else:
            out.append(f"{key}={serialize_item(member)}")
    return ", ".join(out)
