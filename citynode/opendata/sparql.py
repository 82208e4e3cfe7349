"""The SPARQL service of a node: the store that follows the log, and the processes that query it.

`Sparql.open` is what `serve` runs (web/sparql.py answers the SPARQL 1.1 Protocol on top of it);
`rebuild` is what `citynode sparql rebuild` runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from citynode import rdf
from citynode.errors import ConfigError
from citynode.node import Node
from citynode.opendata.sparql_queries import QueryAnswer, QueryPool, QueryRequest
from citynode.opendata.sparql_view import SparqlView
from citynode.storage import log
from citynode.storage.log import Following


class Sparql:
    def __init__(self, node: Node, view: SparqlView, following: Following) -> None:
        settings = node.config.opendata
        self.node = node
        self.view = view
        self.following = following
        self.pool = QueryPool(
            settings.sparql_processes, settings.sparql_timeout_seconds, settings.sparql_max_rows
        )
        self.max_rows = settings.sparql_max_rows
        self.timeout = settings.sparql_timeout_seconds

    @classmethod
    @asynccontextmanager
    async def opened(cls, node: Node, *, follow: bool = True) -> AsyncIterator[Sparql]:
        view = await SparqlView.open(node.db, node.config.sparql_path, node.config.base_url)
        if await view.position() > await log.head(node.db.reader):
            # A store ahead of the log belongs to another database (a restored backup, a
            # copied folder): rebuilt from this one.
            await view.clear()
        following = Following(node.db, view)
        service = cls(node, view, following)
        try:
            if follow:
                await following.start()
            yield service
        finally:
            await following.close()
            await service.pool.close()
            await view.close()

    async def query(
        self,
        query: str,
        *,
        accept: str | None = None,
        format: str | None = None,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> QueryAnswer:
        snapshot = await self.view.checkpoint()
        request = QueryRequest(
            snapshot=snapshot,
            query=query,
            accept=accept,
            format=format,
            default_graphs=default_graphs or [],
            named_graphs=named_graphs or [],
            max_rows=self.max_rows,
            deadline_seconds=self.timeout,
            prefixes=rdf.prefixes(),
        )
        try:
            return await self.pool.run(request)
        finally:
            await self.view.prune(self.pool.snapshots_in_use())


async def rebuild(node: Node) -> int:
    """Empty the store and apply the whole log again; the number of records applied."""
    try:
        view = await SparqlView.open(node.db, node.config.sparql_path, node.config.base_url)
    except OSError as exc:  # RocksDB's lock: `serve` holds the store
        raise ConfigError(
            f"the SPARQL store in {node.config.sparql_path} is open in another process (is the "
            f"node serving?): stop it first ({exc})"
        ) from None
    await view.close()
    async with Sparql.opened(node, follow=False) as service:
        await service.view.clear()
        # A Following that was not started begins at the start of the log.
        applied = await service.following.step()
        await service.view.optimize()
        return applied
