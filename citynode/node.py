"""One city node's services, opened from its home folder: database, identity, publisher.

The CLI and the HTTP app both work through a `Node`, so publishing from the command line and
through the editor API run exactly the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from citynode.config import NodeConfig, load_config, write_config
from citynode.errors import ConfigError
from citynode.identity import NodeIdentity, add_key, load_identity
from citynode.origins import Origin
from citynode.publishing import Publisher
from citynode.storage.counters import Tally, read_counters
from citynode.storage.db import Database
from citynode.storage.origins import put_origin
from citynode.storage.records import now_utc


class Node:
    def __init__(self, config: NodeConfig, db: Database, identity: NodeIdentity) -> None:
        self.config = config
        self.db = db
        self.identity = identity
        self.origin = Origin(
            did=identity.did,
            base_url=config.base_url,
            city=config.node.name,
            country=config.node.country,
            wikidata=config.node.wikidata,
            population=config.node.population_profile,
        )
        self.publisher = Publisher(db, identity, self.origin)
        #: Refused requests, counted in memory and written in batches (see `Tally`).
        self.rejections = Tally()

    @classmethod
    async def open(cls, home: Path) -> Node:
        config = load_config(home)
        db = await Database.open(config.database_path)
        try:
            identity = await load_identity(db.reader, config.keys_path, config.base_url)
            node = cls(config, db, identity)
            async with db.transaction() as conn:
                await put_origin(conn, node.origin, is_self=True)
        except BaseException:
            await db.close()
            raise
        return node

    @classmethod
    @asynccontextmanager
    async def opened(cls, home: Path) -> AsyncIterator[Node]:
        """The node, open for the block (CLI commands that run once and exit)."""
        node = await cls.open(home)
        try:
            yield node
        finally:
            await node.close()

    async def reload_identity(self) -> None:
        """Re-read keys after a rotation or revocation."""
        self.identity = await load_identity(
            self.db.reader, self.config.keys_path, self.config.base_url
        )
        self.publisher.identity = self.identity

    async def counters(self) -> dict[str, dict[str, int]]:
        """Every counter (name -> source -> value), pending refusals included."""
        await self.rejections.flush(self.db)
        return await read_counters(self.db.reader)

    async def close(self) -> None:
        await self.rejections.flush(self.db)
        await self.db.close()


async def create_home(config: NodeConfig, home: Path) -> None:
    """Make a new node's home folder: citynode.toml, the first signing key, the database."""
    if await asyncio.to_thread((home / "citynode.toml").exists):
        raise ConfigError(f"{home} already holds a node (citynode.toml exists)", home=str(home))
    await asyncio.to_thread(home.mkdir, parents=True, exist_ok=True)
    write_config(config, home)
    config = load_config(home)
    async with Database.opened(config.database_path) as db, db.transaction() as conn:
        await add_key(conn, config.keys_path, now_utc())
