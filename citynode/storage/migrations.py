"""Schema migrations, versioned in code and recorded in `PRAGMA user_version`.

A migration is a tuple of SQL statements; migration N runs once, in one transaction, on a
database whose user_version is N-1. Never edit a released migration: append a new one.
"""

from __future__ import annotations

import aiosqlite

from citynode.storage.facts_schema import STATEMENTS as FACTS_STATEMENTS

_RECORDS = (
    # Every version ever accepted, immutable, keyed by (id, version). `seq` is the changes-feed
    # position: AUTOINCREMENT never reuses a value, so a cursor stays valid forever.
    """CREATE TABLE records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        type TEXT NOT NULL,
        origin TEXT NOT NULL,
        modified TEXT NOT NULL,
        received_at TEXT NOT NULL,
        body BLOB NOT NULL,
        UNIQUE (id, version)
    )""",
    # The current version of each record (a tombstone is a current version too).
    """CREATE TABLE current (
        id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        seq INTEGER NOT NULL REFERENCES records(seq),
        type TEXT NOT NULL,
        origin TEXT NOT NULL,
        status TEXT,
        modified TEXT NOT NULL
    )""",
    "CREATE INDEX current_origin ON current (origin, type, modified)",
    "CREATE INDEX current_modified ON current (modified)",
    "CREATE INDEX current_seq ON current (seq)",
    # The nodes records come from (this node included), so a record shows its city.
    """CREATE TABLE origins (
        did TEXT PRIMARY KEY,
        base_url TEXT NOT NULL,
        city TEXT NOT NULL,
        country TEXT NOT NULL,
        wikidata TEXT,
        is_self INTEGER NOT NULL DEFAULT 0
    )""",
    # This node's signing keys (public part and lifecycle; private keys live in files).
    """CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        public_multibase TEXT NOT NULL,
        created TEXT NOT NULL,
        retired TEXT,
        revoked TEXT
    )""",
    # Editor API tokens, stored as SHA-256 hashes only.
    """CREATE TABLE tokens (
        token_id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created TEXT NOT NULL,
        revoked TEXT
    )""",
    # Counters an operator reads (rejected inputs by kind and source).
    """CREATE TABLE counters (
        name TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        value INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, source)
    )""",
)

# The SQLite FTS5 search tables of v0.1.0, as released (never edit a released migration). The
# search index moved to tantivy (citynode/search/engine.py); migration 5 drops these tables.
_SEARCH_FTS5 = (
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, summary, body, tags,
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    "INSERT INTO search_fts(search_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0, 3.0)')",
    """CREATE TABLE search_docs (
        docid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        origin TEXT NOT NULL,
        city TEXT NOT NULL,
        country TEXT NOT NULL,
        base_url TEXT NOT NULL,
        version INTEGER NOT NULL,
        modified TEXT NOT NULL,
        signature TEXT NOT NULL,
        concepts TEXT NOT NULL,
        facets TEXT NOT NULL
    )""",
    "CREATE TABLE search_texts (docid INTEGER PRIMARY KEY, texts BLOB NOT NULL)",
    "CREATE INDEX search_docs_modified ON search_docs (modified)",
    """CREATE TABLE search_facet_counts (
        facet TEXT NOT NULL,
        value TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (facet, value)
    ) WITHOUT ROWID""",
)

_PEERS = (
    # One row per peer node (federation). `sync` is the persisted state machine
    # (protocol/sync.py, encode_peer_sync); `state` and `next_attempt_at` are copies of two of
    # its fields so the worker finds runnable peers with an index instead of decoding every row.
    """CREATE TABLE peers (
        did TEXT PRIMARY KEY,
        base_url TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        country TEXT NOT NULL DEFAULT '',
        sync BLOB NOT NULL,
        state TEXT NOT NULL,
        next_attempt_at REAL NOT NULL,
        remote_cursor TEXT,
        caught_up_at REAL,
        rejected INTEGER NOT NULL DEFAULT 0,
        remote_status TEXT,
        added_by TEXT NOT NULL,
        added_at REAL NOT NULL
    )""",
    "CREATE INDEX peers_runnable ON peers (state, next_attempt_at)",
)

_LOG_POSITIONS = (
    # Where each follower of the change log stands (storage/log.py `Positions`), for views that
    # cannot keep their position beside their own data.
    """CREATE TABLE log_positions (
        follower TEXT PRIMARY KEY,
        position INTEGER NOT NULL
    )""",
)

_DROP_SEARCH_FTS5 = (
    # The search index is a tantivy index beside the database now, built from the change log
    # (citynode/search/); the FTS5 tables it replaces are dropped (the index rebuilds itself).
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_docs",
    "DROP TABLE IF EXISTS search_texts",
    "DROP TABLE IF EXISTS search_facet_counts",
)

_TRUST = (
    # Editor tokens may expire (`citynode token create --expires 90d`).
    "ALTER TABLE tokens ADD COLUMN expires TEXT",
    # Other nodes' keys as their DID documents last listed them (storage/keys.py), so a held
    # record's signature status is judged at read time against what the node knows now.
    """CREATE TABLE origin_keys (
        did TEXT NOT NULL,
        method TEXT NOT NULL,
        public_multibase TEXT NOT NULL,
        created TEXT,
        retired TEXT,
        revoked TEXT,
        updated TEXT NOT NULL,
        PRIMARY KEY (did, method)
    )""",
)

_PAGES = (
    # Editor sessions of the pages (web/sessions.py): only a hash of the cookie is stored, and a
    # session lives no longer than the token it was opened with.
    """CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        token_id TEXT NOT NULL REFERENCES tokens(token_id),
        created REAL NOT NULL,
        expires REAL NOT NULL
    )""",
    # The peer whose feed served each version (storage/records.append, from federation ingest):
    # the practice page shows the path a record took, the origin's node or a relay. NULL for
    # versions published here and for those stored before this column.
    "ALTER TABLE records ADD COLUMN received_from TEXT",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _RECORDS,
    _SEARCH_FTS5,
    _PEERS,
    _LOG_POSITIONS,
    _DROP_SEARCH_FTS5,
    _TRUST,
    # Record links and indicator observations (storage/facts.py), origin populations.
    tuple(FACTS_STATEMENTS),
    _PAGES,
)


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the schema to the newest version; returns the version reached."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"the database schema is version {current}, newer than this citynode "
            f"({len(MIGRATIONS)}): upgrade citynode before opening it"
        )
    for number, statements in enumerate(MIGRATIONS[current:], start=current + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
    return len(MIGRATIONS)
