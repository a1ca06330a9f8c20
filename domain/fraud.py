"""Fraud rules scored at checkout, before the payment is authorized.

    decline: total above fraud_decline_total, an hour's orders above twice a velocity limit, or an hour's
             declined payments already at a limit (card testing): fraud_max_declines_per_user_hour for the
             shopper, _per_card_hour for the card (its fingerprint, across tokens and shoppers), _per_ip_hour for
             the client address (higher: many shoppers may share one address)
    hold:    total above fraud_hold_total, or an hour's orders above a velocity limit, or (`with_score`) the
             approved fraud model's score at or above its threshold
    approve: otherwise

The rules are the floor: a model can only add a hold to what they decide, never approve what they hold or decline.

The order counts passed in are the orders of the last hour *including the one being assessed*: with a limit
of 5 per card per hour, the 6th order on a card within the hour is held and the 11th declined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from domain.errors import Invalid

if TYPE_CHECKING:
    from config import Settings

Decision = Literal["approve", "hold", "decline"]
VELOCITY_DECLINE_FACTOR = 2
_SEVERITY: dict[Decision, int] = {"approve": 0, "hold": 1, "decline": 2}


@dataclass(frozen=True)
class Assessment:
    decision: Decision
    reasons: list[str] = field(default_factory=list)  # why, most severe first; empty when approved


@dataclass(frozen=True)
class FraudRules:
    hold_total: int
    decline_total: int
    max_orders_per_user_hour: int
    max_orders_per_card_hour: int
    max_declines_per_user_hour: int = 5
    max_declines_per_card_hour: int = 5
    max_declines_per_ip_hour: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> FraudRules:
        return cls(settings.fraud_hold_total, settings.fraud_decline_total,
                   settings.fraud_max_orders_per_user_hour, settings.fraud_max_orders_per_card_hour,
                   settings.fraud_max_declines_per_user_hour, settings.fraud_max_declines_per_card_hour,
                   settings.fraud_max_declines_per_ip_hour)

    def assess(self, total: int, user_orders_last_hour: int, card_orders_last_hour: int,
               declines: tuple[int, int, int] = (0, 0, 0)) -> Assessment:
        """`declines`: the last hour's declined payments of the shopper, the card and the client address."""
        for value in (total, user_orders_last_hour, card_orders_last_hour, *declines):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise Invalid("invalid_fraud_input", "Totals and order counts are non-negative integers")
        found: list[tuple[Decision, str]] = []
        if total > self.decline_total:
            found.append(("decline", "total_above_decline_limit"))
        elif total > self.hold_total:
            found.append(("hold", "total_above_hold_limit"))
        limits = (self.max_declines_per_user_hour, self.max_declines_per_card_hour, self.max_declines_per_ip_hour)
        for subject, count, limit in zip(("user", "card", "ip"), declines, limits, strict=True):
            if count >= limit:
                found.append(("decline", f"{subject}_declines_at_limit"))
        found += _velocity("user", user_orders_last_hour, self.max_orders_per_user_hour)
        found += _velocity("card", card_orders_last_hour, self.max_orders_per_card_hour)
        if not found:
            return Assessment("approve")
        found.sort(key=lambda item: -_SEVERITY[item[0]])
        return Assessment(found[0][0], [reason for _, reason in found])


def _velocity(subject: str, orders: int, limit: int) -> list[tuple[Decision, str]]:
    if orders > limit * VELOCITY_DECLINE_FACTOR:
        return [("decline", f"{subject}_velocity_far_above_limit")]
    if orders > limit:
        return [("hold", f"{subject}_velocity_above_limit")]
    return []


def with_score(assessment: Assessment, score: float | None, threshold: float) -> Assessment:
    """The rules' assessment with the model's score added: held when the score reaches the threshold (no score,
    no model: the rules alone)."""
    if score is None or score < threshold:
        return assessment
    if assessment.decision == "approve":
        return Assessment("hold", ["model_score_above_threshold"])
    return Assessment(assessment.decision, [*assessment.reasons, "model_score_above_threshold"])
