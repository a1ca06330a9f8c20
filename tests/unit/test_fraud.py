from __future__ import annotations

import pytest

from config import Settings
from domain.errors import Invalid
from domain.fraud import Assessment, FraudRules

RULES = FraudRules(hold_total=500_000, decline_total=2_000_000, max_orders_per_user_hour=10,
                   max_orders_per_card_hour=5)


def test_an_ordinary_order_is_approved() -> None:
    assert RULES.assess(12_000, 1, 1) == Assessment("approve", [])


def test_totals_at_the_limits_pass_and_above_them_are_held_or_declined() -> None:
    assert RULES.assess(500_000, 1, 1).decision == "approve"
    assert RULES.assess(500_001, 1, 1) == Assessment("hold", ["total_above_hold_limit"])
    assert RULES.assess(2_000_000, 1, 1).decision == "hold"
    assert RULES.assess(2_000_001, 1, 1) == Assessment("decline", ["total_above_decline_limit"])


def test_the_sixth_order_on_a_card_within_the_hour_is_held_and_the_eleventh_declined() -> None:
    assert RULES.assess(1_000, 1, 5).decision == "approve"
    assert RULES.assess(1_000, 1, 6) == Assessment("hold", ["card_velocity_above_limit"])
    assert RULES.assess(1_000, 1, 10).decision == "hold"
    assert RULES.assess(1_000, 1, 11) == Assessment("decline", ["card_velocity_far_above_limit"])


def test_user_velocity_holds_then_declines() -> None:
    assert RULES.assess(1_000, 11, 1) == Assessment("hold", ["user_velocity_above_limit"])
    assert RULES.assess(1_000, 21, 1) == Assessment("decline", ["user_velocity_far_above_limit"])


def test_card_testing_is_declined_per_shopper_card_and_address_at_their_limits() -> None:
    assert RULES.assess(1_000, 1, 1, (4, 4, 29)).decision == "approve"
    assert RULES.assess(1_000, 1, 1, (5, 0, 0)) == Assessment("decline", ["user_declines_at_limit"])
    assert RULES.assess(1_000, 1, 1, (0, 5, 0)) == Assessment("decline", ["card_declines_at_limit"])
    assert RULES.assess(1_000, 1, 1, (0, 0, 30)) == Assessment("decline", ["ip_declines_at_limit"])
    with pytest.raises(Invalid):
        RULES.assess(1_000, 1, 1, (0, -1, 0))


def test_every_reason_is_given_most_severe_first() -> None:
    assessment = RULES.assess(600_000, 11, 11)
    assert assessment.decision == "decline"
    assert assessment.reasons == ["card_velocity_far_above_limit", "total_above_hold_limit",
                                  "user_velocity_above_limit"]


def test_nonsense_inputs_are_refused() -> None:
    with pytest.raises(Invalid):
        RULES.assess(-1, 0, 0)
    with pytest.raises(Invalid):
        RULES.assess(100, -1, 0)


def test_rules_come_from_settings() -> None:
    rules = FraudRules.from_settings(Settings(fraud_hold_total=100, fraud_decline_total=200,
                                              fraud_max_orders_per_user_hour=3, fraud_max_orders_per_card_hour=2))
    assert rules == FraudRules(100, 200, 3, 2)
    assert rules.assess(150, 0, 3).reasons == ["total_above_hold_limit", "card_velocity_above_limit"]
