"""`make demo`: city nodes on loopback with the shipped sample data, on SQLite, federated.

Each sample city in `citynode/samples/<city>/` (node.json + records.jsonld) gets a home folder in
`demo-data/<city>`, is created on first run, (re)publishes its samples (unchanged records make no
new version), and serves on 127.0.0.1 at its port. Then every city peers with every other one
(allow lists name them, and each operator adds the others), pulls once, and from then on push
notices and polling keep them in step. Ctrl-C stops them.

Lisboa and Montevideo carry illustrative sample records, and their pages say so.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, Final

import msgspec
import uvloop
from aiohttp import web

from citynode.config import NodeConfig, build_config, load_config
from citynode.federation.errors import PeerUnreachable
from citynode.federation.service import Federation
from citynode.imports.files import read_drafts
from citynode.node import Node, create_home
from citynode.server import start_server
from citynode.storage import records as store
from citynode.storage.tokens import add_token, new_token
from citynode.web.keys import FEDERATION, NODE
from protocol.messages import Population

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_CITIES = ("medellin", "lisboa", "montevideo")
#: The one city whose sample records describe real practices (from seeds/); the others are
#: illustrative peers.
REAL_CITY = "medellin"
#: One peer request the demo leaves for an operator to decide: Montevideo asks Medellín to peer,
#: and Medellín's operator approves (or blocks) it on the operator page. Until then Medellín
#: still holds Montevideo's records, relayed by Lisboa.
PENDING: Final = ("medellin", "montevideo")


class SampleCity(msgspec.Struct, kw_only=True):
    name: str
    country: str
    port: int
    wikidata: str | None = None
    languages: list[str] = msgspec.field(default_factory=lambda: ["es", "en"])
    illustrative: bool = False
    population: Population | None = None


def stand_in_base(slug: str) -> str:
    """Sample records name other sample cities' records under stand-in addresses (a Montevideo
    practice adapted from https://medellin.example/records/wifi-parques); the demo rewrites
    them to the cities' real loopback addresses."""
    return f"https://{slug}.example/"


def rewrite_addresses(value: Any, bases: dict[str, str]) -> Any:
    if isinstance(value, str):
        for stand_in, real in bases.items():
            if value.startswith(stand_in):
                return real + value[len(stand_in) :]
        return value
    if isinstance(value, list):
        return [rewrite_addresses(item, bases) for item in value]
    if isinstance(value, dict):
        return {key: rewrite_addresses(item, bases) for key, item in value.items()}
    return value


def sample_city(slug: str) -> SampleCity:
    return msgspec.json.decode((SAMPLES / slug / "node.json").read_bytes(), type=SampleCity)


async def prepare_city(
    slug: str,
    data_dir: Path,
    host: str = "127.0.0.1",
    peers: tuple[str, ...] = (),
    port_offset: int = 0,
) -> NodeConfig:
    """Create the city's node if missing and publish its sample records."""
    city = sample_city(slug)
    port = city.port + port_offset
    allow = [
        f"http://{host}:{sample_city(peer).port + port_offset}"
        for peer in peers
        if peer != slug and (slug, peer) != PENDING
    ]
    home = data_dir / slug
    if not (home / "citynode.toml").exists():
        population = city.population
        config = build_config(
            node={
                "base_url": f"http://{host}:{port}",
                "name": city.name,
                "country": city.country,
                "wikidata": city.wikidata,
                "languages": city.languages,
                "illustrative": city.illustrative or slug != REAL_CITY,
                "population": population.count if population else None,
                "population_year": population.year if population else None,
                "population_source": population.source if population else None,
                "population_illustrative": bool(population and population.illustrative),
            },
            server={"host": host, "port": port},
            # Loopback peers need the private-address permission; the allow list approves the
            # other demo cities' peer requests without an operator.
            federation={"allow_private_peers": True, "allow": allow},
        )
        await create_home(config, home)
    async with Node.opened(home) as node:
        drafts = read_drafts(SAMPLES / slug / "records.jsonld", node.config.base_url)
        bases = {
            stand_in_base(other): f"http://{host}:{sample_city(other).port + port_offset}/"
            for other in {*peers, slug}
        }
        await node.publisher.publish([rewrite_addresses(draft, bases) for draft in drafts])
    return load_config(home)


