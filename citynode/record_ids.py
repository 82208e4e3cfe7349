"""Record ids and slugs: where a node's records live under its base URL.

A node's record ids are `{base_url}/records/{slug}` (docs/DESIGN.md "Records": an IRI under the
node's base URL, never reused); a version's IRI is `{id}/versions/{n}`. Drafts may name a record
relatively ("records/wifi-parques") and are resolved against the base URL.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from protocol.errors import InvalidRecord

SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


def records_base(base_url: str) -> str:
    return f"{base_url}/records/"


def slug_of(record_id: str, base_url: str) -> str:
    """The slug of one of this node's record ids; `InvalidRecord` for any other id."""
    prefix = records_base(base_url)
    if not record_id.startswith(prefix) or not SLUG.match(record_id[len(prefix) :]):
        raise InvalidRecord(
            f"record id {record_id} must be {prefix}<slug> (slug: lowercase letters, digits and "
            "hyphens)",
            record=record_id,
            field="id",
            rule="id-under-base-url",
        )
    return record_id[len(prefix) :]


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:60].strip("-")
    return slug or "record"


def resolve_iri(value: str, base_url: str) -> str:
    """A relative record IRI ("records/x" or "/records/x") resolved against the base URL."""
    if value.startswith(("http://", "https://")):
        return value
    return f"{base_url}/{value.lstrip('/')}"


def version_iri(record_id: str, version: int) -> str:
    return f"{record_id}/versions/{version}"
