"""The one guarded HTTP client: every outbound request of the node goes through it.

Federation pulls, DID document fetches, inbox pushes and the live search fan-out all sit above
`GuardedClient`. It protects the node (and the network it runs in) from peers that point it
somewhere it must not go, and from peers that answer badly:

- addresses (`citynode/addresses.py`): the client resolves names itself, in the connector's
  resolver, and refuses loopback, private (RFC 1918, fc00::/7), link-local, shared (CGNAT
  100.64/10), multicast, unspecified, reserved and cloud metadata addresses, unless the
  operator allows private peers (`allow_private`) or lists networks (`allow_networks`).
  Metadata, unspecified, multicast and reserved addresses are refused even then. A name with
  any refused address is refused whole;
- pinning: the check runs inside the aiohttp resolver, and aiohttp connects to exactly the
  addresses that resolver returned, so a DNS answer cannot change between check and connect
  (no rebinding window). The DNS cache is off, so every new connection checks again. IP
  literals never reach the resolver, so they are checked before the request; numeric hosts in
  legacy forms (`2130706433`, `0177.0.0.1`, `127.1`) are refused outright;
- redirects: followed by the client (at most 3), each target checked again and re-signed; only
  GET and HEAD follow redirects;
- size: `Content-Length` over the cap is refused before reading; the body is streamed and the
  connection dropped as soon as it passes the cap (decompressed bytes count);
- time: one deadline per call, covering every redirect and the body;
- per-host backoff with full jitter after connection failures, timeouts, 5xx and 429;
- no proxies from the environment, no cookies;
- an optional signer adds RFC 9421 headers to every request (see `make_signer`).

Construct it with the node's settings, then `async with GuardedClient(...) as client:` or
`await client.start()` ... `await client.close()` (the app does this in a `cleanup_ctx`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import re
import secrets
import socket
import time
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Self

import aiohttp
from aiohttp.abc import AbstractResolver
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from multidict import CIMultiDictProxy
from yarl import URL

from citynode.addresses import AddressPolicy, GuardedResolver
from citynode.errors import (
    OutboundBackoff,
    OutboundBadContentType,
    OutboundBadStatus,
    OutboundBadUrl,
    OutboundConnectionFailed,
    OutboundError,
    OutboundRefused,
    OutboundTimeout,
    OutboundTooLarge,
    OutboundTooManyRedirects,
)
from protocol.httpsig.signing import sign_request

__all__ = [
    "GuardedClient",
    "OutboundResponse",
    "Signer",
    "make_signer",
]

#: (method, url, headers, body) -> headers to add. Called for every request and redirect hop.
Signer = Callable[[str, str, Mapping[str, str], bytes | None], Mapping[str, str]]

DEFAULT_MAX_BYTES: Final = 8 * 1024 * 1024
DEFAULT_TIMEOUT: Final = 10.0
MAX_REDIRECTS: Final = 3
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_CHUNK: Final = 64 * 1024
_JSON_TYPES: Final = frozenset(
    {"application/json", "application/ld+json", "application/did+json", "application/did+ld+json"}
)
_NUMERIC_LABEL: Final = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


@dataclass(frozen=True)
class OutboundResponse:
    """A response read in full (within its cap)."""

    status: int
    url: str
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


def make_signer(
    private_key: Ed25519PrivateKey,
    keyid: str,
    *,
    lifetime: int = 300,
    clock: Callable[[], float] = time.time,
    nonce: Callable[[], str] = lambda: secrets.token_urlsafe(16),
) -> Signer:
    """A signer adding RFC 9421 headers with `protocol.httpsig.signing.sign_request`."""

    def sign(
        method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Mapping[str, str]:
        created = int(clock())
        return sign_request(
            method, url, headers, body, private_key, keyid, created, created + lifetime, nonce()
        )

    return sign


@dataclass
class _HostState:
    failures: int = 0
    until: float = 0.0


@dataclass
class _Options:
    max_bytes: int
    deadline: float
    sign: bool
    headers: dict[str, str] = field(default_factory=dict)


class GuardedClient:
    """The node's outbound HTTP client. One per node; safe for concurrent use.

    `stats` counts requests and refusals by code (`requests`, `ssrf_refused`, `too_large`,
    `timeout`, ...), for the operator page and tests.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allow_networks: Iterable[str] = (),
        allow_http: bool = False,
        signer: Signer | None = None,
        user_agent: str = "citynode/0.1",
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = MAX_REDIRECTS,
        limit_per_host: int = 8,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        resolver: AbstractResolver | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = AddressPolicy.build(allow_private, allow_networks)
        self.allow_http = allow_http
        self.signer = signer
        self.user_agent = user_agent
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.stats: Counter[str] = Counter()
        self._limit_per_host = limit_per_host
        self._inner_resolver = resolver
        self._rng = rng or random.Random()
        self._clock = clock
        self._hosts: dict[str, _HostState] = {}
        self._session: aiohttp.ClientSession | None = None

    # --- lifetime ---

    async def start(self) -> None:
        """Open the connection pool (inside a running event loop)."""
        if self._session is not None:
            return
        resolver = GuardedResolver(
            self.policy, self._inner_resolver or aiohttp.ThreadedResolver(), self._refused
        )
        connector = aiohttp.TCPConnector(
            resolver=resolver,
            use_dns_cache=False,  # every new connection resolves and checks again
            limit=100,
            limit_per_host=self._limit_per_host,
            family=socket.AF_UNSPEC,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # an environment proxy would bypass the address check
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),  # our own deadline covers everything
            headers={"User-Agent": self.user_agent},
        )

    async def close(self) -> None:
        """Close the pool; idempotent."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- requests ---

    async def get_json(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
        sign: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """GET a JSON document: the body bytes of a 200 response with a JSON media type."""
        response = await self.request(
            "GET",
            url,
            max_bytes=max_bytes,
            deadline=deadline,
            sign=sign,
            headers={"Accept": "application/json", **(headers or {})},
        )
        self._expect(response, (200,))
        if response.content_type not in _JSON_TYPES and not response.content_type.endswith("+json"):
            self.stats["bad_content_type"] += 1
            raise OutboundBadContentType(
                f"{response.url} answered {response.content_type or 'no media type'}, not JSON",
                url=response.url,
                content_type=response.content_type,
            )
        return response.body

    async def post_json(
        self,
        url: str,
        body: bytes,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
        sign: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> OutboundResponse:
        """POST a JSON body; the response (status 2xx) with its body read within the cap."""
        response = await self.request(
            "POST",
            url,
            body=body,
            max_bytes=max_bytes,
            deadline=deadline,
            sign=sign,
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                **(headers or {}),
            },
        )
        self._expect(response, range(200, 300))
        return response

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
        sign: bool = True,
    ) -> OutboundResponse:
        """Send one request (following redirects for GET/HEAD); any status is returned.

        Raises an `OutboundError` subclass for everything but an HTTP status.
        """
        if self._session is None:
            raise RuntimeError("GuardedClient used before start() or after close()")
        self.stats["requests"] += 1
        method = method.upper()
        target = self._check_url(url)
        options = _Options(
            max_bytes=self.max_bytes if max_bytes is None else max_bytes,
            deadline=self.timeout if deadline is None else deadline,
            sign=sign and self.signer is not None,
            headers=dict(headers or {}),
        )
        try:
            async with asyncio.timeout(options.deadline):
                for _hop in range(self.max_redirects + 1):
                    response = await self._send(method, target, body, options)
                    if response.status not in _REDIRECTS:
                        return response
                    target = self._redirect_target(method, target, response)
                    self.stats["redirects"] += 1
        except TimeoutError:
            self.stats["timeout"] += 1
            self._failed(target)
            raise OutboundTimeout(
                f"{target.host} did not answer within {options.deadline:g} s", url=str(target)
            ) from None
        self.stats["too_many_redirects"] += 1
        raise OutboundTooManyRedirects(
            f"more than {self.max_redirects} redirects from {url}", url=url
        )

    # --- internals ---

    def _refused(self, host: str, reason: str) -> None:
        self.stats["ssrf_refused"] += 1

    def _check_url(self, url: str | URL) -> URL:
        """Refuse a URL before any connection: IP literals, odd numbers, scheme, credentials.

        A refused address is named before a refused scheme: "127.0.0.1 is a loopback address"
        tells the operator more than "the scheme http is not allowed".
        """
        try:
            target = url if isinstance(url, URL) else URL(url)
        except (ValueError, TypeError):
            raise OutboundBadUrl(f"not a URL: {str(url)[:200]!r}") from None
        host = (target.raw_host or "").rstrip(".").lower()
        if host:
            self._check_host(host)
        if target.scheme not in ("https", "http") or (
            target.scheme == "http" and not self.allow_http
        ):
            raise OutboundBadUrl(f"the scheme of {target} is not allowed", url=str(target))
        if target.user is not None or target.password is not None:
            raise OutboundBadUrl("URLs with credentials are not requested", url=str(target))
        if not host:
            raise OutboundBadUrl(f"{target} has no host", url=str(target))
        return target

    def _check_host(self, host: str) -> None:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            # A name whose last label is numeric is an IPv4 address in a legacy form
            # (decimal, octal, hex, or shortened); resolvers disagree on them, so refuse.
            if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
                self._refused(host, "numeric")
                raise OutboundRefused(
                    f"{host} is not a canonical IP address", host=host, reason="numeric"
                ) from None
            return
        reason = self.policy.refusal(address)
        if reason is not None:
            self._refused(host, reason)
            raise OutboundRefused(
                f"{host} is a {reason} address; the node does not contact it",
                host=host,
                reason=reason,
            )

    def _redirect_target(self, method: str, current: URL, response: OutboundResponse) -> URL:
        if method not in ("GET", "HEAD"):
            # A signed POST names its target; following elsewhere would re-send the body.
            raise OutboundTooManyRedirects(
                f"{current} redirected a {method}; not followed", url=str(current)
            )
        location = response.headers.get("Location")
        if not location:
            raise OutboundBadStatus(
                f"{current} redirected without a Location",
                http_status=response.status,
                url=str(current),
            )
        try:
            target = current.join(URL(location))
        except ValueError:
            raise OutboundBadUrl(f"bad redirect Location {location[:200]!r}") from None
        return self._check_url(target)

    def _host_key(self, target: URL) -> str:
        return f"{target.scheme}://{target.host}:{target.port}"

    def _failed(self, target: URL, retry_after: float | None = None) -> None:
        state = self._hosts.setdefault(self._host_key(target), _HostState())
        state.failures += 1
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0 ** min(state.failures - 1, 60))
        delay = self._rng.uniform(0.0, ceiling)  # full jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_cap))
        state.until = self._clock() + delay

    def _succeeded(self, target: URL) -> None:
        self._hosts.pop(self._host_key(target), None)

    async def _send(
        self, method: str, target: URL, body: bytes | None, options: _Options
    ) -> OutboundResponse:
        assert self._session is not None
        state = self._hosts.get(self._host_key(target))
        now = self._clock()
        if state is not None and state.until > now:
            self.stats["host_backoff"] += 1
            raise OutboundBackoff(
                f"{target.host} failed recently; retrying in {state.until - now:.0f} s",
                host=target.host,
                retry_after=round(state.until - now, 3),
            )
        headers = dict(options.headers)
        if options.sign and self.signer is not None:
            # The signature covers @target-uri: the exact URL string sent (yarl's encoded form).
            headers.update(self.signer(method, str(target), headers, body))
        try:
            async with self._session.request(
                method,
                target,
                data=body,
                headers=headers,
                allow_redirects=False,
            ) as resp:
                content = await self._read(resp, options.max_bytes, target)
                response = OutboundResponse(resp.status, str(target), resp.headers, content)
        except OutboundError:
            raise
        except (aiohttp.ClientError, OSError) as exc:
            self.stats["connection_failed"] += 1
            self._failed(target)
            raise OutboundConnectionFailed(
                f"could not reach {target.host}: {type(exc).__name__}",
                url=str(target),
                error=str(exc)[:200],
            ) from None
        if response.status >= 500 or response.status == 429:
            self._failed(target, _retry_after(response.headers.get("Retry-After")))
        else:
            self._succeeded(target)
        return response

    async def _read(self, resp: aiohttp.ClientResponse, max_bytes: int, target: URL) -> bytes:
        if resp.content_length is not None and resp.content_length > max_bytes:
            self.stats["too_large"] += 1
            resp.close()
            raise OutboundTooLarge(
                f"{target.host} announced {resp.content_length} bytes; the cap is {max_bytes}",
                url=str(target),
                max_bytes=max_bytes,
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                self.stats["too_large"] += 1
                resp.close()  # drop the connection rather than drain the rest
                raise OutboundTooLarge(
                    f"{target.host} sent more than {max_bytes} bytes",
                    url=str(target),
                    max_bytes=max_bytes,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _expect(self, response: OutboundResponse, statuses: Container[int]) -> None:
        if response.status not in statuses:
            self.stats["bad_status"] += 1
            raise OutboundBadStatus(
                f"{response.url} answered HTTP {response.status}",
                http_status=response.status,
                url=response.url,
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )


def _retry_after(value: str | None) -> float | None:
    # RFC 9110 section 10.2.3: delay-seconds (an HTTP-date is ignored here).
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
