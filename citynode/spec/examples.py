"""The worked examples inside docs/protocol.md, and how to read them back out.

An example in the spec is a fenced block between two markers:

    <!-- example: NAME -->
    ```json
    ...
    ```
    <!-- end example -->

`render_protocol` rewrites every such block from `EXAMPLES` (the bytes come from the test
vectors, so they are real signatures); `read_examples` returns the blocks as the spec holds them,
which is what tests/test_protocol_examples.py verifies. An HTTP example is the request as sent,
head and body: `METHOD TARGET HTTP/1.1`, header lines, a blank line, the body (no final line
break); the target URI is `https://` + Host + TARGET.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from citynode.conformance.report import REQUIREMENTS
from citynode.spec.record_vectors import record_vectors
from citynode.spec.request_vectors import request_vectors
from citynode.spec.vector_identities import BASE_URL, DID, MEDELLIN, NOW
from protocol.messages import (
    ChangesPage,
    DigestResponse,
    Endpoints,
    InboxNotice,
    Limits,
    NodeDescriptor,
    OriginDigest,
    PeerRequest,
    PeerResponse,
    encode_message,
    origin_digest,
)

_BLOCK: Final = re.compile(
    r"<!-- example: (?P<name>[a-z0-9-]+) -->\n```(?P<lang>[a-z]*)\n(?P<body>.*?)```\n"
    r"<!-- end example -->",
    re.S,
)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _message(message: Any) -> str:
    return _json(msgspec.json.decode(encode_message(message)))


def _record(name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in record_vectors() if v["name"] == name)
    return found


def _request(name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in request_vectors() if v["name"] == name)
    return found


def http_text(request: dict[str, Any]) -> str:
    """A request vector as the HTTP/1.1 message it stands for."""
    url = urlsplit(request["url"])
    target = url.path + (f"?{url.query}" if url.query else "")
    lines = [f"{request['method']} {target} HTTP/1.1", f"Host: {url.netloc}"]
    lines += [f"{name}: {value}" for name, value in request["headers"]]
    text = "\n".join(lines) + "\n"
    if request["body"] is not None:
        text += "\n" + request["body"] + "\n"
    return text


def parse_http(text: str) -> tuple[str, str, list[tuple[str, str]], bytes | None]:
    """(method, target URI, header lines, body) of an HTTP example from the spec."""
    head, _, body = text.partition("\n\n")
    first, *lines = head.rstrip("\n").split("\n")
    method, target, _ = first.split(" ")
    headers = [(name, value) for name, _, value in (line.partition(": ") for line in lines)]
    host = next(value for name, value in headers if name.lower() == "host")
    return method, f"https://{host}{target}", headers, (body[:-1].encode() if body else None)


def _descriptor() -> NodeDescriptor:
    base = BASE_URL
    return NodeDescriptor(
        did=DID,
        base_url=base,
        name="Medellín",
        country="CO",
        wikidata="http://www.wikidata.org/entity/Q48278",
        languages=["es", "en"],
        endpoints=Endpoints(
            changes=f"{base}/fed/v1/changes",
            inbox=f"{base}/fed/v1/inbox",
            did_document=f"{base}/.well-known/did.json",
            digest=f"{base}/fed/v1/digest",
            peers=f"{base}/fed/v1/peers",
        ),
        limits=Limits(),
        relays=True,
    )


def _page() -> ChangesPage:
    return ChangesPage(
        node=DID,
        items=[_record("project")["document"], _record("tombstone")["document"]],
        next="1.CQ",
        has_more=False,
    )


def _digest() -> DigestResponse:
    pairs = [(_record("project")["document"]["id"], 2)]
    return DigestResponse(
        node=DID,
        origins=[OriginDigest(origin=DID, count=1, digest=origin_digest(pairs))],
        cursor="1.CQ",
    )


def _intermediate(name: str) -> str:
    values = _record(name)["intermediate"]
    return (
        f"JCS(proof configuration):\n{values['canonicalProofConfig']}\n\n"
        f"SHA-256(JCS(proof configuration)): {values['proofConfigHashHex']}\n"
        f"SHA-256(JCS(document)):            {values['documentHashHex']}\n"
    )


#: name -> (fenced block language, content).
EXAMPLES: Final[dict[str, Callable[[], tuple[str, str]]]] = {
    "did-document": lambda: ("json", _json(MEDELLIN.did_document)),
    "descriptor": lambda: ("json", _message(_descriptor())),
    "record-project": lambda: ("json", _json(_record("project")["document"])),
    "record-project-hashes": lambda: ("text", _intermediate("project")),
    "record-result": lambda: ("json", _json(_record("result-numbers")["document"])),
    "tombstone": lambda: ("json", _json(_record("tombstone")["document"])),
    "request-get-changes": lambda: ("http", http_text(_request("get-changes")["request"])),
    "request-get-changes-base": lambda: ("text", _request("get-changes")["signatureBase"] + "\n"),
    "request-post-notice": lambda: ("http", http_text(_request("post-notice")["request"])),
    "request-post-notice-base": lambda: ("text", _request("post-notice")["signatureBase"] + "\n"),
    "peer-request": lambda: ("json", _message(PeerRequest(descriptor=_descriptor()))),
    "peer-response": lambda: (
        "json",
        _message(PeerResponse(status="pending", descriptor=_descriptor())),
    ),
    "changes-page": lambda: ("json", _message(_page())),
    "inbox-notice": lambda: ("json", _message(InboxNotice(sender=DID, cursor="1.Kg"))),
    "digest-response": lambda: ("json", _message(_digest())),
    "error": lambda: (
        "json",
        _json(
            {
                "code": "signature_expired",
                "message": "request refused: the signature has expired",
                "detail": {
                    "signer": DID,
                    "expires": NOW - 100,
                    "now": NOW,
                    "reason": "expired",
                },
            }
        ),
    ),
}


_TABLE: Final = re.compile(
    r"<!-- table: (?P<name>[a-z-]+) -->\n(?P<body>.*?)<!-- end table -->", re.S
)


def requirements_table() -> str:
    """The conformance kit's requirements (docs/protocol.md 12.2), from the kit itself."""
    rows = ["| Id | Section | Requirement |", "|---|---|---|"]
    rows += [f"| `{r.id}` | {r.section} | {r.text} |" for r in REQUIREMENTS]
    return "\n".join(rows) + "\n"


