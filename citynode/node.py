"""One city node's services, opened from its home folder: database, identity, publisher.

The CLI and the HTTP app both work through a `Node`, so publishing from the command line and
through the editor API run exactly the same code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from citynode.config import NodeConfig, load_config, write_config
from citynode.errors import ConfigError
from citynode.identity import Keyring, NodeIdentity, add_key
from citynode.origins import Origin
from citynode.publishing import Publisher
from citynode.storage.counters import Tally, read_counters
from citynode.storage.db import Database
from citynode.storage.origins import put_origin
from citynode.storage.records import now_utc
from citynode.trust import KnownKeys

log = logging.getLogger("citynode.node")
#: How often a running node looks for key changes made by other processes.
KEY_POLL_SECONDS = 0.25


class Node:
    def __init__(
        self, config: NodeConfig, db: Database, keyring: Keyring, known_keys: KnownKeys
    ) -> None:
        self.config = config
        self.db = db
        #: The node's keys as the database says now (a CLI `key rotate` beside `serve` shows
        #: here within a poll; see `Keyring`).
        self.keyring = keyring
        #: Every key state the node knows (its own, its peers'): signature status at read time.
        self.known_keys = known_keys
        keyring.listeners.append(self._own_keys_changed)
        self.origin = Origin(
            did=keyring.identity.did,
            base_url=config.base_url,
            city=config.node.name,
            country=config.node.country,
            wikidata=config.node.wikidata,
            population=config.node.population_profile,
        )
        self.publisher = Publisher(db, keyring, self.origin)
        #: Refused requests, counted in memory and written in batches (see `Tally`).
        self.rejections = Tally()

    @classmethod
    async def open(cls, home: Path) -> Node:
        config = load_config(home)
        db = await Database.open(config.database_path)
        try:
            keyring = await Keyring.load(db.reader, config.keys_path, config.base_url)
            known = await KnownKeys.load(db.reader, keyring.identity.did)
            node = cls(config, db, keyring, known)
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

    @property
    def identity(self) -> NodeIdentity:
        """Who the node is and the key it signs with now."""
        return self.keyring.identity

    async def reload_identity(self) -> bool:
        """Re-read keys after a rotation or revocation (True if they changed)."""
        return await self.keyring.refresh(self.db.reader)

    def _own_keys_changed(self, identity: NodeIdentity) -> None:
        self.known_keys.learn(
            identity.did, {f"{identity.did}#{key.fragment}": key for key in identity.keys}
        )

    async def watch_keys(self, interval: float = KEY_POLL_SECONDS) -> None:
        """Pick up key changes made by other processes (`citynode key rotate` beside `serve`,
        DID documents read by `citynode sync`): a few small reads per interval."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.keyring.refresh(self.db.reader)
                await self.known_keys.refresh(self.db.reader)
            except Exception:  # the watch must outlive a failed read; the next one retries
                log.exception("could not re-read the key tables")

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
