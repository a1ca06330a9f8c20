"""The fraud model's signals on synthetic orders, as the shop records them on `order.created` (docs/events.md):
`client_ip`, `card_fingerprint`, `card_country`, `ship_country`, `account_created_at`, driven by the world's
shoppers (simulation/world.py) and drawn in bulk.

Honest shoppers are stable but not spotless: one address (a few share a household's), now and then an order from
the phone's address, mostly their first card, now and then a gift shipped abroad, a few orders at night.
Fraudsters order from a small ring of shared addresses (sometimes a fresh proxy), with the cards and shipping
countries of their pattern, often at night; a stolen-card burst is a handful of orders within the hour, soon after
the account was made. No single value gives them away: each signal also shows up, less often, in honest orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain.cards import CardFingerprint
from domain.clock import iso
from simulation.arrow_columns import DAY_MS
from simulation.world import COUNTRIES, World

HONEST, BURST, MANY_CARDS, FAR_SHIPPING, TAKEOVER = range(5)
PATTERN_CODES = {None: HONEST, "stolen_card_burst": BURST, "many_cards": MANY_CARDS, "far_shipping": FAR_SHIPPING,
                 "unusual_amount": TAKEOVER}
NIGHT_SHARE = (0.06, 0.35)  # of honest and of fraudulent sessions: between midnight and 7 (UTC)
MOBILE_SHARE, PROXY_SHARE = 0.12, 0.3  # orders from an address other than the usual one: honest, fraud
HOUSEHOLD_SHARE = 0.04  # of honest shoppers: the address of another shopper's household
FIRST_CARD_SHARE = 0.8  # of an honest order with more than one card: on the first
GIFT_SHARE = 0.03  # of honest orders: shipped to another country
DROP_SHARE = 0.5  # of a card thief's orders: shipped to a drop address in the card's own country
BURST_SESSIONS = 5  # sessions a stolen-card burst lasts, on average, within BURST_MINUTES
BURST_MINUTES = 75
FINGERPRINT_SECRET = "synthetic-lake"
NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Signals:
    """Per shopper: its pattern, when its orders turn to fraud, its account's time, its addresses and its cards
    (shopper s's are card_offsets[s]:card_offsets[s+1] of the flat card arrays)."""

    pattern: np.ndarray
    fraud_from: np.ndarray  # the day its orders become fraud (NEVER for an honest shopper)
    created_ms: np.ndarray
    created: pa.Array  # ISO 8601, as `account_created_at`
    home_ip: np.ndarray  # uint32 addresses
    fraud_ip: np.ndarray
    countries: pa.Array  # where it ships
    card_offsets: np.ndarray
    fingerprints: pa.Array
    card_countries: pa.Array
    burst_ms: np.ndarray  # when a stolen-card burst starts

    @classmethod
    def of(cls, world: World, created_ms: np.ndarray, end_ms: int, rng: np.random.Generator) -> Signals:
        """The world's shoppers' signals; `end_ms` ends the history (a burst starts before it)."""
        shoppers = world.shoppers
        n = len(shoppers)
        pattern = np.asarray([PATTERN_CODES[shopper.fraud] for shopper in shoppers], dtype=np.int8)
        fraud_from = np.asarray([shopper.takeover_day if shopper.fraud else NEVER for shopper in shoppers],
                                dtype=np.int64)
        home_ip = _addresses(10, rng.permutation(n).astype(np.int64) + 1)
        household = (pattern == HONEST) & (rng.random(n) < HOUSEHOLD_SHARE)
        home_ip[household] = home_ip[rng.integers(0, n, int(household.sum()))]
        ring = _addresses(172, rng.integers(1, 1 << 20, max(2, int((pattern != HONEST).sum()) // 3)))
        fraud_ip = ring[rng.integers(0, len(ring), n)]
        home_ip = np.where((pattern != HONEST) & (pattern != TAKEOVER), fraud_ip, home_ip)
        fingerprint = CardFingerprint(FINGERPRINT_SECRET)
        counts = [len(shopper.cards) for shopper in shoppers]
        cards = [card for shopper in shoppers for card in shopper.cards]
        return cls(pattern, fraud_from, created_ms,
                   pa.array([iso(datetime.fromtimestamp(ms / 1000, UTC)) for ms in created_ms.tolist()]),
                   home_ip, fraud_ip, pa.array([shopper.country for shopper in shoppers]),
                   np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   pa.array([fingerprint(card.number) for card in cards]), pa.array([card.country for card in cards]),
                   np.minimum(created_ms + rng.integers(10 * 60_000, DAY_MS + DAY_MS // 4, n),
                              end_ms - BURST_MINUTES * 60_000))

    def burst_weight(self, rates: np.ndarray, sessions: int) -> np.ndarray:
        """Visit weights with a stolen-card burst's brought down to BURST_SESSIONS sessions on average."""
        burst = self.pattern == BURST
        others = rates[~burst].sum()
        weights = rates.astype(float).copy()
        weights[burst] = BURST_SESSIONS * others / max(1, sessions - BURST_SESSIONS * int(burst.sum()))
        return weights

    def session_start(self, shopper: np.ndarray, day: np.ndarray, fraud: np.ndarray, start_ms: int,
                      rng: np.random.Generator) -> np.ndarray:
        """When each session begins: a time of day (fraud favours the night), never before the account was made;
        a burst's within BURST_MINUTES of its start."""
        n = len(shopper)
        night = rng.random(n) < np.where(fraud, NIGHT_SHARE[1], NIGHT_SHARE[0])
        hour = np.where(night, rng.integers(0, 7, n), rng.integers(7, 24, n))
        begin = start_ms + day * DAY_MS + hour * 3_600_000 + rng.integers(0, 3_600_000, n)
        burst = self.pattern[shopper] == BURST
        begin[burst] = self.burst_ms[shopper[burst]] + rng.integers(0, BURST_MINUTES * 60_000, int(burst.sum()))
        return np.maximum(begin, self.created_ms[shopper] + 2 * 60_000)

    def order_columns(self, buyer: np.ndarray, fraud: np.ndarray, rng: np.random.Generator) -> dict[str, object]:
        """`order.created`'s signal fields for orders of `buyer` (`fraud`: each order's truth)."""
        n = len(buyer)
        pattern = self.pattern[buyer]
        first, count = self.card_offsets[buyer], self.card_offsets[buyer + 1] - self.card_offsets[buyer]
        any_card = (rng.random(n) * count).astype(np.int64)
        pick = np.where(pattern == HONEST, np.where(rng.random(n) < FIRST_CARD_SHARE, 0, any_card), any_card)
        pick = np.where(pattern == TAKEOVER, fraud.astype(np.int64), pick)  # its own card, then the taker's
        pick = np.where(pattern == FAR_SHIPPING, 0, pick)
        card = pa.array(first + pick)
        elsewhere = rng.random(n) < np.where(fraud, PROXY_SHARE, MOBILE_SHARE)
        ip = np.where(fraud & (pattern == TAKEOVER), self.fraud_ip[buyer], self.home_ip[buyer])
        ip = np.where(elsewhere, _addresses(100, rng.integers(1, 1 << 22, n)), ip)
        card_country = self.card_countries.take(card)
        ship = self.countries.take(pa.array(buyer))
        gift = (pattern == HONEST) & (rng.random(n) < GIFT_SHARE)
        ship = pc.if_else(pa.array(gift), pa.array(np.asarray(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)]), ship)
        drop = fraud & ((pattern == BURST) | (pattern == MANY_CARDS)) & (rng.random(n) < DROP_SHARE)
        return {"client_ip": _dotted(ip), "card_fingerprint": self.fingerprints.take(card),
                "card_country": card_country, "ship_country": pc.if_else(pa.array(drop), card_country, ship),
                "account_created_at": self.created.take(pa.array(buyer)), "held_for_review": False,
                "fraud_score": None}


def _addresses(first_octet: int, numbers: np.ndarray) -> np.ndarray:
    """IPv4 addresses (uint32) in `first_octet`.0.0.0/8, the host part from `numbers` (never .0)."""
    host = (numbers.astype(np.int64) % (1 << 24)) | 1
    return ((first_octet << 24) | host).astype(np.uint32)


def _dotted(addresses: np.ndarray) -> pa.Array:
    octets = [pc.cast(pa.array((addresses >> shift) & 255), pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")
