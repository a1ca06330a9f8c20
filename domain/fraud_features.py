"""The fraud model's features of one order, from what is known *before* it: one definition for training and
serving. Pure: no Ray, no Redis, no scikit-learn.

Serving (actors/checkout.py) gathers `OrderSignals` at checkout from the shopper's `ShopperHistory` (kept by the
shopper shard) and the velocity counters; training (pipelines/fraud.py) replays the lake's `order.created`
events in time order through `HistoryReplay`, which hands out each order's signals from the orders before it
only, then records it: so no order ever sees itself or anything later (no leakage).

    log_amount          ln(1 + total in minor units)
    amount_vs_history   total / the shopper's mean order total so far (NaN for a first order)
    prior_orders        the shopper's orders so far
    user_orders_hour    orders of the shopper in the last hour, this one included (as the rules count them)
    card_orders_hour    the same per card (fingerprint, across shoppers)
    ip_orders_hour      the same per client address
    user_cards          distinct cards the shopper has ordered with, this one included
    account_age_days    days since the account was made (NaN when unknown)
    country_mismatch    1 when the card's issuing country differs from the shipping country
    hour_of_day         UTC hour of the order
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

FEATURES = ("log_amount", "amount_vs_history", "prior_orders", "user_orders_hour", "card_orders_hour",
            "ip_orders_hour", "user_cards", "account_age_days", "country_mismatch", "hour_of_day")
HOUR_SECONDS = 3600.0
CARDS_KEPT = 50  # distinct card fingerprints remembered per shopper


@dataclass
class ShopperHistory:
    """What the model knows of a shopper's earlier orders."""

    orders: int = 0
    spent: int = 0  # minor units, all currencies summed (one shop currency)
    cards: list[str] = field(default_factory=list)  # fingerprints, oldest first

    def cards_with(self, fingerprint: str) -> int:
        return len(self.cards) + (fingerprint not in self.cards)

    def after(self, total: int, fingerprint: str) -> ShopperHistory:
        """The history once an order of `total` on `fingerprint` is placed."""
        cards = self.cards if fingerprint in self.cards else [*self.cards, fingerprint][-CARDS_KEPT:]
        return ShopperHistory(self.orders + 1, self.spent + total, cards)


@dataclass(frozen=True)
class OrderSignals:
    total: int
    fingerprint: str
    history: ShopperHistory
    user_orders_hour: int  # this order included
    card_orders_hour: int
    ip_orders_hour: int
    account_created_at: datetime | None
    card_country: str
    ship_country: str
    at: datetime


def vector(signals: OrderSignals) -> list[float]:
    """The features of FEATURES, in that order."""
    history = signals.history
    mean = history.spent / history.orders if history.orders else 0.0
    age = ((signals.at - signals.account_created_at).total_seconds() / 86400
           if signals.account_created_at is not None else math.nan)
    mismatch = bool(signals.card_country and signals.ship_country and signals.card_country != signals.ship_country)
    return [math.log1p(max(signals.total, 0)), signals.total / mean if mean > 0 else math.nan, float(history.orders),
            float(signals.user_orders_hour), float(signals.card_orders_hour), float(signals.ip_orders_hour),
            float(history.cards_with(signals.fingerprint)), max(age, 0.0) if not math.isnan(age) else age,
            float(mismatch), float(signals.at.hour)]


@dataclass(frozen=True)
class PlacedOrder:
    """An `order.created` event as training reads it from the lake."""

    order_id: str
    user_id: str
    total: int
    at: datetime
    fingerprint: str
    client_ip: str
    card_country: str
    ship_country: str
    account_created_at: datetime | None


class HistoryReplay:
    """Orders replayed in time order: `signals(order)` from everything before it, then `record(order)`."""

    def __init__(self) -> None:
        self.histories: dict[str, ShopperHistory] = {}
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._last = -math.inf

    def signals(self, order: PlacedOrder) -> OrderSignals:
        moment = order.at.timestamp()
        if moment < self._last:
            raise ValueError("orders must be replayed in time order")
        self._last = moment
        user, card, ip = (self._last_hour(subject, moment) + 1 for subject in _subjects(order))
        return OrderSignals(order.total, order.fingerprint, self.histories.get(order.user_id, ShopperHistory()),
                            user, card, ip, order.account_created_at, order.card_country, order.ship_country, order.at)

    def record(self, order: PlacedOrder) -> None:
        moment = order.at.timestamp()
        history = self.histories.get(order.user_id, ShopperHistory())
        self.histories[order.user_id] = history.after(order.total, order.fingerprint)
        for subject in _subjects(order):
            self._recent.setdefault(subject, deque()).append(moment)

    def _last_hour(self, subject: tuple[str, str], moment: float) -> int:
        """Orders of `subject` within the hour before `moment` (the serving counters' sliding window)."""
        times = self._recent.get(subject)
        if not times:
            return 0
        while times and times[0] < moment - HOUR_SECONDS:  # the counters count from `since` on
            times.popleft()
        return len(times)


def _subjects(order: PlacedOrder) -> tuple[tuple[str, str], ...]:
    return ("user", order.user_id), ("card", order.fingerprint), ("ip", order.client_ip)
