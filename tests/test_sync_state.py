"""The per-peer sync state machine, stepped without sleeping."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.cursor import encode_cursor
from protocol.sync import (
    DEFAULT_POLICY,
    ERROR_KINDS,
    STATES,
    Approved,
    Blocked,
    Event,
    NoticeReceived,
    PeerSync,
    PullFailed,
    PullSucceeded,
    ReconcileFinished,
    Removed,
    Started,
    SyncPolicy,
    SyncRequested,
    Tick,
    backoff_delay,
    decode_peer_sync,
    encode_peer_sync,
    is_runnable,
    new_peer,
    transition,
)

T0 = 1_700_000_000.0
POLICY = DEFAULT_POLICY


def step(peer: PeerSync, event: Event, now: float, seed: int = 0) -> PeerSync:
    return transition(peer, event, now, random.Random(seed))


def syncing(now: float = T0, cursor: str | None = None) -> PeerSync:
    peer = new_peer(now, random.Random(1), approved=True)
    if cursor is not None:
        peer = PeerSync(**{**_fields(peer), "cursor": cursor})
    peer = step(peer, Started(), now)
    assert peer.state == "syncing"
    return peer


def _fields(peer: PeerSync) -> dict[str, object]:
    return {name: getattr(peer, name) for name in peer.__struct_fields__}


def test_new_peer_states() -> None:
    rng = random.Random(0)
    assert new_peer(T0, rng, approved=True).state == "due"
    pending = new_peer(T0, rng, approved=False)
    assert pending.state == "pending_approval"
    assert step(pending, Tick(), T0 + 10**6) == pending
    assert step(pending, Started(), T0) == pending
    assert step(pending, NoticeReceived(cursor=encode_cursor(5)), T0) == pending
    approved = step(pending, Approved(), T0 + 5)
    assert approved.state == "due" and approved.next_attempt_at == T0 + 5


def test_a_full_pull_cycle() -> None:
    peer = syncing()
    assert peer.next_attempt_at == T0 + POLICY.lease
    peer = step(peer, PullSucceeded(cursor=encode_cursor(100), items=100, more=True), T0 + 1)
    assert (peer.state, peer.next_attempt_at, peer.cursor) == ("due", T0 + 1, encode_cursor(100))
    peer = step(
        step(peer, Started(), T0 + 1),
        PullSucceeded(cursor=encode_cursor(130), items=30, more=False),
        T0 + 2,
    )
    assert peer.state == "idle"
    assert peer.next_attempt_at == T0 + 2 + POLICY.poll_interval
    assert peer.items_pulled == 130 and peer.last_success_at == T0 + 2 and peer.failures == 0
    # The poll comes round.
    assert step(peer, Tick(), T0 + 3) == peer
    assert step(peer, Tick(), peer.next_attempt_at).state == "due"


def test_failure_backs_off_then_retries() -> None:
    peer = step(syncing(), PullFailed(kind="network", message="connection refused"), T0 + 1)
    assert peer.state == "backoff" and peer.failures == 1
    assert T0 + 1 + POLICY.min_delay <= peer.next_attempt_at <= T0 + 1 + 10.0
    assert peer.last_error == "connection refused" and peer.last_error_kind == "network"
    assert step(peer, Started(), T0 + 1) == peer  # not due yet
    due = step(peer, Tick(), peer.next_attempt_at)
    assert due.state == "due"
    again = step(
        step(due, Started(), due.next_attempt_at), PullFailed(kind="network"), due.next_attempt_at
    )
    assert again.failures == 2
    ok = step(
        step(step(again, Tick(), again.next_attempt_at), Started(), again.next_attempt_at),
        PullSucceeded(cursor=encode_cursor(1), items=1, more=False),
        again.next_attempt_at,
    )
    assert ok.state == "idle" and ok.failures == 0 and ok.last_error is None


def test_retry_after_is_honoured() -> None:
    peer = step(syncing(), PullFailed(kind="rate_limited", retry_after=600), T0)
    assert peer.next_attempt_at >= T0 + 600


def test_lease_expiry_counts_as_a_failure() -> None:
    peer = syncing()
    assert step(peer, Tick(), T0 + 10) == peer
    expired = step(peer, Tick(), T0 + POLICY.lease)
    assert expired.state == "backoff" and expired.last_error_kind == "lease_expired"


def test_notice_makes_idle_peer_due_soon() -> None:
    idle = step(syncing(), PullSucceeded(cursor=encode_cursor(10), items=10, more=False), T0)
    assert idle.state == "idle"
    # Right after the last attempt: due after the minimum gap.
    due = step(idle, NoticeReceived(cursor=encode_cursor(11)), T0)
    assert due.state == "due" and due.next_attempt_at == T0 + POLICY.notice_min_gap
    # Later: due now.
    due = step(idle, NoticeReceived(cursor=encode_cursor(11)), T0 + 100)
    assert due.next_attempt_at == T0 + 100
    # Nothing new: ignored.
    assert step(idle, NoticeReceived(cursor=encode_cursor(10)), T0 + 100) == idle
    assert step(idle, NoticeReceived(cursor=encode_cursor(3)), T0 + 100) == idle
    # An unreadable cursor is treated as news (the pull will tell).
    assert step(idle, NoticeReceived(cursor="garbage"), T0 + 100).state == "due"
    assert step(idle, NoticeReceived(), T0 + 100).state == "due"


def test_notice_during_a_pull_requeues_it() -> None:
    peer = step(syncing(), NoticeReceived(cursor=encode_cursor(50)), T0 + 1)
    assert peer.state == "syncing" and peer.notice_pending
    done = step(peer, PullSucceeded(cursor=encode_cursor(40), items=40, more=False), T0 + 2)
    assert done.state == "due" and done.next_attempt_at == T0 + 2 and not done.notice_pending


def test_notice_shortens_a_transient_backoff_only() -> None:
    for kind in ("network", "timeout", "server_error"):
        failed = step(syncing(), PullFailed(kind=kind), T0)
        for _ in range(8):  # grow the backoff well past notice_retry
            failed = step(
                step(
                    step(failed, Tick(), failed.next_attempt_at), Started(), failed.next_attempt_at
                ),
                PullFailed(kind=kind),
                failed.next_attempt_at,
            )
        now = failed.next_attempt_at - 3000
        assert failed.next_attempt_at - now > POLICY.notice_retry
        noticed = step(failed, NoticeReceived(cursor=encode_cursor(9)), now)
        assert noticed.state == "backoff" and noticed.notice_pending
        assert noticed.next_attempt_at == now + POLICY.notice_retry
        assert noticed.failures == failed.failures
    for kind in ("rate_limited", "invalid", "refused", "gone", "too_large", "ssrf_refused"):
        failed = step(syncing(), PullFailed(kind=kind), T0)  # type: ignore[arg-type]
        noticed = step(failed, NoticeReceived(cursor=encode_cursor(9)), T0 + 1)
        assert noticed.next_attempt_at == failed.next_attempt_at and noticed.notice_pending


def test_reconcile_schedule() -> None:
    peer = new_peer(T0, random.Random(3), approved=True)
    assert peer.reconcile_at is not None
    assert T0 + POLICY.reconcile_interval / 2 <= peer.reconcile_at <= T0 + POLICY.reconcile_interval
    # Idle peers wake for the reconcile even if the poll would come later.
    policy = SyncPolicy(poll_interval=10**9)
    idle = transition(
        step(peer, Started(), T0),
        PullSucceeded(cursor=encode_cursor(1), items=1, more=False),
        T0,
        random.Random(0),
        policy,
    )
    assert idle.next_attempt_at == peer.reconcile_at
    due = step(idle, Tick(), idle.next_attempt_at)
    assert (due.state, due.task) == ("due", "reconcile")
    running = step(due, Started(), due.next_attempt_at)
    fine = step(running, ReconcileFinished(mismatch=False), running.last_attempt_at or 0)
    assert fine.state == "idle" and fine.cursor == encode_cursor(1) and fine.task == "pull"
    assert fine.reconcile_at is not None and fine.reconcile_at > due.next_attempt_at
    missed = step(running, ReconcileFinished(mismatch=True), running.last_attempt_at or 0)
    assert (missed.state, missed.task, missed.cursor) == ("due", "pull", None)


def test_operator_events() -> None:
    peer = syncing()
    blocked = step(peer, Blocked(reason="spam"), T0)
    assert blocked.state == "blocked" and blocked.last_error == "spam"
    # A late report from the worker does not unblock it.
    late = step(blocked, PullSucceeded(cursor=encode_cursor(2), items=2, more=False), T0)
    assert late.state == "blocked"
    assert step(blocked, Tick(), T0 + 10**7) == blocked
    assert step(blocked, Approved(), T0 + 1).state == "due"
    removed = step(blocked, Removed(), T0)
    assert removed.state == "removed"
    for event in (Approved(), Tick(), Started(), NoticeReceived(), SyncRequested(), Blocked()):
        assert step(removed, event, T0 + 10**7) == removed
    failed = step(syncing(), PullFailed(kind="gone"), T0)
    now_please = step(failed, SyncRequested(), T0 + 1)
    assert now_please.state == "due" and now_please.next_attempt_at == T0 + 1
    # Asked while a pull runs: the pull that ends re-queues the peer at once.
    during = step(syncing(), SyncRequested(), T0 + 1)
    assert during.state == "syncing" and during.notice_pending
    done = step(during, PullSucceeded(cursor=encode_cursor(1), items=0, more=False), T0 + 2)
    assert done.state == "due" and done.next_attempt_at == T0 + 2


def test_is_runnable_and_storage_round_trip() -> None:
    peer = syncing()
    assert not is_runnable(peer, T0 + 1) and is_runnable(peer, T0 + POLICY.lease)
    assert not is_runnable(new_peer(T0, random.Random(0), approved=False), T0 + 10**6)
    assert decode_peer_sync(encode_peer_sync(peer)) == peer


# --- Properties ---


@given(
    failures=st.integers(0, 10_000),
    kind=st.sampled_from([*ERROR_KINDS, "something-new"]),
    seed=st.integers(0, 2**32),
    retry_after=st.none() | st.floats(-1e9, 1e12, allow_nan=False),
    cap=st.floats(0.5, 1e6),
)
def test_backoff_never_exceeds_cap_or_goes_negative(
    failures: int, kind: str, seed: int, retry_after: float | None, cap: float
) -> None:
    policy = SyncPolicy(cap=cap)
    delay = backoff_delay(failures, kind, random.Random(seed), policy, retry_after)
    assert 0.0 <= delay <= cap


@given(st.integers(1, 60), st.integers(0, 2**32))
def test_backoff_ceiling_grows_then_stays_at_cap(failures: int, seed: int) -> None:
    rng = random.Random(seed)
    delays = [backoff_delay(failures, "network", rng) for _ in range(5)]
    ceiling = min(POLICY.cap, 10.0 * 2 ** (failures - 1))
    assert all(POLICY.min_delay <= d <= ceiling for d in delays)


cursors = st.integers(0, 1000).map(encode_cursor)
events = st.one_of(
    st.just(Tick()),
    st.just(Started()),
    st.builds(PullSucceeded, cursor=cursors, items=st.integers(0, 500), more=st.booleans()),
    st.builds(ReconcileFinished, mismatch=st.booleans()),
    st.builds(
        PullFailed,
        kind=st.sampled_from(ERROR_KINDS),
        retry_after=st.none() | st.floats(0, 1e6),
    ),
    st.builds(NoticeReceived, cursor=st.none() | cursors | st.just("x")),
    st.just(SyncRequested()),
    st.just(Approved()),
    st.builds(Blocked),
    st.just(Removed()),
)


@settings(max_examples=300)
@given(
    approved=st.booleans(),
    steps=st.lists(st.tuples(events, st.floats(0, 50_000, allow_nan=False)), max_size=60),
    seed=st.integers(0, 2**32),
)
def test_random_walks_keep_the_invariants(
    approved: bool, steps: list[tuple[Event, float]], seed: int
) -> None:
    rng = random.Random(seed)
    now = T0
    peer = new_peer(now, rng, approved=approved)
    for event, elapsed in steps:
        now += elapsed
        before = peer
        peer = transition(peer, event, now, rng)
        assert peer.state in STATES
        assert peer.failures >= 0
        if before.state == "removed":
            assert peer == before
        if peer.state == "backoff" and before.state != "backoff":
            wait = peer.next_attempt_at - now
            assert 0 <= wait <= POLICY.cap
        if peer.state == "syncing" and before.state != "syncing":
            assert before.state == "due" and peer.next_attempt_at == now + POLICY.lease
        # Nothing is ever scheduled further out than the longest wait the policy allows.
        assert peer.next_attempt_at <= now + max(
            POLICY.cap, POLICY.poll_interval, POLICY.lease, POLICY.reconcile_interval
        )


def _drive(seed: int) -> set[str]:
    """A scripted random driver that follows the worker's protocol."""
    rng = random.Random(seed)
    now = T0
    peer = new_peer(now, rng, approved=False)
    seen = {peer.state}
    for _ in range(400):
        now += rng.choice([0.0, 1.0, 60.0, 3600.0])
        roll = rng.random()
        if roll < 0.02:
            event: Event = Blocked()
        elif roll < 0.1:
            event = Approved()
        elif roll < 0.2:
            event = NoticeReceived(cursor=encode_cursor(rng.randrange(100)))
        elif peer.state == "syncing":
            event = rng.choice(
                [
                    PullSucceeded(
                        cursor=encode_cursor(rng.randrange(100)), items=3, more=rng.random() < 0.3
                    ),
                    PullFailed(kind=rng.choice(ERROR_KINDS)),  # type: ignore[arg-type]
                    ReconcileFinished(mismatch=rng.random() < 0.5),
                ]
            )
        elif peer.state == "due":
            event = Started()
        else:
            event = Tick()
        peer = transition(peer, event, now, rng)
        seen.add(peer.state)
    seen.add(transition(peer, Removed(), now, rng).state)
    return seen


@pytest.mark.parametrize("seed", range(5))
def test_every_state_is_reachable(seed: int) -> None:
    assert _drive(seed) == set(STATES)
