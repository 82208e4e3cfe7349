"""The per-peer sync state machine, as pure functions (STYLE.md point 9).

The node stores one `PeerSync` per peer in SQLite and feeds it events; `transition` returns the
next `PeerSync` and never sleeps, reads a clock or does I/O: the time (`now`, seconds since the
epoch) and the randomness (`rng`) are passed in, so a test can step it.

States
------
- `pending_approval`: known, waiting for the operator; never contacted on our own.
- `idle`: up to date; polled again at `next_attempt_at` (pull is truth, push is a hint).
- `due`: work is wanted at `next_attempt_at` (a pull, or a reconcile when `task == "reconcile"`).
- `syncing`: a worker holds the peer; `next_attempt_at` is the lease deadline, after which a
  `Tick` counts the attempt as failed (`lease_expired`), so a crash mid-pull heals itself.
- `backoff`: the last attempt failed; retried at `next_attempt_at`.
- `blocked`: the operator blocked the peer; nothing happens until `Approved`.
- `removed`: terminal.

The worker's loop: select peers in `idle`, `due`, `backoff` or `syncing` whose
`next_attempt_at <= now` and apply `Tick`; for peers then `due`, apply `Started` and work only if
the result is `syncing` (another worker may have raced); report `PullSucceeded`,
`ReconcileFinished` or `PullFailed`.

Notices and backoff
-------------------
- A notice whose cursor is not past ours is ignored (we already have it).
- `idle`/`due`: the peer becomes due at `max(now, last_attempt_at + notice_min_gap)`, so a
  stream of notices gives at most one pull per gap.
- `syncing`: remembered (`notice_pending`); the pull that ends re-queues the peer at once, so a
  change written while we were pulling is not left for the next poll.
- `backoff`: remembered. After a transient failure (`network`, `timeout`, `server_error`,
  `lease_expired`) a signed notice proves the peer is reachable again, so the remaining wait is
  cut to at most `notice_retry` seconds; the failure count is kept, so if it fails again the
  backoff keeps growing. After any other failure (rate limited, refused, invalid data...) a
  notice never shortens the wait: the peer cannot talk us out of a backoff it caused.
- `pending_approval`, `blocked`, `removed`: ignored.
- The operator's "sync now" (`SyncRequested`) on a `syncing` peer is remembered the same way:
  the pull under way may have read the feed before the change they are asking about.

Backoff is exponential with full jitter: the ceiling is `min(cap, base[kind] * 2**(failures-1))`
and the delay is uniform in `[min_delay, ceiling]`; a server's Retry-After raises it (up to cap).

Reconcile: `reconcile_at` is when the next digest comparison is due; an `idle` peer past it
becomes `due` with `task="reconcile"`. A mismatch resets the cursor to the start (ingest is
idempotent, so re-pulling is safe) and makes the peer due for a pull.
"""

from __future__ import annotations

import random
from typing import Final, Literal, get_args

import msgspec
from msgspec import Struct
from msgspec.structs import replace

from protocol.cursor import decode_cursor
from protocol.errors import InvalidCursor

__all__ = [
    "DEFAULT_POLICY",
    "ERROR_KINDS",
    "STATES",
    "Approved",
    "Blocked",
    "ErrorKind",
    "Event",
    "NoticeReceived",
    "PeerSync",
    "PullFailed",
    "PullSucceeded",
    "ReconcileFinished",
    "Removed",
    "Started",
    "State",
    "SyncPolicy",
    "SyncRequested",
    "Tick",
    "backoff_delay",
    "decode_peer_sync",
    "encode_peer_sync",
    "is_runnable",
    "new_peer",
    "transition",
]

State = Literal["pending_approval", "idle", "due", "syncing", "backoff", "blocked", "removed"]
STATES: Final[tuple[State, ...]] = (
    "pending_approval",
    "idle",
    "due",
    "syncing",
    "backoff",
    "blocked",
    "removed",
)
Task = Literal["pull", "reconcile"]

#: Why an attempt failed, as the worker classifies it.
ErrorKind = Literal[
    "network",  # connection refused/reset, DNS failure
    "timeout",  # the request did not finish in time
    "server_error",  # 5xx
    "rate_limited",  # 429 (Retry-After honoured)
    "refused",  # 401/403: the peer does not accept our signature or us
    "gone",  # 404/410 on the feed: the peer moved or left
    "invalid",  # bad JSON, a record failing verification, protocol violations
    "too_large",  # a response over our limits
    "ssrf_refused",  # the peer's address is not allowed by our outbound guard
    "lease_expired",  # a worker started and never reported (crash, hang)
]
ERROR_KINDS: Final[tuple[str, ...]] = get_args(ErrorKind)
_TRANSIENT: Final = frozenset({"network", "timeout", "server_error", "lease_expired"})
#: Backoff base per error kind: the first delay is at most this; each failure doubles it.
_BASES: Final[dict[str, float]] = {
    "network": 10.0,
    "timeout": 15.0,
    "server_error": 15.0,
    "lease_expired": 30.0,
    "rate_limited": 60.0,
    "too_large": 300.0,
    "invalid": 300.0,
    "refused": 600.0,
    "ssrf_refused": 1800.0,
    "gone": 3600.0,
}