def read_table(text: str, name: str) -> list[list[str]]:
    """The rows (cells, stripped, without the header) of a marked table of the spec."""
    match = next((m for m in _TABLE.finditer(text) if m["name"] == name), None)
    if match is None:
        raise KeyError(f"docs/protocol.md has no table {name}")
    lines = [line for line in match["body"].splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def render_protocol(text: str) -> str:
    """docs/protocol.md with every example block rewritten from `EXAMPLES`, and the kit's
    requirements table from the kit."""

    def block(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in EXAMPLES:
            raise KeyError(f"docs/protocol.md names an example the generator lacks: {name}")
        lang, body = EXAMPLES[name]()
        return f"<!-- example: {name} -->\n```{lang}\n{body}```\n<!-- end example -->"

    def table(match: re.Match[str]) -> str:
        if match["name"] != "requirements":
            return match.group(0)
        return f"<!-- table: requirements -->\n{requirements_table()}<!-- end table -->"

    return _TABLE.sub(table, _BLOCK.sub(block, text))


def read_examples(text: str) -> dict[str, tuple[str, str]]:
    """name -> (language, content) of every example block in the spec, as written there."""
    found: dict[str, tuple[str, str]] = {}
    for match in _BLOCK.finditer(text):
        if match["name"] in found:
            raise ValueError(f"docs/protocol.md has two examples named {match['name']}")
        found[match["name"]] = (match["lang"], match["body"])
    return found
