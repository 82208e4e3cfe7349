"""Checking a record's signature from the outside: `citynode verify FILE|URL`.

The record's publisher is a did:web; its DID document is fetched over HTTP (through the guarded
client), the key is looked up there, and the proof is checked with the same code peers use. The
DID document is read fresh every time, so a key revoked since the record was signed shows at once.

The guarded client keeps the node's address rules (citynode/addresses.py): a record URL, or a
publisher DID inside a record, naming a loopback, private or metadata address is refused unless
the operator allows private addresses (`--allow-private`, or `--home` of a node whose config
allows private peers). A record file is data from anywhere, and its publisher DID decides where
the check reaches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from citynode.addresses import did_scheme
from citynode.errors import BadRequest, OutboundError
from citynode.outbound import GuardedClient
from protocol.did import (
    did_document_url,
    key_resolver,
    keys_from_document,
    parse_did_document,
)
from protocol.errors import ProtocolError
from protocol.proofs import verify_record

Fetch = Callable[[str], Awaitable[bytes]]


class Report(msgspec.Struct, kw_only=True):
    source: str
    record_id: str | None = None
    record_type: str | None = None
    version: int | None = None
    publisher: str | None = None
    key: str | None = None
    created: str | None = None
    holds: bool = False
    problem: str | None = None
    problem_code: str | None = None

    def lines(self) -> list[str]:
        out = [
            f"record:    {self.record_id} ({self.record_type}, version {self.version})",
            f"publisher: {self.publisher}",
            f"key:       {self.key}",
            f"signed:    {self.created}",
        ]
        if self.holds:
            out.append(
                "signature: holds (eddsa-jcs-2022, key listed in the publisher's DID "
                "document and valid when it signed)"
            )
        elif self.problem_code == "key_revoked":
            out.append(f"signature: REVOKED: {self.problem} [{self.problem_code}]")
        else:
            out.append(f"signature: DOES NOT HOLD: {self.problem} [{self.problem_code}]")
        return out


async def check_document(document: dict[str, Any], fetch: Fetch, source: str) -> Report:
    """Resolve the publisher's DID document with `fetch` and check the record's proof."""
    proof = document.get("proof") if isinstance(document.get("proof"), dict) else {}
    report = Report(
        source=source,
        record_id=document.get("id"),
        record_type=document.get("type"),
        version=document.get("version"),
        publisher=document.get("publisher"),
        key=proof.get("verificationMethod") if proof else None,
        created=proof.get("created") if proof else None,
    )
    publisher = document.get("publisher")
    try:
        if not isinstance(publisher, str) or not publisher.startswith("did:web:"):
            raise BadRequest(f"the record's publisher {publisher!r} is not a did:web DID")
        scheme = did_scheme(publisher)
        did_document = parse_did_document(await fetch(did_document_url(publisher, scheme)))
        keys = keys_from_document(did_document)
        verify_record(document, key_resolver(keys), allow_http=scheme == "http")
    except ProtocolError as exc:
        report.problem, report.problem_code = exc.message, exc.code
        return report
    except (BadRequest, OutboundError) as exc:
        report.problem, report.problem_code = exc.message, exc.code
        return report
    report.holds = True
    return report


async def verify_source(source: str, *, allow_private: bool = False) -> Report:
    """Verify a record file or URL (the CLI's `verify`), under the node's address rules.

    Plain http is allowed only where private addresses are (loopback test nodes), as for the
    node's own federation client.
    """
    async with GuardedClient(allow_private=allow_private, allow_http=allow_private) as client:

        async def fetch(url: str) -> bytes:
            return await client.get_json(
                url, sign=False, headers={"Accept": "application/ld+json, application/json"}
            )

        if urlsplit(source).scheme in ("http", "https"):
            raw = await fetch(source)
            base = source
        else:
            try:
                raw = await asyncio.to_thread(Path(source).read_bytes)
            except OSError as exc:
                raise BadRequest(
                    f"{source}: cannot read it ({exc.strerror})", file=source
                ) from None
            base = source
        try:
            document = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise BadRequest(f"{base} is not JSON: {exc}") from None
        except (UnicodeDecodeError, RecursionError):
            raise BadRequest(
                f"{base} is not JSON a record can be: not UTF-8, or nested too deeply"
            ) from None
        if not isinstance(document, dict):
            raise BadRequest(f"{base} is not one record (a JSON object)")
        return await check_document(document, fetch, base)