class SyncPolicy(Struct, frozen=True, kw_only=True):
    """Timings of the machine, in seconds. The node builds one from its config."""

    poll_interval: float = 900.0
    reconcile_interval: float = 6 * 3600.0
    lease: float = 300.0
    min_delay: float = 1.0
    cap: float = 6 * 3600.0
    backoff_base: dict[str, float] = msgspec.field(default_factory=lambda: dict(_BASES))
    default_base: float = 60.0
    notice_min_gap: float = 1.0
    notice_retry: float = 60.0


DEFAULT_POLICY: Final = SyncPolicy()


class PeerSync(Struct, frozen=True, kw_only=True):
    """Sync state of one peer, as stored by the node (one row per peer)."""

    state: State
    next_attempt_at: float
    cursor: str | None = None
    task: Task = "pull"
    failures: int = 0
    last_attempt_at: float | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    reconcile_at: float | None = None
    notice_pending: bool = False
    items_pulled: int = 0


# --- Events ---


class Tick(Struct, frozen=True):
    """Time passed: wake an idle peer, end a backoff, expire a lease."""


class Started(Struct, frozen=True):
    """A worker takes a due peer (it must then see `syncing`, or not work)."""


class PullSucceeded(Struct, frozen=True, kw_only=True):
    """A page was pulled and ingested; `cursor` is the page's next cursor."""

    cursor: str
    items: int
    more: bool


class ReconcileFinished(Struct, frozen=True, kw_only=True):
    """Digests were compared; `mismatch` means something was missed."""

    mismatch: bool


class PullFailed(Struct, frozen=True, kw_only=True):
    """The attempt failed."""

    kind: ErrorKind
    message: str = ""
    retry_after: float | None = None


class NoticeReceived(Struct, frozen=True, kw_only=True):
    """A verified inbox notice from this peer; `cursor` is the peer's latest position."""

    cursor: str | None = None


class SyncRequested(Struct, frozen=True):
    """The operator asked to sync now (`citynode sync`)."""


class Approved(Struct, frozen=True):
    """The operator approved (or unblocked) the peer."""


class Blocked(Struct, frozen=True, kw_only=True):
    """The operator blocked the peer."""

    reason: str | None = None


class Removed(Struct, frozen=True):
    """The operator removed the peer."""


Event = (
    Tick
    | Started
    | PullSucceeded
    | ReconcileFinished
    | PullFailed
    | NoticeReceived
    | SyncRequested
    | Approved
    | Blocked
    | Removed
)


def new_peer(
    now: float, rng: random.Random, *, approved: bool, policy: SyncPolicy = DEFAULT_POLICY
) -> PeerSync:
    """The state of a newly added peer: due at once if approved, else pending approval.

    The first reconcile is spread over the interval so peers added together do not reconcile
    together.
    """
    reconcile_at = now + policy.reconcile_interval * rng.uniform(0.5, 1.0)
    if approved:
        return PeerSync(state="due", next_attempt_at=now, reconcile_at=reconcile_at)
    return PeerSync(state="pending_approval", next_attempt_at=now, reconcile_at=reconcile_at)


