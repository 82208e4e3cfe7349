"""Every generated file of the spec, by its path under `docs/`."""

from __future__ import annotations

from pathlib import Path

from citynode.spec.examples import render_protocol
from citynode.spec.schemas import schema_files
from citynode.spec.vectors import vector_files


def generated_files(docs: Path) -> dict[str, bytes]:
    """Path under `docs/` -> content. `protocol.md` is read, and its example blocks rewritten."""
    files = {f"schemas/{name}": content for name, content in schema_files().items()}
    files.update({f"vectors/{name}": content for name, content in vector_files().items()})
    text = (docs / "protocol.md").read_text(encoding="utf-8")
    files["protocol.md"] = render_protocol(text).encode()
    return files
