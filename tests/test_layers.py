"""The dependency direction (docs/DESIGN.md "Layout"): vocab <- protocol <- citynode, never back.

Also: protocol/ does no I/O (no sockets, files, SQLite or HTTP libraries).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "vocab": {"protocol", "citynode"},
    "protocol": {
        "citynode",
        "aiohttp",
        "aiosqlite",
        "sqlite3",
        "socket",
        "requests",
        "urllib.request",
        "asyncio",
        "pathlib",
        "os",
    },
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_or_io_imports(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imports(path):
            for forbidden in FORBIDDEN[package]:
                if name == forbidden or name.startswith(forbidden + "."):
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_storage_does_not_import_the_web_layer() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "citynode" / "storage").rglob("*.py"))
        for name in imports(path)
        if name.startswith(
            ("aiohttp", "citynode.web", "citynode.federation", "citynode.app", "citynode.search")
        )
    ]
    assert not bad, "\n".join(bad)


def test_the_conformance_kit_knows_the_node_only_through_the_wire() -> None:
    # docs/protocol.md 12: the kit plays a peer from the spec, so it may use the protocol
    # package and an HTTP library, never the node's own services.
    bad = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "citynode" / "conformance").rglob("*.py"))
        for name in imports(path)
        if name.startswith("citynode") and not name.startswith("citynode.conformance")
    ]
    assert not bad, "\n".join(bad)