def backoff_delay(
    failures: int,
    kind: str,
    rng: random.Random,
    policy: SyncPolicy = DEFAULT_POLICY,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after the `failures`-th consecutive failure of this kind.

    Exponential with full jitter (uniform in `[min_delay, ceiling]`), never above `cap`.
    """
    base = policy.backoff_base.get(kind, policy.default_base)
    exponent = min(max(failures, 1) - 1, 62)  # 2**62 * base is already far past any cap
    ceiling = min(policy.cap, base * 2.0**exponent)
    floor = min(policy.min_delay, ceiling)
    delay = rng.uniform(floor, ceiling)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, policy.cap))
    return max(0.0, min(delay, policy.cap))


def is_runnable(peer: PeerSync, now: float) -> bool:
    """Whether the worker should `Tick` this peer now."""
    return peer.state in ("idle", "due", "syncing", "backoff") and peer.next_attempt_at <= now


def _is_news(peer: PeerSync, cursor: str | None) -> bool:
    if cursor is None or peer.cursor is None:
        return True
    try:
        return decode_cursor(cursor) > decode_cursor(peer.cursor)
    except InvalidCursor:
        return True


def _fail(
    peer: PeerSync, now: float, rng: random.Random, policy: SyncPolicy, event: PullFailed
) -> PeerSync:
    failures = peer.failures + 1
    delay = backoff_delay(failures, event.kind, rng, policy, event.retry_after)
    return replace(
        peer,
        state="backoff",
        failures=failures,
        next_attempt_at=now + delay,
        last_error=event.message or event.kind,
        last_error_kind=event.kind,
    )


def _idle(peer: PeerSync, now: float, policy: SyncPolicy) -> PeerSync:
    wake = now + policy.poll_interval
    if peer.reconcile_at is not None:
        wake = min(wake, max(now, peer.reconcile_at))
    return replace(peer, state="idle", next_attempt_at=wake, task="pull")


def transition(
    peer: PeerSync,
    event: Event,
    now: float,
    rng: random.Random,
    policy: SyncPolicy = DEFAULT_POLICY,
) -> PeerSync:
    """The next state of `peer` after `event` at time `now`.

    Events that make no sense in a state leave it unchanged (a late report after a block, a
    notice to a removed peer); this never raises.
    """
    state = peer.state
    if state == "removed":
        return peer
    match event:
        case Removed():
            return replace(peer, state="removed", notice_pending=False)
        case Blocked(reason=reason):
            return replace(peer, state="blocked", last_error=reason or "blocked by the operator")
        case Approved():
            if state in ("pending_approval", "blocked"):
                return replace(peer, state="due", next_attempt_at=now, failures=0, last_error=None)
            return peer
        case _ if state in ("pending_approval", "blocked"):
            return peer
        case Tick():
            if peer.next_attempt_at > now:
                return peer
            if state == "syncing":
                return _fail(peer, now, rng, policy, PullFailed(kind="lease_expired"))
            if state == "idle":
                reconcile = peer.reconcile_at is not None and peer.reconcile_at <= now
                return replace(peer, state="due", task="reconcile" if reconcile else "pull")
            if state == "backoff":
                return replace(peer, state="due")
            return peer
        case Started():
            if state != "due" or peer.next_attempt_at > now:
                return peer
            return replace(
                peer,
                state="syncing",
                last_attempt_at=now,
                next_attempt_at=now + policy.lease,
                notice_pending=False,
            )
        case PullSucceeded(cursor=cursor, items=items, more=more):
            peer = replace(
                peer,
                cursor=cursor,
                failures=0,
                last_success_at=now,
                last_error=None,
                last_error_kind=None,
                items_pulled=peer.items_pulled + max(0, items),
            )
            if state != "syncing":
                return peer
            if more or peer.notice_pending:
                return replace(peer, state="due", next_attempt_at=now, notice_pending=False)
            if peer.reconcile_at is not None and peer.reconcile_at <= now:
                return replace(peer, state="due", next_attempt_at=now, task="reconcile")
            return _idle(peer, now, policy)
        case ReconcileFinished(mismatch=mismatch):
            if state != "syncing":
                return peer
            jitter = rng.uniform(0.9, 1.1)
            peer = replace(
                peer,
                failures=0,
                last_success_at=now,
                last_error=None,
                last_error_kind=None,
                reconcile_at=now + policy.reconcile_interval * jitter,
            )
            if mismatch or peer.notice_pending:
                return replace(
                    peer,
                    state="due",
                    next_attempt_at=now,
                    task="pull",
                    cursor=None if mismatch else peer.cursor,
                    notice_pending=False,
                )
            return _idle(peer, now, policy)
        case PullFailed():
            if state != "syncing":
                return peer
            return _fail(peer, now, rng, policy, event)
        case NoticeReceived(cursor=cursor):
            if not _is_news(peer, cursor):
                return peer
            if state == "syncing":
                return replace(peer, notice_pending=True)
            if state == "backoff":
                peer = replace(peer, notice_pending=True)
                if peer.last_error_kind in _TRANSIENT:
                    soon = now + policy.notice_retry
                    return replace(peer, next_attempt_at=min(peer.next_attempt_at, soon))
                return peer
            # idle or due
            at = max(now, (peer.last_attempt_at or now) + policy.notice_min_gap)
            if state == "due":
                return replace(peer, next_attempt_at=min(peer.next_attempt_at, at))
            return replace(peer, state="due", next_attempt_at=at, task="pull")
        case SyncRequested():
            if state in ("idle", "due", "backoff"):
                return replace(peer, state="due", next_attempt_at=now)
            if state == "syncing":
                # A pull is under way and may have read the feed before the change the
                # operator is asking about: pull again as soon as it ends.
                return replace(peer, notice_pending=True)
            return peer
    return peer  # pragma: no cover - every event is matched above


def encode_peer_sync(peer: PeerSync) -> bytes:
    """The JSON the node stores for a peer's sync state."""
    return msgspec.json.encode(peer)


def decode_peer_sync(data: bytes) -> PeerSync:
    """Read back what `encode_peer_sync` stored."""
    return msgspec.json.decode(data, type=PeerSync)
