"""Live search across peers: ask all at once, stop at one overall deadline, merge by RRF.

docs/DESIGN.md "Search": partial answers with a list of peers that did not answer. One deadline for
the whole call (not one timeout per peer, and not "wait for the slowest"): measured, a single
hanging peer otherwise holds the call to its own timeout. The transport (the node's guarded HTTP
client, which signs requests and refuses private addresses) is the caller's `ask`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Final, TypeVar

P = TypeVar("P", bound=Hashable)
RRF_K: Final = 60


def _key(hit: Any) -> Any:
    """A hit's identity across lists: its record id (dict key or attribute), else the hit."""
    if isinstance(hit, Mapping):
        return hit.get("id", id(hit))
    return getattr(hit, "id", hit)


def rrf_merge(lists: Mapping[Any, Sequence[Any]], k: int = RRF_K) -> list[Any]:
    """Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): score(d) =
    sum over lists of 1 / (k + rank of d in that list), ranks from 1.

    A record found by several sources appears once (the first copy seen, in source order) with the
    summed score. Ties keep the order in which hits were first seen, so the result is stable.
    Scores of different nodes' bm25 are not comparable; ranks are, which is why RRF.
    """
    scores: dict[Any, float] = {}
    first: dict[Any, Any] = {}
    for hits in lists.values():
        for rank, hit in enumerate(hits, start=1):
            key = _key(hit)
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
            first.setdefault(key, hit)
    order = {key: n for n, key in enumerate(first)}
    return [first[key] for key in sorted(first, key=lambda key: (-scores[key], order[key]))]


async def fan_out(
    peers: Iterable[P],
    ask: Callable[[P], Awaitable[Sequence[Any]]],
    deadline: float,
    *,
    k: int = RRF_K,
) -> tuple[list[Any], list[P], list[P]]:
    """Ask every peer concurrently; return (merged hits, peers that answered, peers missing).

    `deadline` is seconds from now for the whole call. A peer that has not answered by then is
    cancelled and listed missing, as is a peer whose `ask` raised. Merged in peer order.
    """
    peers = list(dict.fromkeys(peers))
    tasks = {asyncio.ensure_future(ask(peer)): peer for peer in peers}
    if not tasks:
        return [], [], []
    try:
        done, _ = await asyncio.wait(tasks, timeout=max(deadline, 0.0))
    finally:
        late = [task for task in tasks if not task.done()]
        for task in late:
            task.cancel()
    # Let cancellations run their cleanup without waiting on them: a peer's `ask` that swallows
    # CancelledError must not hold the call past the deadline either.
    for task in late:
        task.add_done_callback(_consume)
    answers: dict[P, Sequence[Any]] = {}
    for task in done:
        if not task.cancelled() and task.exception() is None:
            answers[tasks[task]] = task.result()
    answered = [peer for peer in peers if peer in answers]
    missing = [peer for peer in peers if peer not in answers]
    merged = rrf_merge({peer: answers[peer] for peer in answered}, k=k)
    return merged, answered, missing


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve a cancelled task's outcome so asyncio does not log 'exception never retrieved'."""
    with contextlib.suppress(BaseException):
        task.exception()
