"""The client behind a reverse proxy: X-Forwarded-For, -Proto and -Host from trusted proxies.

Behind nginx every request comes from the proxy's address, so per-source rate limits, refusal
counters and logs would all see one client. The operator lists the proxies it runs
(`server.trusted_proxies`); for a request from one of them the client address is the right-most
X-Forwarded-For entry that is not itself a trusted proxy (entries further left were written by
the client and prove nothing). Requests from anyone else keep their socket address, and their
X-Forwarded-* headers are ignored.

The node's own URL never comes from request headers: signatures are checked against
`node.base_url` + the raw path (`@target-uri`, RFC 9421 section 2.2.2), so a forged Host
header cannot make a request signed for another node verify here. `X-Forwarded-Proto` and
`X-Forwarded-Host` only set what `request.scheme` and `request.host` report.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware

from citynode.web.errors import Handler

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1`, `10.0.0.0/8`, `::1` as networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks if network.version == ip.version)


def client_address(remote: str | None, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The address of the client: walk X-Forwarded-For from the right past trusted proxies."""
    if not _trusted(remote, networks):
        return remote or ""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop.strip("[]")))
            except ValueError:
                return remote or ""  # garbage from a misconfigured proxy: keep the proxy
    return hops[0] if hops else (remote or "")


def forwarded_middleware(networks: tuple[Network, ...]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not networks or not _trusted(request.remote, networks):
            return await handler(request)
        changes: dict[str, str] = {
            "remote": client_address(
                request.remote, request.headers.get("X-Forwarded-For", ""), networks
            )
        }
        proto = request.headers.get("X-Forwarded-Proto", "").strip().lower()
        if proto in ("http", "https"):
            changes["scheme"] = proto
        host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        if host:
            changes["host"] = host
        return await handler(request.clone(**changes))  # type: ignore[arg-type]

    return middleware
