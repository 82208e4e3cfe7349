"""Where a node's open data is: for the node descriptor, `Link` headers and pages.

One list, so `/.well-known/citynode`, the `Link` header (RFC 8288) on the node's front doors and
the HTML pages (`<link rel=...>` in their head) name the same addresses.
"""

from __future__ import annotations

from typing import Final

import msgspec

from citynode.opendata.dumps import FILES


class OpenDataLink(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    href: str
    rel: str
    type: str
    title: str


#: Paths whose responses carry the `Link` header.
FRONT_DOORS: Final = frozenset({"/", "/records", "/.well-known/citynode"})


def links(base_url: str, sparql: bool = True) -> list[OpenDataLink]:
    base = base_url.rstrip("/")
    found = [
        OpenDataLink(
            name="catalog",
            href=f"{base}/catalog",
            rel="describedby",
            type="application/ld+json",
            title="DCAT-AP catalog of this node's data",
        ),
        OpenDataLink(
            name="practicesFeed",
            href=f"{base}/feeds/practices.atom",
            rel="alternate",
            type="application/atom+xml",
            title="New practices of this city",
        ),
        OpenDataLink(
            name="replicaFeed",
            href=f"{base}/feeds/replica.atom",
            rel="alternate",
            type="application/atom+xml",
            title="New practices of every city in the federation",
        ),
        OpenDataLink(
            name="searchFeed",
            href=f"{base}/search.atom",
            rel="search",
            type="application/atom+xml",
            title="Any search as a feed (the /api/search parameters)",
        ),
    ]
    if sparql:
        found.append(
            OpenDataLink(
                name="sparql",
                href=f"{base}/sparql",
                rel="service",
                type="application/sparql-results+json",
                title="SPARQL 1.1 endpoint (read-only)",
            )
        )
    found += [
        OpenDataLink(
            name=f"dump:{file.name}",
            href=f"{base}/dumps/{file.name}",
            rel="alternate",
            type=file.media_type,
            title=f"Dump: {file.title}",
        )
        for file in FILES.values()
    ]
    return found


def link_header(base_url: str, sparql: bool = True) -> str:
    return ", ".join(
        f'<{link.href}>; rel="{link.rel}"; type="{link.type}"; title="{link.title}"'
        for link in links(base_url, sparql)
    )
