"""Which scheme a did:web is fetched with: plain http only for loopback addresses."""

from __future__ import annotations

import pytest

from citynode.addresses import did_scheme


@pytest.mark.parametrize(
    ("did", "scheme"),
    [
        ("did:web:127.0.0.1%3A8701", "http"),
        ("did:web:localhost%3A8443", "http"),
        ("did:web:medellin.example", "https"),
        ("did:web:127.example.org", "https"),
        ("did:web:127.0.0.1.nip.example", "https"),
        ("did:web:10.0.0.1", "https"),
    ],
)
def test_only_loopback_addresses_use_plain_http(did: str, scheme: str) -> None:
    assert did_scheme(did) == scheme
