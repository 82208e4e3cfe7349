"""The generated parts of the spec are what the code makes now (docs/protocol.md): the message
schemas, the test vectors, the examples and the requirements table inside protocol.md.

When this fails, the code changed the wire: run `make spec`, read the diff, and say in the spec
what changed (section 11 says which changes `citynode/1` allows).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from citynode.spec.files import generated_files

DOCS = Path(__file__).resolve().parents[1] / "docs"
GENERATED = generated_files(DOCS)


@pytest.mark.parametrize("relative", sorted(GENERATED))
def test_the_committed_file_is_what_the_code_makes(relative: str) -> None:
    path = DOCS / relative
    assert path.exists(), f"docs/{relative} is missing: run `make spec`"
    assert path.read_bytes() == GENERATED[relative], (
        f"docs/{relative} differs from what the code makes: run `make spec` and review the diff"
    )


@pytest.mark.parametrize("folder", ["schemas", "vectors"])
def test_no_file_is_left_over(folder: str) -> None:
    made = {relative.split("/", 1)[1] for relative in GENERATED if relative.startswith(folder)}
    found = {path.name for path in (DOCS / folder).iterdir()} - {"README.md"}
    assert found == made, f"docs/{folder} holds files the code no longer makes: {found - made}"
