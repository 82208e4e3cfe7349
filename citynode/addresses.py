"""Which network addresses the node may contact, and the resolver that enforces it.

Used by `citynode/outbound.py` (the one outbound client). A name is resolved inside the aiohttp
connector by `GuardedResolver`, which refuses the whole name if any of its addresses is refused;
aiohttp then connects only to the addresses the resolver returned, so the check pins the
connection (no DNS rebinding between check and connect).

Categories (RFC 6890 special-purpose registries): loopback, private (RFC 1918, fc00::/7),
link_local (169.254/16, fe80::/10), shared (RFC 6598 CGNAT 100.64/10) may be allowed by the
operator; metadata (169.254.169.254, fd00:ec2::254), unspecified, multicast and reserved never.
IPv4 embedded in IPv6 (mapped, 6to4, NAT64) is judged by its IPv4 address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from citynode.errors import OutboundConnectionFailed, OutboundRefused
from protocol.did import base_url_from_did

__all__ = [
    "AddressPolicy",
    "GuardedResolver",
    "IPAddress",
    "address_category",
    "did_scheme",
    "is_loopback_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Addresses never contacted, whatever the operator allows.
_METADATA: Final = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_SHARED: Final = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052, embeds an IPv4 address


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_category(address: IPAddress) -> str | None:
    """Why an address is not public (`loopback`, `private`, `metadata`...), or None if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None:
            return address_category(inner)
    if address in _METADATA:
        return "metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "shared"
    if address.is_reserved:  # 240/4 with the broadcast address, IPv6 ::/8 and the like
        return "reserved"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


_ALLOWABLE: Final = frozenset({"loopback", "link_local", "shared", "private"})


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses the node may contact."""

    allow_private: bool = False
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def build(cls, allow_private: bool, allow_networks: Iterable[str] = ()) -> AddressPolicy:
        return cls(allow_private, tuple(ipaddress.ip_network(n) for n in allow_networks))

    def refusal(self, address: IPAddress) -> str | None:
        """The reason to refuse this address, or None to allow it."""
        category = address_category(address)
        if category is None:
            return None
        if category not in _ALLOWABLE:
            return category  # metadata, unspecified, multicast, reserved: never
        if self.allow_private:
            return None
        if any(address in net for net in self.allow_networks if net.version == address.version):
            return None
        return category


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses names resolving to a forbidden address.

    aiohttp connects only to the addresses `resolve` returns, so checking here pins the
    connection to checked addresses.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        inner: AbstractResolver,
        on_refusal: Callable[[str, str], None] = lambda host, reason: None,
    ) -> None:
        self._policy = policy
        self._inner = inner
        self._on_refusal = on_refusal

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results:
            raise OutboundConnectionFailed(f"{host} does not resolve", host=host)
        for result in results:
            reason: str | None
            try:
                address = ipaddress.ip_address(result["host"].split("%", 1)[0])
            except ValueError:
                reason = "unparsable address"
            else:
                reason = self._policy.refusal(address)
            if reason is not None:
                self._on_refusal(host, reason)
                raise OutboundRefused(
                    f"{host} resolves to a {reason} address; the node does not contact it",
                    host=host,
                    reason=reason,
                )
        return results

    async def close(self) -> None:
        await self._inner.close()


def is_loopback_host(host: str | None) -> bool:
    """Loopback nodes (tests, the demo) run plain http; every other node must use https.

    An address, not a name that merely starts like one: "127.example.org" is a public name.
    """
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def did_scheme(did: str) -> str:
    """The scheme a did:web's documents are fetched with (did:web itself always means https)."""
    return "http" if is_loopback_host(urlsplit(base_url_from_did(did)).hostname) else "https"
