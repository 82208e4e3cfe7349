"""Worker process pools that die with the process that owns them, even on `kill -9`.

Every process pool of the node is a `WorkerPool`: the verifier's (federation/verifier.py), the
search analysis pool (search/index.py, owned by the `Node`), and any later one. Why a helper: a
`ProcessPoolExecutor` worker waits on its call queue, a pipe whose write end it holds itself
(spawn pickles both ends into the child), so when the parent dies without shutting the pool
down (kill -9, the OOM killer) the worker never sees end-of-file and lives on: orphans of about
70 MB each (issue 7, "Process hygiene").

Two guards, installed in each worker before it runs any task:

- `prctl(PR_SET_PDEATHSIG, SIGKILL)` (Linux, prctl(2)): the kernel kills the worker the moment
  its parent dies. The "parent" is the *thread* that spawned the worker, so a pool spawns all
  of its workers at once, on its first `submit`, from the submitting thread; owners submit from
  the event loop's thread, which lives as long as the process.
- A watcher thread in the worker that exits it when `os.getppid()` changes: the safety net on
  other systems, and for a parent that died before prctl ran.

Both start in the initializer, which runs once the spawned interpreter has started and
imported the parent's main module: a worker whose parent dies while it is still starting exits
when it reaches the initializer (it finds its parent gone), so on a loaded machine it may
outlive its parent by the time its start-up takes, never longer.

Lifetime: owners create pools where their other resources are created (the app's `cleanup_ctx`,
through `Node` and `Federation`) and `close()` them there. Creating a pool costs nothing: no
process (not even multiprocessing's resource tracker) starts before the first `submit`.

    pool = WorkerPool(2, name="verify")
    result = await loop.run_in_executor(pool, function, *args)
    pool.close()
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Final, ParamSpec, TypeVar

__all__ = ["WorkerPool", "die_with_parent"]

P = ParamSpec("P")
T = TypeVar("T")

#: prctl(2) option: the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG: Final = 1
#: How often a worker's watcher thread checks that its parent is still there.
WATCH_INTERVAL: Final = 0.5


def die_with_parent(parent_pid: int, initializer: Callable[..., object] | None, *args: Any) -> None:
    """Worker initializer: arrange to die with `parent_pid`, then run the owner's initializer."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()
    if initializer is not None:
        initializer(*args)


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL)
    os._exit(1)


def _ready() -> None:
    """The task each worker gets first: submitting one per worker spawns them all now."""


class WorkerPool(Executor):
    """A process pool (spawned, not forked) whose workers die with this process.

    `name` is for logs and the operator. `initializer(*initargs)` runs in each worker after the
    guards. Use it as any `Executor` (`loop.run_in_executor(pool, ...)`); `close()` when done.
    """

    def __init__(
        self,
        workers: int,
        *,
        name: str,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        if workers < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.workers = workers
        self.name = name
        self._initializer = initializer
        self._initargs = initargs
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._pool is not None

    def pids(self) -> list[int]:
        """The worker processes' ids (empty before the first submit)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return sorted(processes)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the {self.name} worker pool is closed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    # spawn, not fork: the node has threads (aiosqlite), and forking a threaded
                    # process can copy a held lock into the child.
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=die_with_parent,
                    initargs=(os.getpid(), self._initializer, *self._initargs),
                )
                # A pool spawns a worker on a submit that finds none idle: one quick task per
                # worker starts them all here, in this thread (see the module docstring).
                for _ in range(self.workers):
                    self._pool.submit(_ready)
            pool = self._pool
        return pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def close(self) -> None:
        """Stop the workers (queued tasks are cancelled; running ones finish). Idempotent."""
        with contextlib.suppress(Exception):
            self.shutdown(wait=False, cancel_futures=True)
