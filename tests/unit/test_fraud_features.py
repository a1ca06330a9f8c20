"""The fraud model's features: one order's signals come only from the orders before it (no leakage), the same way
training replays them and checkout counts them; the model can only add holds to the rules."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from domain.cards import sandbox_card_number, validate_card
from domain.fraud import Assessment, FraudRules, with_score
from domain.fraud_features import FEATURES, HistoryReplay, PlacedOrder, ShopperHistory, vector

START = datetime(2030, 6, 15, 9, 0, tzinfo=UTC)
SIGNED_UP = START - timedelta(days=30)


def order(n: int, minutes: float, user: str = "usr_a", card: str = "fp_1", total: int = 5000, ip: str = "10.0.0.1",
          card_country: str = "US", ship_country: str = "US") -> PlacedOrder:
    return PlacedOrder(f"ord_{n}", user, total, START + timedelta(minutes=minutes), card, ip, card_country,
                       ship_country, SIGNED_UP)


def replay(orders: list[PlacedOrder]) -> list[dict[str, float]]:
    book = HistoryReplay()
    features = []
    for placed in orders:
        features.append(dict(zip(FEATURES, vector(book.signals(placed)), strict=True)))
        book.record(placed)
    return features


def test_a_first_order_knows_nothing_of_the_orders_after_it() -> None:
    alone = replay([order(1, 0)])[0]
    followed = replay([order(1, 0), order(2, 5, total=90_000, card="fp_2"), order(3, 6, card="fp_3")])[0]
    assert followed == {**alone, "amount_vs_history": followed["amount_vs_history"]}
    assert math.isnan(alone["amount_vs_history"]) and math.isnan(followed["amount_vs_history"])
    assert (alone["prior_orders"], alone["user_orders_hour"], alone["user_cards"]) == (0, 1, 1)


def test_history_counts_only_earlier_orders_of_the_same_shopper() -> None:
    features = replay([order(1, 0, total=4000), order(2, 10, total=6000), order(3, 20, user="usr_b"),
                       order(4, 30, total=25_000, card="fp_2")])
    last = features[3]
    assert last["prior_orders"] == 2
    assert last["amount_vs_history"] == 25_000 / 5000  # against the mean of 4000 and 6000
    assert last["user_cards"] == 2  # fp_1 before, fp_2 now
    assert last["user_orders_hour"] == 3 and last["card_orders_hour"] == 1
    assert last["ip_orders_hour"] == 4  # every order came from one address
    assert features[2]["prior_orders"] == 0  # usr_b's first order sees none of usr_a's


def test_velocity_is_a_sliding_hour_like_the_checkout_counters() -> None:
    features = replay([order(1, 0), order(2, 30), order(3, 61), order(4, 200)])
    assert [f["user_orders_hour"] for f in features] == [1, 2, 2, 1]
    assert [f["prior_orders"] for f in features] == [0, 1, 2, 3]


def test_country_mismatch_age_and_hour() -> None:
    features = replay([order(1, 0, card_country="NG", ship_country="US"), order(2, 90)])
    assert [f["country_mismatch"] for f in features] == [1.0, 0.0]
    assert features[0]["account_age_days"] == 30.0
    assert (features[0]["hour_of_day"], features[1]["hour_of_day"]) == (9.0, 10.0)


def test_orders_must_be_replayed_in_time_order() -> None:
    book = HistoryReplay()
    book.signals(order(1, 10))
    try:
        book.signals(order(2, 0))
    except ValueError:
        return
    raise AssertionError("an order older than one already replayed was accepted")


def test_a_shopper_history_remembers_each_card_once() -> None:
    history = ShopperHistory().after(1000, "fp_1").after(2000, "fp_1").after(500, "fp_2")
    assert (history.orders, history.spent, history.cards) == (3, 3500, ["fp_1", "fp_2"])
    assert history.cards_with("fp_2") == 2 and history.cards_with("fp_3") == 3


def test_the_model_only_adds_holds_to_the_rules() -> None:
    rules = FraudRules(hold_total=100_000, decline_total=500_000, max_orders_per_user_hour=10,
                       max_orders_per_card_hour=5)
    approved = rules.assess(5000, 1, 1)
    assert with_score(approved, None, 0.5) == approved  # no model: the rules alone
    assert with_score(approved, 0.49, 0.5) == approved
    assert with_score(approved, 0.5, 0.5) == Assessment("hold", ["model_score_above_threshold"])
    declined = rules.assess(600_000, 1, 1)
    assert with_score(declined, 0.0, 0.5) == declined  # a low score never lifts the rules' decision
    assert with_score(declined, 0.9, 0.5).decision == "decline"


def test_sandbox_cards_have_an_issuing_country_from_their_bin() -> None:
    today = datetime(2030, 1, 1, tzinfo=UTC)
    assert validate_card("4242424242424242", 12, 2031, "123", today).country == "US"
    for country in ("NG", "GB", "US"):
        for serial in (0, 7, 123_456_789):
            assert validate_card(sandbox_card_number(country, serial), 12, 2031, "123", today).country == country
