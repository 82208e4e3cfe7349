"""`python -m citynode.spec [DOCS]` (`make spec`): write the generated parts of the spec.

DOCS is the repository's `docs/` folder (default: ./docs). Writes `schemas/*.json`,
`vectors/*.json` and the worked examples inside `protocol.md`; prints what changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from citynode.spec.files import generated_files


def main(argv: list[str]) -> int:
    docs = Path(argv[0]) if argv else Path("docs")
    if not (docs / "protocol.md").exists():
        print(f"{docs} has no protocol.md: give the repository's docs/ folder", file=sys.stderr)
        return 2
    changed = 0
    for relative, content in generated_files(docs).items():
        path = docs / relative
        if path.exists() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        changed += 1
        print(f"wrote {path}")
    print(f"{changed} file(s) changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
