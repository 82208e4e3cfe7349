"""Hypothesis over every decoder of outside input: each either decodes or raises the error that
becomes a 4xx (`BadRequest`, `Unauthorized`, `NotAcceptable`, a `ProtocolError`), never anything
else (which would be a 500).

Text from HTTP headers arrives as aiohttp decodes it: bytes that are not UTF-8 become lone
surrogates (surrogateescape), so the header strategies include them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict

from citynode import rdf
from citynode.errors import BadRequest, NodeError, NotAcceptable, Unauthorized
from citynode.web import negotiation as neg
from citynode.web.bodies import decode_json, decode_text
from citynode.web.editor import WithdrawBody, bearer_token
from citynode.web.federation import ChangesQuery
from citynode.web.params import path_from, query_from
from citynode.web.peers import PeerBody
from citynode.web.records import FormatQuery, RecordQuery, RecordsQuery, SlugPath, VersionPath
from citynode.web.search import SearchParams, SimilarParams
from protocol.cursor import cursor_position
from protocol.did import split_key_id
from protocol.errors import ProtocolError
from protocol.httpsig.verification import verify_request
from protocol.messages import decode_message
from protocol.records import parse_record_json
from tests.support import RunningNode

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Text as aiohttp hands header values over: any characters, lone surrogates included.
header_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\udcff", "\udcc3", "\x00", "\t", '"', ";", ",", ":", "=", "(", ")"]),
    ),
    max_size=200,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)


def _mutated(document: Any) -> st.SearchStrategy[bytes]:
    raw = msgspec.json.encode(document)
    return st.one_of(
        st.just(raw),
        st.binary(max_size=300),
        st.builds(lambda cut: raw[:cut], st.integers(0, len(raw))),
        st.builds(
            lambda at, junk: raw[:at] + junk + raw[at:],
            st.integers(0, len(raw)),
            st.sampled_from([b"\xff", b"\xc3", b"[" * 3000, b'{"a":' * 2000, b"\x00", b"\\u"]),
        ),
    )


json_bytes = st.one_of(
    json_values.map(msgspec.json.encode),
    json_values.flatmap(_mutated),
    st.binary(max_size=500),
)


@FUZZ
@given(json_bytes)
def test_json_bodies(raw: bytes) -> None:
    for kind in (Any, PeerBody, WithdrawBody):
        with contextlib.suppress(BadRequest):
            decode_json(raw, kind)


@FUZZ
@given(st.binary(max_size=300))
def test_text_bodies(raw: bytes) -> None:
    with contextlib.suppress(BadRequest):
        decode_text(raw, "Turtle")


@FUZZ
@given(json_bytes)
def test_federation_messages(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        decode_message(raw)


@FUZZ
@given(json_bytes)
def test_record_json(raw: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_record_json(raw)


QUERY_TYPES = (
    RecordsQuery,
    RecordQuery,
    FormatQuery,
    SearchParams,
    SimilarParams,
    ChangesQuery,
)
query_names = st.sampled_from(
    [
        *sorted({f.encode_name for kind in QUERY_TYPES for f in msgspec.structs.fields(kind)}),
        "x",
        "",
    ]
)
query_values = st.one_of(
    header_text,
    st.integers().map(str),
    st.sampled_from(["null", "true", "", "1e400", "nan", "-0", "9" * 5000, "[1]", "{}"]),
)


@FUZZ
@given(st.lists(st.tuples(query_names, query_values), max_size=8))
def test_query_strings(pairs: list[tuple[str, str]]) -> None:
    query = MultiDict(pairs)
    for kind in QUERY_TYPES:
        with contextlib.suppress(BadRequest):
            query_from(query, kind)


@FUZZ
@given(header_text, header_text)
def test_path_parameters(slug: str, version: str) -> None:
    for kind, match in (
        (SlugPath, {"slug": slug}),
        (VersionPath, {"slug": slug, "version": version}),
    ):
        with contextlib.suppress(BadRequest):
            path_from(match, kind)


@FUZZ
@given(st.one_of(header_text, st.builds(lambda t: "Bearer " + t, header_text)))
def test_authorization_headers(header: str) -> None:
    try:
        token = bearer_token(header)
    except Unauthorized:
        return
    token.encode("ascii")  # what is looked up is always plain ASCII


@FUZZ
@given(header_text, st.one_of(st.none(), header_text))
def test_accept_headers(accept: str, format_param: str | None) -> None:
    with contextlib.suppress(NotAcceptable):
        neg.choose(accept, neg.RECORD_TYPES, format_param)


@FUZZ
@given(header_text)
def test_cursors_and_key_ids(text: str) -> None:
    for decode in (cursor_position, split_key_id):
        with contextlib.suppress(ProtocolError):
            decode(text)


KEY = Ed25519PrivateKey.generate()
components = st.lists(
    st.sampled_from(['"@method"', '"@target-uri"', '"content-digest"', '"@query"', '"x"', "1"]),
    max_size=4,
).map(" ".join)
numbers = st.one_of(st.integers(-(2**70), 2**70), st.integers(1_700_000_000, 1_800_000_000))
signature_input = st.one_of(
    header_text,
    st.builds(
        lambda comps, created, keyid, nonce, extra: (
            f"sig1=({comps});created={created};keyid={keyid};nonce={nonce}{extra}"
        ),
        components,
        numbers,
        st.one_of(header_text, st.just('"did:web:a.example#key-1"')),
        st.one_of(header_text, st.just('"n1"')),
        st.sampled_from(["", ";alg=ed25519", ";alg=rsa", ";expires=1", ';expires="x"']),
    ),
)
signature = st.one_of(
    header_text,
    st.binary(max_size=80).map(lambda b: f"sig1=:{base64.b64encode(b).decode()}:"),
)
content_digest = st.one_of(
    header_text, st.binary(max_size=40).map(lambda b: f"sha-256=:{base64.b64encode(b).decode()}:")
)


@FUZZ
@given(signature_input, signature, content_digest, st.binary(max_size=50), st.booleans())
def test_request_signature_headers(
    sig_input: str, sig: str, digest: str, body: bytes, with_digest: bool
) -> None:
    headers = {"Signature-Input": sig_input, "Signature": sig}
    if with_digest:
        headers["Content-Digest"] = digest
    with contextlib.suppress(ProtocolError):
        verify_request(
            "POST",
            "http://127.0.0.1:1/fed/v1/inbox",
            headers,
            body,
            lambda _key_id: KEY.public_key(),
            1_750_000_000,
            seen_nonce=lambda _nonce, _until: False,
        )


turtle_terms = st.sampled_from(
    [
        "dcterms:title",
        "dcterms:abstract",
        "cn:progress",
        "cn:measurement",
        "dcat:contactPoint",
        "schema:value",
        "cn:illustrative",
        "adms:status",
        "cn:sdg",
        "ex:unknown",
    ]
)
turtle_objects = st.one_of(
    st.sampled_from(["_:a", "_:b", "[ a cn:Measurement ]", "<records/x>", '"t"@es', "<x:y>"]),
    st.builds(
        lambda lexical, datatype: f'"{lexical}"^^xsd:{datatype}',
        st.one_of(st.text("0123456789.-+eEaINF", max_size=30), st.just("9" * 5000)),
        st.sampled_from(["integer", "decimal", "double", "boolean", "int", "date"]),
    ),
)
turtle_subjects = st.sampled_from(["<records/x>", "_:a", "_:b"])
PREFIXES = (
    "@prefix cn: <https://w3id.org/citynode/vocab#> .\n"
    "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
    "@prefix adms: <http://www.w3.org/ns/adms#> .\n"
    "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n"
    "@prefix schema: <https://schema.org/> .\n"
    "@prefix ex: <https://example.org/> .\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    "<records/x> a cn:Project .\n"
)
turtle_documents = st.one_of(
    st.lists(st.tuples(turtle_subjects, turtle_terms, turtle_objects), max_size=8).map(
        lambda triples: PREFIXES + "".join(f"{s} {p} {o} .\n" for s, p, o in triples)
    ),
    st.text(max_size=200).map(lambda t: PREFIXES + t),
)


@SLOW
@given(turtle_documents)
def test_turtle(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        rdf.drafts_from_turtle(text, "http://127.0.0.1:1", "the body")


raw_header_bytes = st.one_of(
    st.binary(max_size=60).filter(lambda b: b"\r" not in b and b"\n" not in b),
    st.sampled_from([b"\xff\xfe", b"sig1=:\xff:", b'sig1=("@method");created=1;keyid="\xc3"']),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(raw_header_bytes, raw_header_bytes, raw_header_bytes)
async def test_signed_and_editor_routes_over_http(
    medellin: RunningNode, auth: bytes, sig_in: bytes, sig: bytes
) -> None:
    """The same headers as bytes on the wire, to a real node: always a 4xx."""
    for path in (b"/fed/v1/inbox", b"/api/records"):
        head = (
            b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n"
            b"Authorization: Bearer " + auth + b"\r\n"
            b"Signature-Input: " + sig_in + b"\r\nSignature: " + sig + b"\r\n\r\n{}"
        )
        status = await _status_of(medellin.url, head)
        assert 400 <= status < 500, (path, status)


async def _status_of(url: str, raw: bytes) -> int:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(raw)
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return int(line.split()[1])


def test_node_errors_are_4xx_by_class() -> None:
    # The errors the decoders raise are the ones the middleware answers with a 4xx.
    for kind in (BadRequest, Unauthorized, NotAcceptable):
        assert issubclass(kind, NodeError) and 400 <= kind.status < 500
