"""CSV uploads on the editor page: read and checked at once (a row-by-row report of problems),
then published in the background so a large file shows its progress.

Jobs live in the serving process only (what a browser is waiting for, not data: the records
themselves are stored by the one write path, `Publisher.publish`, all or nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from typing import Any, Final

import msgspec

from citynode.errors import NodeError
from citynode.imports.csv_records import read_practices, read_results
from citynode.imports.csv_table import CsvImportError, decode, read_table
from citynode.node import Node
from protocol.errors import ProtocolError

MAX_JOBS: Final = 50


class RowProblem(msgspec.Struct, kw_only=True):
    row: int | None
    column: str | None
    message: str


class ImportJob(msgspec.Struct, kw_only=True):
    id: str
    file: str
    owner: str  # the token id of the editor who uploaded it
    total: int = 0
    done: int = 0
    state: str = "checking"  # checking | publishing | done | failed
    problems: list[RowProblem] = []
    outcomes: list[dict[str, Any]] = []
    error: str | None = None
    started: float = 0.0
    #: "practices" or "results": which template the file follows.
    file_kind: str = ""


class ImportJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, ImportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, job_id: str, owner: str) -> ImportJob | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def start(self, node: Node, name: str, data: bytes, owner: str) -> ImportJob:
        """Check the file now; when it is clean, publish it in the background."""
        while len(self.jobs) >= MAX_JOBS:
            self.jobs.pop(next(iter(self.jobs)))
        job = ImportJob(id=secrets.token_urlsafe(12), file=name, owner=owner, started=time.time())
        self.jobs[job.id] = job
        try:
            job.file_kind, drafts = read_drafts(name, data)
        except CsvImportError as exc:
            job.state = "failed"
            job.problems = [
                RowProblem(row=p.row, column=p.field, message=p.message) for p in exc.problems
            ]
            return job
        job.total = len(drafts)
        job.state = "publishing"
        task = asyncio.create_task(self._publish(node, job, drafts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _publish(self, node: Node, job: ImportJob, drafts: list[dict[str, Any]]) -> None:
        def advanced(count: int) -> None:
            job.done = min(job.total, job.done + count)

        try:
            outcomes = await node.publisher.publish(drafts, progress=advanced)
        except (NodeError, ProtocolError) as exc:
            job.state = "failed"
            job.error = exc.message
            # A batch error lists each refused record with its place in the file: in a
            # practices file record n is row n + 1 (the header is row 1).
            rows = job.file_kind == "practices"
            job.problems = [
                RowProblem(
                    row=e["position"] + 2 if rows and isinstance(e.get("position"), int) else None,
                    column=e.get("field"),
                    message=str(e.get("message", exc.message)),
                )
                for e in exc.detail.get("errors") or [exc.detail]
            ]
            return
        job.outcomes = [msgspec.to_builtins(o) for o in outcomes]
        job.done = job.total
        job.state = "done"

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def read_drafts(name: str, data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """(which template, drafts) from a practices or a results CSV (told apart by the header,
    as the CLI does)."""
    text = decode(data)
    names, _rows = read_table(text, name)
    if "result_slug" in names:
        return "results", read_results(text, name)
    if "slug" in names:
        return "practices", read_practices(text, name)
    raise CsvImportError(
        name,
        "this is neither a practices file (with a 'slug' column) nor a results file (with a "
        "'result_slug' column); start from a template",
        row=1,
    )
