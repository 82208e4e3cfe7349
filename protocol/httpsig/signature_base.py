"""Component values and the signature base of a request (RFC 9421 section 2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import unquote_to_bytes, urlsplit

from protocol.errors import ComponentUnavailable, MalformedSignature
from protocol.structured_fields import InnerList, Item, Token, serialize_inner_list, serialize_item

__all__ = ["Headers", "component_value", "header_value", "signature_base"]

#: Request headers: any mapping whose `items()` yields every field line (a dict, or aiohttp's
#: `CIMultiDictProxy`, where repeated fields appear once per line).
Headers = Mapping[str, str]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
# application/x-www-form-urlencoded percent-encode set (WHATWG URL), for @query-param values.
_FORM_SAFE: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")


def _field_lines(headers: Headers, name: str) -> list[str]:
    return [value for key, value in headers.items() if key.lower() == name]


def header_value(headers: Headers, name: str) -> str | None:
    # RFC 9421 section 2.1: strip each field line, replace obs-fold, join with ", ".
    lines = _field_lines(headers, name)
    if not lines:
        return None
    cleaned = []
    for line in lines:
        folded = " ".join(part.strip(" \t") for part in line.replace("\r\n", "\n").split("\n"))
        cleaned.append(folded.strip(" \t"))
    return ", ".join(cleaned)


def _authority(scheme: str, url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname
    try:
        port = parts.port
    except ValueError:
        raise ComponentUnavailable(
            "the target URI has an invalid port", component="@authority"
        ) from None
    if not host:
        raise ComponentUnavailable("the target URI has no host", component="@authority")
    # RFC 9421 section 2.2.3: lowercase host, default port omitted (RFC 9110 section 4.2.3).
    text = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        text += f":{port}"
    return text


def _query_param(query: str, name: str) -> str:
    # RFC 9421 section 2.2.8: parse as application/x-www-form-urlencoded, re-encode the value.
    def decode(text: str) -> bytes:
        return unquote_to_bytes(text.replace("+", " "))

    def encode(raw: bytes) -> str:
        return "".join(chr(b) if b in _FORM_SAFE else f"%{b:02X}" for b in raw)

    wanted = decode(name)
    values = []
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        if decode(key) == wanted:
            values.append(encode(decode(value)))
    if len(values) != 1:
        # A missing or repeated parameter cannot be signed (section 2.2.8).
        raise ComponentUnavailable(
            f"query parameter {name!r} occurs {len(values)} times", component="@query-param"
        )
    return values[0]


def component_value(method: str, url: str, headers: Headers, component: Item) -> str:
    """The value of one covered component (RFC 9421 sections 2.1 and 2.2) of a request."""
    name = component.value
    if not isinstance(name, str) or isinstance(name, Token):
        raise MalformedSignature("component identifiers must be strings", component=str(name))
    params = component.params
    if name.startswith("@"):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if params and not (name == "@query-param" and set(params) == {"name"}):
            raise ComponentUnavailable(
                f"component {name} with parameters {sorted(params)} is not supported",
                component=name,
            )
        match name:
            case "@method":
                return method
            case "@target-uri":
                return url
            case "@authority":
                return _authority(scheme, url)
            case "@scheme":
                return scheme
            case "@request-target":
                return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            case "@path":
                return parts.path or "/"
            case "@query":
                return f"?{parts.query}"
            case "@query-param":
                wanted = params.get("name")
                if not isinstance(wanted, str):
                    raise MalformedSignature("@query-param needs a string name", component=name)
                return _query_param(parts.query, wanted)
            case _:
                raise ComponentUnavailable(f"unknown derived component {name}", component=name)
    if name != name.lower() or not name:
        raise MalformedSignature(f"field names must be lowercase: {name!r}", component=name)
    if params:
        raise ComponentUnavailable(
            f"field {name} with parameters {sorted(params)} is not supported", component=name
        )
    value = header_value(headers, name)
    if value is None:
        raise ComponentUnavailable(f"the request has no {name} field to verify", component=name)
    return value


def signature_base(method: str, url: str, headers: Headers, signature_input: InnerList) -> bytes:
    """The signature base (RFC 9421 section 2.5) for the covered components and parameters.

    One line per component, `"identifier": value`, then `"@signature-params": ` followed by the
    serialized inner list; lines joined by LF, no trailing newline. The base must be ASCII.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for component in signature_input.items:
        identifier = serialize_item(component)
        if identifier in seen:
            # Section 2.5 step 2.1: a component may be covered only once.
            raise MalformedSignature(f"component {identifier} is covered twice")
        seen.add(identifier)
        value = component_value(method, url, headers, component)
        if "\n" in value or "\r" in value:
            raise ComponentUnavailable(
                f"component {identifier} contains a line break", component=identifier
            )
        lines.append(f"{identifier}: {value}")
    # Section 2.3 and 2.5 step 3: the parameters line is always last.
    lines.append(f'"@signature-params": {serialize_inner_list(signature_input)}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        # Field values outside ASCII would be signed differently by other implementations.
        raise ComponentUnavailable("a covered component is not ASCII") from None
