"""Inbound protection: every `/fed/` request is signed (RFC 9421), fresh, new and within budget.

`InboundGuard.authenticate` runs before a federation handler reads anything: body cap, a rate
limit per *source address*, the signer's key from its DID document (`authentication`
relationship: only active keys are listed there, so a retired or revoked key cannot sign
requests), the signature with the age limit (5 minutes by default), the digest, the nonce
replay cache, and then a rate limit per *verified signer*.

Why two budgets (issue 7, "A starved peer"): before the signature is checked the signer is only
a claim, and anyone can name a real peer's key id. Charging that claim let 50 forged requests a
second use up the real peer's budget and keep it refused. So an unverified request costs its
source address (an IPv6 source by its /64, which one host usually holds whole), and only a
verified signer's requests cost the signer. DID documents fetched for signers not seen before
are bounded per source too (and, more loosely, for all sources together), so made-up DIDs cannot
turn one client into a stream of outbound fetches.

The replay cache is in memory: a nonce only needs remembering until its signature could no
longer be accepted anyway (`created + max_age`), and a restart loses at most that window, in
which a replay would also need a valid, unexpired signature from the peer.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from citynode.errors import OutboundError, PayloadTooLarge, TooManyRequests
from citynode.federation.errors import SignatureRefused
from citynode.federation.keys import KeyCache
from protocol.did import split_key_id
from protocol.errors import MalformedSignature, ProtocolError
from protocol.httpsig.profile import DEFAULT_CLOCK_SKEW, TAG
from protocol.httpsig.verification import read_signature, verify_request
from protocol.messages import MAX_REQUEST_BYTES

#: Federation messages are small (a notice, a peer request, a digest request).
MAX_FED_BODY: Final = MAX_REQUEST_BYTES


class ReplayCache:
    """Nonces seen, each kept until the last second its signature could be accepted."""

    def __init__(self, clock: Callable[[], float] = time.time, max_entries: int = 200_000) -> None:
        self._seen: dict[str, float] = {}
        self._clock = clock
        self._max = max_entries
        self._next_prune = 0.0

    def seen(self, nonce: str, remember_until: int) -> bool:
        now = self._clock()
        if now >= self._next_prune or len(self._seen) > self._max:
            self._seen = {n: t for n, t in self._seen.items() if t >= now}
            self._next_prune = now + 30
        if self._seen.get(nonce, -1.0) >= now:
            return True
        self._seen[nonce] = float(remember_until)
        return False


class RateLimiter:
    """A token bucket per key (a source address, a signer DID): `rate` per second, bursts up to
    `burst`."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # many sources must not grow this without bound
            self._buckets.clear()
        return True


def source_key(address: str | None) -> str:
    """The rate-limit key of a request's source: the address, an IPv6 one by its /64."""
    if not address:
        return "?"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class InboundGuard:
    def __init__(
        self,
        keys: KeyCache,
        base_url: str,
        *,
        max_age: int = 300,
        rate: float = 50.0,
        burst: int = 200,
        source_rate: float = 100.0,
        source_burst: int = 400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.base_url = base_url.rstrip("/")
        # The verifier's choices (RFC 9421 section 3.2.1; docs/protocol.md 5): how old a
        # signature may be, how far ahead the signer's clock, the components it must cover
        # (None: the protocol's, with content-digest for a body) and the profile's tag.
        self.max_age = max_age
        self.clock_skew = DEFAULT_CLOCK_SKEW
        self.required: Sequence[str] | None = None
        self.tag: str | None = TAG
        self.replays = ReplayCache(clock)
        self.per_source = RateLimiter(source_rate, source_burst)
        self.per_signer = RateLimiter(rate, burst)
        # DID documents fetched on behalf of signers not seen before: a few per source, and a
        # ceiling for all sources together (a flood from many addresses).
        self.new_dids_per_source = RateLimiter(1.0, 5)
        self.new_dids = RateLimiter(20.0, 100)
        self.clock = clock

    def check_size(self, content_length: int | None) -> None:
        if content_length is not None and content_length > MAX_FED_BODY:
            raise PayloadTooLarge(
                f"federation requests are at most {MAX_FED_BODY} bytes", max_bytes=MAX_FED_BODY
            )

    async def authenticate(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, str],
        body: bytes,
        source: str | None = None,
    ) -> str:
        """The DID that signed this request; `SignatureRefused` (401) or 413/429 otherwise.

        `source`: the address the request came from (the peer's, as the server saw it).
        """
        if len(body) > MAX_FED_BODY:
            self.check_size(len(body))
        origin = source_key(source)
        if not self.per_source.allow(origin):
            raise TooManyRequests(
                f"too many federation requests from {origin}; slow down", source=origin
            )
        try:
            keyid = self.claimed_keyid(headers)
            did, _ = split_key_id(keyid)
        except ProtocolError as exc:
            raise SignatureRefused(
                f"every /fed/ request must be signed (RFC 9421): {exc.message}",
                code=exc.code,
                has_body=bool(body),
                **exc.detail,
            ) from None
        if not did.startswith("did:web:"):
            raise SignatureRefused(
                f"the signer {did} is not a did:web DID", code="unknown_key", has_body=bool(body)
            )
        try:
            if not self.keys.cached(did) and not (
                self.new_dids_per_source.allow(origin) and self.new_dids.allow("*")
            ):
                raise TooManyRequests(
                    "too many new signers from here at once; retry shortly", signer=did
                )
            known = await self.keys.keys(did, keyid, wait=False)
        except (OutboundError, ProtocolError) as exc:
            raise SignatureRefused(
                f"the signer's DID document could not be read: {exc.message}",
                code="unknown_key",
                has_body=bool(body),
                signer=did,
            ) from None

        def resolve(key_id: str) -> Ed25519PublicKey:
            return known.authentication[key_id].public_key

        try:
            url = self.base_url + raw_path
            self.verify(method, url, headers, body, resolve, did, int(self.clock()))
        except ProtocolError as exc:  # HttpSignatureError, UnknownKey, MalformedField
            raise SignatureRefused(
                f"request refused: {exc.message}",
                code=exc.code,
                has_body=bool(body),
                signer=did,
                **exc.detail,
            ) from None
        # Only now is `did` more than a claim: charge its own budget.
        if not self.per_signer.allow(did):
            raise TooManyRequests(f"too many requests from {did}; slow down", signer=did)
        return did

    def claimed_keyid(self, headers: Mapping[str, str]) -> str:
        """The key id the request's signature names (docs/protocol.md 5.2): only a claim until
        `verify` holds."""
        keyid = read_signature(headers, tag=self.tag).signature_input.params.get("keyid")
        if not isinstance(keyid, str):
            raise MalformedSignature("the signature has no keyid")
        return keyid

    def verify(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        resolve: Callable[[str], Ed25519PublicKey],
        did: str,
        now: int,
    ) -> None:
        """The signature check of docs/protocol.md section 5 at `now` (raises a
        `ProtocolError`)."""
        verify_request(
            method,
            url,
            headers,
            body,
            resolve,
            now,
            self.max_age,
            seen_nonce=lambda nonce, until: self.seen_nonce(did, nonce, until),
            clock_skew=self.clock_skew,
            required=self.required,
            tag=self.tag,
        )

    def seen_nonce(self, did: str, nonce: str, until: int) -> bool:
        """Whether `did` sent this nonce before (then it is a replay); remembers it until
        `until`. A nonce is unique per signer (docs/protocol.md 5.5): another signer's request
        with the same nonce is no replay, and must not be refused as one."""
        return self.replays.seen(f"{did} {nonce}", until)
