"""Who a stored record comes from: the origin city node (own node or a peer)."""

from __future__ import annotations

import msgspec

from protocol.messages import Population


class Origin(msgspec.Struct, frozen=True, kw_only=True):
    """The node a record was published by: its DID, base URL, city name and country code."""

    did: str
    base_url: str
    city: str
    country: str
    wikidata: str | None = None
    population: Population | None = None
