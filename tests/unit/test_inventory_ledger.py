"""The stock ledger's rules, without Ray or Redis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import Conflict, Invalid
from domain.inventory import StockLedger


def ledger_with(**stock: int) -> StockLedger:
    ledger = StockLedger()
    for variant_id, on_hand in stock.items():
        ledger.create(variant_id, on_hand, low_stock_threshold=2)
    return ledger


def test_a_reservation_holds_stock_until_committed_then_ships() -> None:
    ledger = ledger_with(tee=10)
    ledger.reserve("r1", {"tee": 3}, now=0, ttl_seconds=60)
    assert (ledger.levels["tee"].available, ledger.levels["tee"].reserved) == (7, 3)
    ledger.commit("r1", now=1)
    assert (ledger.levels["tee"].reserved, ledger.levels["tee"].committed, ledger.levels["tee"].available) == (0, 3, 7)
    ledger.ship("r1", now=2)
    assert (ledger.levels["tee"].on_hand, ledger.levels["tee"].committed) == (7, 0)
    assert ledger.violations() == []


def test_reserving_more_than_available_changes_nothing_and_names_the_short_lines() -> None:
    ledger = ledger_with(tee=5, mug=1)
    with pytest.raises(Conflict) as caught:
        ledger.reserve("r1", {"tee": 2, "mug": 2}, now=0, ttl_seconds=60)
    assert caught.value.code == "out_of_stock"
    assert caught.value.details == {"items": [{"variant_id": "mug", "requested": 2, "available": 1}]}
    assert ledger.levels["tee"].reserved == 0 and "r1" not in ledger.reservations


def test_an_unknown_variant_is_out_of_stock() -> None:
    with pytest.raises(Conflict):
        ledger_with(tee=5).reserve("r1", {"ghost": 1}, now=0, ttl_seconds=60)


def test_reserve_is_idempotent_by_reservation_id() -> None:
    ledger = ledger_with(tee=5)
    first = ledger.reserve("r1", {"tee": 2}, now=0, ttl_seconds=60)
    again = ledger.reserve("r1", {"tee": 2}, now=1, ttl_seconds=60)
    assert again is first and ledger.levels["tee"].reserved == 2


def test_a_sale_commits_at_once_all_or_nothing_and_never_expires() -> None:
    ledger = ledger_with(tee=5, mug=1)
    sold = ledger.reserve("r1", {"tee": 2}, now=0, ttl_seconds=10, commit=True)
    assert sold.status == "committed"
    assert (ledger.levels["tee"].reserved, ledger.levels["tee"].committed, ledger.levels["tee"].available) == (0, 2, 3)
    assert ("inventory.committed", {"reservation_id": "r1", "lines": {"tee": 2}}) in ledger.events
    with pytest.raises(Conflict):
        ledger.reserve("r2", {"tee": 1, "mug": 2}, now=0, ttl_seconds=10, commit=True)
    assert ledger.levels["tee"].available == 3 and "r2" not in ledger.reservations
    assert ledger.expire(now=100) == [] and ledger.reserve("r1", {"tee": 2}, now=1, ttl_seconds=10) is sold
    assert ledger.violations() == []


def test_expired_reservations_give_their_stock_back() -> None:
    ledger = ledger_with(tee=5)
    ledger.reserve("r1", {"tee": 4}, now=0, ttl_seconds=10)
    assert ledger.expire(now=9) == []
    assert ledger.expire(now=10) == ["r1"]
    assert ledger.levels["tee"].available == 5 and ledger.reservations["r1"].status == "expired"
    with pytest.raises(Conflict):
        ledger.commit("r1", now=11)


def test_releasing_a_committed_reservation_returns_stock_to_available() -> None:
    ledger = ledger_with(tee=5)
    ledger.reserve("r1", {"tee": 2}, now=0, ttl_seconds=10)
    ledger.commit("r1", now=1)
    ledger.release("r1", now=2)
    assert ledger.levels["tee"].available == 5 and ledger.levels["tee"].committed == 0
    assert ledger.release("r1", now=3) is not None  # idempotent
    assert ledger.release("never-made", now=3) is None


def test_shipped_stock_cannot_be_released() -> None:
    ledger = ledger_with(tee=5)
    ledger.reserve("r1", {"tee": 2}, now=0, ttl_seconds=10)
    ledger.commit("r1", now=1)
    ledger.ship("r1", now=2)
    with pytest.raises(Conflict):
        ledger.release("r1", now=3)


def test_adjust_never_leaves_available_negative() -> None:
    ledger = ledger_with(tee=5)
    ledger.reserve("r1", {"tee": 4}, now=0, ttl_seconds=10)
    with pytest.raises(Conflict):
        ledger.adjust("tee", -2, "damaged")
    assert ledger.adjust("tee", -1, "damaged").on_hand == 4
    assert ledger.adjust("tee", 10, "received").available == 10


def test_low_stock_event_fires_once_when_available_falls_to_the_threshold() -> None:
    ledger = ledger_with(tee=5)
    ledger.events.clear()
    ledger.reserve("r1", {"tee": 3}, now=0, ttl_seconds=10)
    ledger.reserve("r2", {"tee": 1}, now=0, ttl_seconds=10)
    assert [e for e, _ in ledger.events].count("inventory.low_stock") == 1


def test_negative_or_zero_quantities_are_refused() -> None:
    with pytest.raises(Invalid):
        ledger_with(tee=5).reserve("r1", {"tee": 0}, now=0, ttl_seconds=10)
    with pytest.raises(Invalid):
        StockLedger().create("tee", -1)


operation = st.one_of(
    st.tuples(st.just("reserve"), st.integers(0, 9), st.dictionaries(st.sampled_from("abc"), st.integers(1, 4),
                                                                     min_size=1, max_size=3)),
    st.tuples(st.just("commit"), st.integers(0, 9), st.none()),
    st.tuples(st.just("release"), st.integers(0, 9), st.none()),
    st.tuples(st.just("ship"), st.integers(0, 9), st.none()),
    st.tuples(st.just("adjust"), st.integers(-5, 5), st.sampled_from("abc")),
    st.tuples(st.just("expire"), st.integers(0, 9), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_no_sequence_of_operations_breaks_the_invariants(ops: list[tuple[str, int, object]]) -> None:
    ledger = ledger_with(a=6, b=3, c=0)
    for now, (name, n, arg) in enumerate(ops):
        try:
            if name == "reserve":
                assert isinstance(arg, dict)
                ledger.reserve(f"r{n}", arg, now=now, ttl_seconds=5)
            elif name == "adjust":
                assert isinstance(arg, str)
                ledger.adjust(arg, n, "count")
            elif name == "expire":
                ledger.expire(now=now)
            else:
                getattr(ledger, name)(f"r{n}", now=now)
        except (Conflict, Invalid, LookupError, Exception) as exc:  # refusals are fine; broken invariants are not
            assert type(exc).__name__ in {"Conflict", "Invalid", "NotFound"}, exc
        assert ledger.violations() == []


def test_creating_many_records_with_one_bad_one_creates_none() -> None:
    ledger = StockLedger()
    with pytest.raises(Invalid):
        ledger.create_many([{"variant_id": "tee", "on_hand": 3},
                            {"variant_id": "mug", "on_hand": 2, "low_stock_threshold": -1}])
    assert ledger.levels == {} and ledger.dirty_levels == set()
    assert ledger.create_many([{"variant_id": "tee", "on_hand": 3}, {"variant_id": "tee", "on_hand": 9}]) == 1