async def run(cities: list[str], data_dir: Path, port_offset: int = 0) -> None:
    runners: list[web.AppRunner] = []
    lines = []
    try:
        for slug in cities:
            config = await prepare_city(
                slug, data_dir, peers=tuple(cities), port_offset=port_offset
            )
            runners.append(await start_server(config))
        await federate(runners, cities)
        for runner in runners:
            node = runner.app[NODE]
            config = node.config
            held = await store.count_current(node.db.reader)
            note = " (illustrative sample records)" if config.node.illustrative else ""
            lines.append(
                f"  {config.node.name:<12} {config.base_url}/es/   "
                f"{held} records from {len(runners)} cities{note}"
            )
        print("citynode demo: these city nodes are running and peered (Ctrl-C stops them)")
        for line in lines:
            print(line, flush=True)
        first = runners[0].app[NODE]
        print(await _page_addresses(first), flush=True)
        base = runners[0].app[NODE].config.base_url
        print(
            f"  open data: {base}/catalog (DCAT), {base}/sparql (SPARQL), "
            f"{base}/dumps/records.ttl?origin=all, {base}/feeds/replica.atom",
            flush=True,
        )
        await asyncio.Event().wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


async def _page_addresses(node: Node) -> str:
    """Where to start in a browser, with an editor token for this run (shown once)."""
    token_id, token = new_token()
    async with node.db.transaction(notify=False) as conn:
        await add_token(conn, token_id, token, "demo", store.now_utc())
    base = node.config.base_url
    return "\n".join(
        [
            "pages (every page also in /en/ and /pt/; JSON with Accept: application/json):",
            f"  search in Spanish:   {base}/es/search?q=conectividad+hogares+vulnerables",
            f"  search in English:   {base}/en/search?q=digital+skills+older+people",
            f"  a practice, charts:  {base}/en/records/eva-escuela-virtual",
            f"  compare cities:      {base}/en/compare",
            f"  this city:           {base}/es/city",
            f"  publish (sign in):   {base}/es/editor   editor token: {token}",
            f"  operator:            {base}/es/operator   (Montevideo's peer request waits here)",
            f"  API:                 {base}/api/search?q=digital+skills   {base}/openapi.json",
        ]
    )


async def federate(runners: list[web.AppRunner], cities: list[str] | None = None) -> None:
    """Every city adds every other one as a peer (but for PENDING), then each pulls once."""
    slugs = cities or [""] * len(runners)
    services = [runner.app[FEDERATION] for runner in runners]
    for slug, service in zip(slugs, services, strict=True):
        for other_slug, other in zip(slugs, services, strict=True):
            if other is not service and (slug, other_slug) != PENDING:
                await _add_peer(service, other.node.config.base_url)
    for slug, service in zip(slugs, services, strict=True):
        for outcome in await service.worker.sync_now():
            if outcome.error and slug != PENDING[1]:
                print(f"  {outcome.name}: {outcome.error}", file=sys.stderr)


async def _add_peer(service: Federation, url: str) -> None:
    """Add a peer, waiting out the client's backoff: on a restart, a city's worker may have
    tried a peer that was not listening yet (the cities start one after the other)."""
    for _attempt in range(20):
        try:
            await service.peering.add(url)
            return
        except PeerUnreachable:
            await asyncio.sleep(0.5)
    await service.peering.add(url)


def main() -> int:
    parser = argparse.ArgumentParser(description="run the citynode demo federation")
    parser.add_argument("--data", type=Path, default=Path("demo-data"))
    parser.add_argument("--cities", default=",".join(DEFAULT_CITIES))
    # Shifts every city's port (8701 + offset, ...): two demos on one machine, or a busy 87xx.
    parser.add_argument("--port-offset", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        uvloop.run(run([c for c in args.cities.split(",") if c], args.data, args.port_offset))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
