"""A plain progress bar on standard error for long imports (no dependency needed)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO = sys.stderr) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream
        self.count = 0
        self._started = time.monotonic()
        self._shown = 0.0

    def __call__(self, advanced: int) -> None:
        self.count = min(self.total, self.count + advanced)
        now = time.monotonic()
        # Redraw at most ten times a second: drawing must not cost more than the work.
        if now - self._shown >= 0.1 or self.count == self.total:
            self._shown = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        width = 30
        filled = int(width * self.count / self.total)
        rate = self.count / max(now - self._started, 1e-9)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.count}/{self.total} ({rate:,.0f}/s)"
        )
        self.stream.flush()

    def done(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()
