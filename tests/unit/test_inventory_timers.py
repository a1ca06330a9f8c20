"""The ledger's timers (TTL expiry, forgetting finished reservations) find exactly what a full scan finds,
whatever happened before, including after a reload from the records."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.inventory import FINISHED, Reservation, StockLedger, StockLevel


def due_by_scan(ledger: StockLedger, now: float) -> set[str]:
    return {r.id for r in ledger.reservations.values() if r.status == "held" and r.expires_at <= now}


def old_by_scan(ledger: StockLedger, older_than: float) -> set[str]:
    return {r.id for r in ledger.reservations.values() if r.status in FINISHED and r.updated_at < older_than}


def reloaded(ledger: StockLedger) -> StockLedger:
    """What a restarted shard rebuilds from Redis."""
    return StockLedger(levels={v: StockLevel.from_dict(level.to_dict()) for v, level in ledger.levels.items()},
                       reservations={r: Reservation.from_dict(res.to_dict()) for r, res in ledger.reservations.items()})


def test_a_committed_reservation_never_expires_and_next_expiry_skips_it() -> None:
    ledger = StockLedger()
    ledger.create("tee", 10)
    ledger.reserve("r1", {"tee": 1}, now=0, ttl_seconds=5)
    ledger.reserve("r2", {"tee": 1}, now=0, ttl_seconds=9)
    ledger.commit("r1", now=1)
    assert ledger.next_expiry() == 9
    assert ledger.expire(now=100) == ["r2"]
    assert ledger.next_expiry() is None and ledger.reservations["r1"].status == "committed"


def test_finished_reservations_are_forgotten_once_old_enough_and_can_be_made_again() -> None:
    ledger = StockLedger()
    ledger.create("tee", 10)
    ledger.reserve("r1", {"tee": 1}, now=0, ttl_seconds=5)
    ledger.release("r1", now=2)
    assert ledger.oldest_finished() == 2 and ledger.forget_finished(older_than=2) == []
    assert ledger.forget_finished(older_than=3) == ["r1"] and ledger.oldest_finished() is None
    ledger.reserve("r1", {"tee": 1}, now=4, ttl_seconds=5)  # the id is free again: a new reservation
    assert ledger.expire(now=9) == ["r1"] and ledger.violations() == []


operation = st.one_of(
    st.tuples(st.just("reserve"), st.integers(0, 7), st.integers(1, 6)),
    st.tuples(st.sampled_from(["commit", "release", "ship"]), st.integers(0, 7), st.none()),
    st.tuples(st.just("expire"), st.none(), st.none()),
    st.tuples(st.just("forget"), st.integers(0, 8), st.none()),
    st.tuples(st.just("reload"), st.none(), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_the_timers_find_what_a_full_scan_finds(ops: list[tuple[str, int | None, int | None]]) -> None:
    ledger = StockLedger()
    ledger.create("tee", 40)
    for now, (name, n, arg) in enumerate(ops):
        try:
            if name == "reserve":
                ledger.reserve(f"r{n}", {"tee": 1}, now=now, ttl_seconds=arg or 1)
            elif name == "expire":
                due = due_by_scan(ledger, now)
                assert set(ledger.expire(now=now)) == due
            elif name == "forget":
                old = old_by_scan(ledger, now - (n or 0))
                assert set(ledger.forget_finished(older_than=now - (n or 0))) == old
            elif name == "reload":
                ledger = reloaded(ledger)
            else:
                getattr(ledger, name)(f"r{n}", now=now)
        except Exception as exc:  # refusals are fine; a wrong timer is not
            assert type(exc).__name__ in {"Conflict", "NotFound"}, exc
        held = [r.expires_at for r in ledger.reservations.values() if r.status == "held"]
        finished = [r.updated_at for r in ledger.reservations.values() if r.status in FINISHED]
        assert ledger.next_expiry() == (min(held) if held else None)
        assert ledger.oldest_finished() == (min(finished) if finished else None)
        assert ledger.violations() == []
