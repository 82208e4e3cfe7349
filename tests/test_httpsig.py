"""RFC 9421 request signatures and RFC 9530 Content-Digest, against the published vectors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from protocol.digest import check_content_digest, content_digest
from protocol.errors import (
    BadSignature,
    ComponentNotCovered,
    ComponentUnavailable,
    DigestMismatch,
    MalformedField,
    MalformedSignature,
    NonceReplayed,
    ProtocolError,
    SignatureExpired,
    SignatureMissing,
    SignatureNotYetValid,
    UnknownKey,
    UnsupportedAlgorithm,
)
from protocol.httpsig.profile import TAG
from protocol.httpsig.signature_base import signature_base
from protocol.httpsig.signing import sign_components, sign_request
from protocol.httpsig.verification import read_signature, verify_request, verify_signature
from protocol.structured_fields import (
    InnerList,
    Item,
    Token,
    parse_dictionary,
    parse_item,
    parse_list,
    serialize_dictionary,
)

VECTORS = Path(__file__).parent / "vectors" / "rfc9421"
B26 = json.loads((VECTORS / "ed25519.json").read_text())
DIGESTS = json.loads((VECTORS / "rfc9530-content-digest.json").read_text())["examples"]

NOW = 1_700_000_000
URL = "https://bogota.example/fed/v1/inbox?x=1"
BODY = b'{"type":"InboxNotice","sender":"did:web:medellin.example","cursor":"1.AQ"}'
KEYID = "did:web:medellin.example#key-1"


def b26_private() -> Ed25519PrivateKey:
    key = load_pem_private_key(B26["key"]["private_key_pkcs8_pem"].encode(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def b26_public() -> Ed25519PublicKey:
    key = load_pem_public_key(B26["key"]["public_key_spki_pem"].encode())
    assert isinstance(key, Ed25519PublicKey)
    return key


def b26_headers() -> dict[str, str]:
    return {name: value for name, value in B26["request"]["headers"]}


# --- RFC 9421 Appendix B.2.6 ---


def test_b26_signature_base_is_byte_for_byte() -> None:
    request = B26["request"]
    signature_input = parse_dictionary(B26["signature_input_header"])[B26["label"]]
    assert isinstance(signature_input, InnerList)
    base = signature_base(request["method"], request["target_uri"], b26_headers(), signature_input)
    assert base == B26["signature_base"].encode("ascii")


def test_b26_signature_verifies() -> None:
    request = B26["request"]
    headers = {
        **b26_headers(),
        "Signature-Input": B26["signature_input_header"],
        "Signature": B26["signature_header"],
    }
    parsed = read_signature(headers)
    assert parsed.label == "sig-b26"
    assert parsed.signature.hex() == B26["signature_hex"]
    verify_signature(request["method"], request["target_uri"], headers, parsed, b26_public())


def test_b26_resign_reproduces_the_headers() -> None:
    request = B26["request"]
    added = sign_components(
        request["method"],
        request["target_uri"],
        b26_headers(),
        b26_private(),
        B26["covered_components"],
        B26["signature_params"],
        label=B26["label"],
    )
    assert added == {
        "Signature-Input": B26["signature_input_header"],
        "Signature": B26["signature_header"],
    }


def test_b26_tampered_request_fails() -> None:
    request = B26["request"]
    headers = {
        **b26_headers(),
        "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
        "Signature-Input": B26["signature_input_header"],
        "Signature": B26["signature_header"],
    }
    with pytest.raises(BadSignature):
        verify_signature(
            request["method"], request["target_uri"], headers, read_signature(headers), b26_public()
        )


def test_b26_fails_our_policy_for_lack_of_nonce() -> None:
    # B.2.6 is a valid RFC 9421 signature but not a valid citynode one: no nonce, no digest.
    request = B26["request"]
    headers = {
        **b26_headers(),
        "Signature-Input": B26["signature_input_header"],
        "Signature": B26["signature_header"],
    }
    with pytest.raises(MalformedSignature):
        verify_request(
            request["method"],
            request["target_uri"],
            headers,
            request["body"].encode(),
            lambda keyid: b26_public(),
            B26["signature_params"]["created"],
            seen_nonce=lambda nonce, until: False,
        )


# --- RFC 9530 Content-Digest ---


@pytest.mark.parametrize("example", DIGESTS, ids=lambda e: f"{e['body_len']}-bytes")
@pytest.mark.parametrize("algorithm", ["sha-256", "sha-512"])
def test_content_digest_vectors(example: dict[str, Any], algorithm: str) -> None:
    body = example["body"].encode()
    assert len(body) == example["body_len"]
    header = content_digest(body, algorithm)
    assert header == f"{algorithm}=:{example[algorithm]}:"
    check_content_digest(header, body)
    with pytest.raises(DigestMismatch):
        check_content_digest(header, body + b" ")


def test_content_digest_both_algorithms_and_unknown_ones() -> None:
    example = DIGESTS[0]
    body = example["body"].encode()
    both = f"sha-256=:{example['sha-256']}:, sha-512=:{example['sha-512']}:, md5=:AAAA:"
    check_content_digest(both, body)
    # One known algorithm wrong is enough to refuse.
    wrong = f"sha-256=:{example['sha-256']}:, sha-512=:{DIGESTS[1]['sha-512']}:"
    with pytest.raises(DigestMismatch):
        check_content_digest(wrong, body)
    with pytest.raises(DigestMismatch):
        check_content_digest("md5=:AAAA:", body)
    with pytest.raises(MalformedField):
        check_content_digest('sha-256="not bytes"', body)
    with pytest.raises(MalformedField):
        check_content_digest("sha-256=:X48E:, ,", body)


def test_vector_request_digest_matches_its_body() -> None:
    check_content_digest(b26_headers()["Content-Digest"], B26["request"]["body"].encode())


# --- Round trip with our profile ---


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


class NonceCache:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, nonce: str, until: int) -> bool:
        if nonce in self.seen:
            return True
        self.seen[nonce] = until
        return False


def signed(
    key: Ed25519PrivateKey,
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    created: int = NOW,
    expires: int = NOW + 300,
    nonce: str = "n-1",
) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    headers.update(sign_request(method, url, headers, body, key, KEYID, created, expires, nonce))
    return headers


def verify(
    key: Ed25519PrivateKey,
    headers: Any,
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    now: int = NOW,
    seen: Callable[[str, int], bool] | None = None,
    resolve: Callable[[str], Ed25519PublicKey] | None = None,
) -> Any:
    keys = {KEYID: key.public_key()}
    return verify_request(
        method,
        url,
        headers,
        body,
        resolve or keys.__getitem__,
        now,
        seen_nonce=seen or NonceCache(),
    )


def test_round_trip_with_body(key: Ed25519PrivateKey) -> None:
    headers = signed(key)
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest");created=1700000000;'
        'expires=1700000300;nonce="n-1";keyid="did:web:medellin.example#key-1";alg="ed25519";'
        'tag="citynode/1"'
    )
    result = verify(key, headers)
    assert result.keyid == KEYID
    assert result.created == NOW
    assert result.nonce == "n-1"
    assert result.covered == ("@method", "@target-uri", "content-digest")


def test_round_trip_without_body_and_with_a_multidict(key: Ed25519PrivateKey) -> None:
    headers = signed(key, method="GET", body=None)
    assert "Content-Digest" not in headers
    # aiohttp hands handlers a case-insensitive multidict with lower-cased names on the wire.
    wire = CIMultiDict((name.lower(), value) for name, value in headers.items())
    result = verify(key, wire, method="GET", body=None)
    assert result.covered == ("@method", "@target-uri")


def test_signature_lines_split_over_several_fields(key: Ed25519PrivateKey) -> None:
    headers = signed(key, method="GET", body=None)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    extra = sign_components("GET", URL, {}, other, ["@method"], {"created": NOW}, label="proxy")
    wire = CIMultiDict(headers)
    wire.add("Signature-Input", extra["Signature-Input"])
    wire.add("Signature", extra["Signature"])
    assert verify(key, wire, method="GET", body=None).label == "sig1"


def test_the_signature_with_the_citynode_tag_is_the_one_verified(key: Ed25519PrivateKey) -> None:
    # docs/protocol.md 5.2: a signature tagged for another application is never taken, even
    # when it comes first and verifies; an untagged one is taken when no tagged one is there.
    mine = signed(key, method="GET", body=None)
    other_app = sign_components(
        "GET", URL, {}, key, ["@method", "@target-uri"],
        {"created": NOW, "nonce": "n-0", "keyid": KEYID, "tag": "other-app"}, label="app",
    )  # fmt: skip
    wire = CIMultiDict()
    wire.add("Signature-Input", other_app["Signature-Input"])
    wire.add("Signature", other_app["Signature"])
    wire.add("Signature-Input", mine["Signature-Input"])
    wire.add("Signature", mine["Signature"])
    keys = {KEYID: key.public_key()}
    result = verify_request(
        "GET", URL, wire, None, keys.__getitem__, NOW, seen_nonce=NonceCache(), tag=TAG
    )
    assert (result.label, result.nonce) == ("sig1", "n-1")
    only_other = CIMultiDict(
        {"Signature-Input": other_app["Signature-Input"], "Signature": other_app["Signature"]}
    )
    with pytest.raises(SignatureMissing, match="tagged"):
        verify_request(
            "GET", URL, only_other, None, keys.__getitem__, NOW, seen_nonce=NonceCache(), tag=TAG
        )
    untagged = sign_request("GET", URL, {}, None, key, KEYID, NOW, NOW + 300, "n-2", tag=None)
    assert "tag=" not in untagged["Signature-Input"]
    verify_request(
        "GET", URL, untagged, None, keys.__getitem__, NOW, seen_nonce=NonceCache(), tag=TAG
    )


def test_nonce_is_remembered_until_the_signature_dies(key: Ed25519PrivateKey) -> None:
    cache = NonceCache()
    verify(key, signed(key), seen=cache)
    assert cache.seen == {"n-1": NOW + 300 + 30}


# --- Every refusal ---


def test_missing_signature(key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureMissing):
        verify(key, {"Content-Digest": content_digest(BODY)})
    headers = signed(key)
    del headers["Signature"]
    with pytest.raises(SignatureMissing):
        verify(key, headers)


@pytest.mark.parametrize(
    "signature_input",
    ['sig1=("@method" "@target-uri"', "sig1=(@method)", "SIG1=()", 'sig1=("a";x=1.2345)', "é"],
)
def test_malformed_structured_field(key: Ed25519PrivateKey, signature_input: str) -> None:
    headers = signed(key)
    headers["Signature-Input"] = signature_input
    with pytest.raises(MalformedField):
        verify(key, headers)


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ('sig1="not a list"', None),
        ("sig1=(method);created=1", None),
        (None, 'sig1="not bytes"'),
        (None, "other=:AAAA:"),
        ('sig1=("@method" "@target-uri" "content-digest");keyid="k";nonce="n"', None),
        ('sig1=("@method" "@target-uri" "content-digest");created=1;nonce="n"', None),
        ('sig1=("@method" "@target-uri" "content-digest");created=1;keyid="k"', None),
        ('sig1=("@method" "@target-uri" "content-digest");created=?1;keyid="k";nonce="n"', None),
        ('sig1=("@method" "@target-uri" "content-digest");created=1;keyid=k;nonce="n"', None),
        (
            'sig1=("@method" "@method" "@target-uri" "content-digest");created=1700000000;'
            'keyid="did:web:medellin.example#key-1";nonce="n"',
            None,
        ),
    ],
)
def test_malformed_signature(
    key: Ed25519PrivateKey, signature_input: str | None, signature: str | None
) -> None:
    headers = signed(key)
    if signature_input is not None:
        headers["Signature-Input"] = signature_input
    if signature is not None:
        headers["Signature"] = signature
    with pytest.raises(MalformedSignature):
        verify(key, headers)


def test_created_in_the_future(key: Ed25519PrivateKey) -> None:
    verify(key, signed(key, created=NOW + 30, expires=NOW + 330))  # within the skew
    with pytest.raises(SignatureNotYetValid):
        verify(key, signed(key, created=NOW + 31, expires=NOW + 331))


def test_too_old(key: Ed25519PrivateKey) -> None:
    verify(key, signed(key, created=NOW - 300, expires=NOW + 3600))
    with pytest.raises(SignatureExpired) as caught:
        verify(key, signed(key, created=NOW - 301, expires=NOW + 3600))
    assert caught.value.detail["reason"] == "too_old"


def test_expired(key: Ed25519PrivateKey) -> None:
    with pytest.raises(SignatureExpired) as caught:
        verify(key, signed(key, created=NOW - 100, expires=NOW - 31))
    assert caught.value.detail["reason"] == "expired"
    with pytest.raises(MalformedSignature):
        verify(key, signed(key, created=NOW, expires=NOW - 1))


def test_replayed_nonce(key: Ed25519PrivateKey) -> None:
    cache = NonceCache()
    headers = signed(key)
    verify(key, headers, seen=cache)
    with pytest.raises(NonceReplayed):
        verify(key, headers, seen=cache)


def test_invalid_signature_does_not_burn_the_nonce(key: Ed25519PrivateKey) -> None:
    cache = NonceCache()
    forged = signed(Ed25519PrivateKey.generate())
    with pytest.raises(BadSignature):
        verify(key, forged, seen=cache)
    assert cache.seen == {}


def test_digest_mismatch(key: Ed25519PrivateKey) -> None:
    with pytest.raises(DigestMismatch):
        verify(key, signed(key), body=BODY.replace(b"1.AQ", b"1.AR"))


def test_digest_header_missing(key: Ed25519PrivateKey) -> None:
    headers = signed(key)
    del headers["Content-Digest"]
    with pytest.raises(ComponentUnavailable):
        verify(key, headers)


def test_unknown_key(key: Ed25519PrivateKey) -> None:
    with pytest.raises(UnknownKey):
        verify(key, signed(key), resolve={}.__getitem__)

    def resolver_that_knows_better(keyid: str) -> Ed25519PublicKey:
        raise UnknownKey("revoked", keyid=keyid)

    with pytest.raises(UnknownKey):
        verify(key, signed(key), resolve=resolver_that_knows_better)


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"url": "https://bogota.example/fed/v1/inbox?x=2"},
        {"url": "https://evil.example/fed/v1/inbox?x=1"},
    ],
)
def test_bad_signature(key: Ed25519PrivateKey, change: dict[str, str]) -> None:
    with pytest.raises(BadSignature):
        verify(key, signed(key), **change)  # type: ignore[arg-type]


def test_bad_signature_from_another_key(key: Ed25519PrivateKey) -> None:
    with pytest.raises(BadSignature):
        verify(key, signed(Ed25519PrivateKey.generate()))


def test_bad_signature_bytes(key: Ed25519PrivateKey) -> None:
    headers = signed(key)
    headers["Signature"] = "sig1=:AAAA:"
    with pytest.raises(BadSignature):
        verify(key, headers)


def test_required_component_not_covered(key: Ed25519PrivateKey) -> None:
    params = {"created": NOW, "nonce": "n", "keyid": KEYID, "alg": "ed25519"}
    headers = {"Content-Digest": content_digest(BODY)}
    headers.update(sign_components("POST", URL, headers, key, ["@method", "@target-uri"], params))
    with pytest.raises(ComponentNotCovered) as caught:
        verify(key, headers)
    assert caught.value.detail["component"] == "content-digest"
    headers.update(
        sign_components("POST", URL, headers, key, ["@method", "content-digest"], params)
    )
    with pytest.raises(ComponentNotCovered):
        verify(key, headers)


def test_unsupported_algorithm(key: Ed25519PrivateKey) -> None:
    params = {"created": NOW, "nonce": "n", "keyid": KEYID, "alg": "rsa-pss-sha512"}
    headers = {"Content-Digest": content_digest(BODY)}
    components = ["@method", "@target-uri", "content-digest"]
    headers.update(sign_components("POST", URL, headers, key, components, params))
    with pytest.raises(UnsupportedAlgorithm):
        verify(key, headers)


def test_covered_field_absent(key: Ed25519PrivateKey) -> None:
    params = {"created": NOW, "nonce": "n", "keyid": KEYID}
    headers = {"X-Thing": "1"}
    headers.update(
        sign_components("GET", URL, headers, key, ["@method", "@target-uri", "x-thing"], params)
    )
    assert verify(key, headers, method="GET", body=None).covered[-1] == "x-thing"
    del headers["X-Thing"]
    with pytest.raises(ComponentUnavailable):
        verify(key, headers, method="GET", body=None)


def test_derived_components() -> None:
    url = "https://Example.COM:443/a%20b/c?param=Value&Pet=dog&qux=&sp=a+b%2F"
    names = ["@method", "@authority", "@scheme", "@path", "@query", "@request-target"]
    items = [Item(n) for n in names] + [
        Item("@query-param", {"name": "Pet"}),
        Item("@query-param", {"name": "qux"}),
        Item("@query-param", {"name": "sp"}),
    ]
    base = signature_base("GET", url, {}, InnerList(tuple(items)))
    lines = base.decode().split("\n")
    assert lines[:-1] == [
        '"@method": GET',
        '"@authority": example.com',
        '"@scheme": https',
        '"@path": /a%20b/c',
        '"@query": ?param=Value&Pet=dog&qux=&sp=a+b%2F',
        '"@request-target": /a%20b/c?param=Value&Pet=dog&qux=&sp=a+b%2F',
        '"@query-param";name="Pet": dog',
        '"@query-param";name="qux": ',
        '"@query-param";name="sp": a%20b%2F',
    ]
    assert lines[-1].startswith('"@signature-params": ("@method" "@authority"')
    port = signature_base("GET", "http://[::1]:8080/", {}, InnerList((Item("@authority"),)))
    assert port.split(b"\n")[0] == b'"@authority": [::1]:8080'


def test_header_values_are_trimmed_and_combined() -> None:
    headers = CIMultiDict([("X-A", "  one "), ("x-a", "two\t"), ("X-Empty", "")])
    base = signature_base("GET", URL, headers, InnerList((Item("x-a"), Item("x-empty"))))
    assert base.split(b"\n")[:2] == [b'"x-a": one, two', b'"x-empty": ']


@pytest.mark.parametrize(
    "component",
    [
        Item("@status"),
        Item("x-a", {"sf": True}),
        Item("@query-param", {"name": "missing"}),
        Item("@nope"),
    ],
)
def test_unsupported_components(component: Item) -> None:
    with pytest.raises(ComponentUnavailable):
        signature_base("GET", URL, {"X-A": "1"}, InnerList((component,)))


def test_uppercase_field_name_or_token_component_refused() -> None:
    with pytest.raises(MalformedSignature):
        signature_base("GET", URL, {"X-A": "1"}, InnerList((Item("X-A"),)))
    with pytest.raises(MalformedSignature):
        signature_base("GET", URL, {}, InnerList((Item(Token("a")),)))


def test_line_break_in_a_value_cannot_inject_a_line() -> None:
    # Line breaks are folded into one space (obs-fold, RFC 9421 section 2.1); a lone CR refused.
    injected = {"x-a": '1\r\n"@method": GET'}
    base = signature_base("GET", URL, injected, InnerList((Item("x-a"),)))
    assert base.split(b"\n")[0] == b'"x-a": 1 "@method": GET'
    assert base.count(b"\n") == 1
    with pytest.raises(ComponentUnavailable):
        signature_base("GET", URL, {"x-a": "1\r2"}, InnerList((Item("x-a"),)))


# --- RFC 8941 parser ---


def test_structured_field_examples() -> None:
    # RFC 8941 section 3.2 and 3.1.2 examples.
    members = parse_dictionary('en="Applepie", da=:w4ZibGV0w6ZydGUK:')
    assert members == {"en": Item("Applepie"), "da": Item(b"\xc3\x86blet\xc3\xa6rte\n")}
    members = parse_dictionary("a=?0, b, c; foo=bar")
    assert members == {"a": Item(False), "b": Item(True), "c": Item(True, {"foo": Token("bar")})}
    assert isinstance(members["c"].params["foo"], Token)  # type: ignore[union-attr]
    inner = parse_list('("foo" "bar");lvl=5, ("baz");lvl=1')
    assert inner == [
        InnerList((Item("foo"), Item("bar")), {"lvl": 5}),
        InnerList((Item("baz"),), {"lvl": 1}),
    ]
    assert parse_item("-4.5") == Item(Decimal("-4.5"))
    assert parse_item('"a\\"b\\\\c"') == Item('a"b\\c')
    assert parse_item("999999999999999") == Item(999_999_999_999_999)
    assert parse_list("") == []
    assert parse_dictionary("a=1, a=2") == {"a": Item(2)}


@pytest.mark.parametrize(
    "bad",
    [
        "1234567890123456",  # 16-digit integer
        "1234567890123.0",  # 13 integer digits
        "1.2345",
        "1.",
        '"unterminated',
        '"bad \\n escape"',
        ":AAA=A:",
        ":not base64!:",
        "?2",
        "a b",
        "(1 2",
        "(1,2)",
        "-",
        "@",
        '"\x01"',
    ],
)
def test_structured_field_refusals(bad: str) -> None:
    with pytest.raises(MalformedField):
        parse_item(bad)


def test_dictionary_refusals() -> None:
    for bad in ["a=1,", "a=1 b=2", "A=1", ",a=1", "a=(1 2)x"]:
        with pytest.raises(MalformedField):
            parse_dictionary(bad)


# Hypothesis: the parser only ever raises MalformedField, whatever a stranger sends.
SF_ALPHABET = st.sampled_from([*list('abcAZ019*-_.:;=,()"\\?/ \t+'), "é", "\x00", "\x7f"])


@given(st.text(SF_ALPHABET, max_size=60) | st.text(max_size=40))
def test_fuzz_parser_raises_only_malformed_field(text: str) -> None:
    for parse in (parse_dictionary, parse_list, parse_item):
        with contextlib.suppress(MalformedField):
            parse(text)


keys = st.from_regex(r"[a-z*][a-z0-9_\-.*]{0,5}", fullmatch=True)
bare_items = st.one_of(
    st.integers(-999_999_999_999_999, 999_999_999_999_999),
    st.decimals(Decimal("-999999999999.999"), Decimal("999999999999.999"), places=3),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10),
    st.from_regex(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]{0,6}", fullmatch=True).map(Token),
    st.binary(max_size=12),
    st.booleans(),
)
params = st.dictionaries(keys, bare_items, max_size=3)
items = st.builds(Item, bare_items, params)
members = st.one_of(items, st.builds(InnerList, st.lists(items, max_size=3).map(tuple), params))


@given(st.dictionaries(keys, members, max_size=4))
def test_fuzz_serialize_parse_round_trip(value: dict[str, Any]) -> None:
    text = serialize_dictionary(value)
    assert parse_dictionary(text) == value
    assert serialize_dictionary(parse_dictionary(text)) == text


@given(
    st.text(SF_ALPHABET, max_size=80) | st.text(max_size=40),
    st.text(SF_ALPHABET, max_size=80) | st.text(max_size=40),
)
def test_fuzz_verify_raises_only_protocol_errors(signature_input: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    headers = {"Signature-Input": signature_input, "Signature": signature, "X-A": "1"}
    with contextlib.suppress(ProtocolError):
        verify(key, headers)


@given(st.dictionaries(st.just("sig1") | keys, members, min_size=1, max_size=2), items)
def test_fuzz_verify_with_well_formed_but_wrong_fields(
    signature_input: dict[str, Any], signature: Item
) -> None:
    # Structurally valid fields of the wrong shape reach deeper than random text does.
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    headers = signed(key)
    headers["Signature-Input"] = serialize_dictionary(signature_input)
    headers["Signature"] = serialize_dictionary({"sig1": signature})
    with contextlib.suppress(ProtocolError):
        verify(key, headers)
