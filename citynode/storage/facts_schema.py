"""The tables of storage/facts.py (kept apart so migrations import no code that needs the
database), and the origin columns for a city profile's population."""

from __future__ import annotations

from typing import Final

STATEMENTS: Final = (
    """CREATE TABLE record_links (
        source TEXT NOT NULL,
        relation TEXT NOT NULL,
        target TEXT NOT NULL,
        origin TEXT NOT NULL,
        detail BLOB,
        PRIMARY KEY (source, relation, target)
    )""",
    "CREATE INDEX record_links_target ON record_links (target, relation)",
    "CREATE INDEX record_links_relation ON record_links (relation, origin)",
    """CREATE TABLE observations (
        record TEXT NOT NULL,
        position INTEGER NOT NULL,
        origin TEXT NOT NULL,
        indicator TEXT NOT NULL,
        role TEXT NOT NULL,
        period TEXT NOT NULL,
        value REAL NOT NULL,
        unit_code TEXT,
        unit TEXT,
        illustrative INTEGER NOT NULL,
        result_of TEXT,
        PRIMARY KEY (record, position)
    )""",
    "CREATE INDEX observations_indicator ON observations (indicator, origin)",
    # A city profile's population (the node descriptor), for per-capita comparisons.
    "ALTER TABLE origins ADD COLUMN population INTEGER",
    "ALTER TABLE origins ADD COLUMN population_year INTEGER",
    "ALTER TABLE origins ADD COLUMN population_source TEXT",
    "ALTER TABLE origins ADD COLUMN population_illustrative INTEGER NOT NULL DEFAULT 0",
)
