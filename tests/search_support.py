"""A real store and search index in a temporary folder, for search tests.

Records are appended to the store (as publish and ingest do) and the indexer follows the change
log, so every test goes through the same path as a running node: store -> log -> index.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec

from citynode.origins import Origin
from citynode.search.concepts import LabelMap
from citynode.search.engine import Engine
from citynode.search.indexer import Indexer
from citynode.search.query import Searching, SearchQuery, SearchResult
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.log import Following
from citynode.storage.origins import put_origin
from protocol.records import RECORD_CONTEXT


def signed_fields(did: str, created: str = "2022-01-01T00:00:00Z") -> dict[str, Any]:
    """What every stored record carries beside its content: the bundled context and a proof
    (well-formed, not checked here: the index reads records as they are stored, by their
    readable part, protocol/readable.py, and a malformed proof would be set aside)."""
    return {
        "@context": RECORD_CONTEXT,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": created,
            "verificationMethod": f"{did}#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "1" * 86,
        },
    }


class Index:
    def __init__(self, db: Database, engine: Engine, labels: LabelMap | None) -> None:
        self.db = db
        self.engine = engine
        self.following = Following(db, Indexer(db, engine))
        self.searching = Searching(db, engine, labels)

    async def put(self, *docs: tuple[dict[str, Any], Origin]) -> None:
        """Store records (each a new version, as publish or ingest would) and index them."""
        async with self.db.transaction() as conn:
            for _, origin in docs:
                await put_origin(conn, origin)
            await store.append(
                conn,
                [
                    store.NewVersion(
                        id=doc["id"],
                        version=int(doc["version"]),
                        type=doc["type"],
                        origin=origin.did,
                        modified=doc["modified"],
                        status=doc.get("status"),
                        body=msgspec.json.encode(doc),
                    )
                    for doc, origin in docs
                ],
            )
        await self.following.step()

    async def ask(self, text: str = "", **fields: Any) -> SearchResult:
        return await self.searching.search(SearchQuery(text=text, **fields))


@asynccontextmanager
async def opened(folder: Path, labels: LabelMap | None = None) -> AsyncIterator[Index]:
    async with Database.opened(folder / "node.db") as db:
        engine = Engine.open(folder / "search-index", writable=True)
        try:
            yield Index(db, engine, labels)
        finally:
            engine.close()
