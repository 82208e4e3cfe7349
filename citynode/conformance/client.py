"""The kit's requests to the node under test: signed per docs/protocol.md 5, or broken on
purpose (forged, replayed, expired, oversized...), and the answers as the kit reads them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Final

import aiohttp
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from yarl import URL

from citynode.conformance.peer import KitPeer
from protocol.digest import content_digest
from protocol.httpsig.profile import ALG, TAG, required_components
from protocol.httpsig.signing import sign_components
from protocol.structured_fields import BareItem

#: What one answer may weigh: a changes page is at most 4 MiB (docs/protocol.md 9), twice that.
MAX_ANSWER: Final = 8 * 1024 * 1024
_decode = msgspec.json.Decoder()


class Answer(msgspec.Struct, kw_only=True):
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        try:
            return _decode.decode(self.body)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            return None

    def error_shaped(self) -> bool:
        """The one error shape (docs/protocol.md 10): {"code", "message", "detail"}."""
        value = self.json
        return (
            isinstance(value, dict)
            and isinstance(value.get("code"), str)
            and isinstance(value.get("message"), str)
            and isinstance(value.get("detail"), dict)
        )

    @property
    def code(self) -> str | None:
        value = self.json
        code = value.get("code") if isinstance(value, dict) else None
        return code if isinstance(code, str) else None

    def describe(self) -> str:
        text = self.body[:300].decode("utf-8", "replace")
        return f"HTTP {self.status}: {text}"


class Signing(msgspec.Struct, kw_only=True):
    """How to sign one request; the defaults are the profile's (docs/protocol.md 5.2)."""

    key: Ed25519PrivateKey | None = None
    keyid: str | None = None
    created: int | None = None
    lifetime: int = 300
    expires: int | None = None
    nonce: str | None = None
    tag: str | None = TAG
    components: Sequence[str] | None = None
    #: Sign for this URL but send to another (a request changed after signing).
    signed_url: str | None = None
    #: Send this body but sign (and digest) another.
    signed_body: bytes | None = None


class TargetClient:
    """Requests to the node under test, signed as the kit's identity."""

    def __init__(self, kit: KitPeer, timeout: float = 10.0) -> None:
        self.kit = kit
        self.timeout = timeout
        self.session: aiohttp.ClientSession | None = None
        #: Every refusal the node answered, for the error-shape check.
        self.refusals: list[tuple[str, Answer]] = []

    async def __aenter__(self) -> TargetClient:
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout), auto_decompress=True
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    def headers_for(
        self, method: str, url: str, body: bytes | None, signing: Signing
    ) -> dict[str, str]:
        created = int(time.time()) if signing.created is None else signing.created
        expires = created + signing.lifetime if signing.expires is None else signing.expires
        headers: dict[str, str] = {}
        signed_body = body if signing.signed_body is None else signing.signed_body
        if body:
            headers["Content-Type"] = "application/json"
            headers["Content-Digest"] = content_digest(signed_body or b"")
        params: dict[str, BareItem] = {
            "created": created,
            "expires": expires,
            "nonce": signing.nonce or self.kit.fresh_nonce(),
            "keyid": signing.keyid or self.kit.keyid,
            "alg": ALG,
        }
        if signing.tag is not None:
            params["tag"] = signing.tag
        components = signing.components or required_components(bool(body))
        headers.update(
            sign_components(
                method,
                signing.signed_url or url,
                headers,
                signing.key or self.kit.key,
                components,
                params,
            )
        )
        return headers

    async def send(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        what: str = "",
    ) -> Answer:
        assert self.session is not None
        try:
            # Sent exactly as signed: no re-quoting of the target URI (docs/protocol.md 5.3).
            target = URL(url, encoded=True)
            async with self.session.request(
                method, target, data=body, headers=headers, allow_redirects=False
            ) as response:
                data = await response.content.read(MAX_ANSWER)
                answer = Answer(
                    status=response.status,
                    body=data,
                    content_type=response.content_type,
                    headers=dict(response.headers),
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            answer = Answer(
                status=0, body=f"no answer: {exc!r}".encode(), content_type="", headers={}
            )
        if 400 <= answer.status < 500:
            self.refusals.append((what or f"{method} {url}", answer))
        return answer

    async def get(self, url: str, what: str = "") -> Answer:
        return await self.send("GET", url, what=what)

    async def signed(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        signing: Signing | None = None,
        what: str = "",
        retry: bool = True,
    ) -> Answer:
        """A signed request; a 429 is waited out and sent again with a fresh nonce."""
        signing = signing or Signing()
        for attempt in range(6):
            headers = self.headers_for(method, url, body, signing)
            answer = await self.send(method, url, body, headers, what)
            if answer.status != 429 or not retry or attempt == 5:
                return answer
            self.refusals.pop()
            await asyncio.sleep(_retry_after(answer))
        return answer


def _retry_after(answer: Answer) -> float:
    try:
        return min(5.0, max(0.5, float(answer.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0
