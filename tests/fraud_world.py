"""A small synthetic history of orders and chargebacks, written straight into a lake, for the fraud model's tests
(until the simulator's ground truth is used instead). Deterministic for a seed.

Honest shoppers: accounts of any age (many new), one or two cards of their own country, one address, orders of
their usual size at any hour, a few abroad (a card of another country). Fraud, every order of it charged back:
    stolen card      a first order from a new account, a card of another country, an unusual amount
    takeover         an old account suddenly ordering big, in a burst, on new foreign cards, from a new address
    card tester      a new account cycling through many cards, several orders within the hour
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lake.layout import Lake
from lake.tables import Row, event_table, partition

START = datetime(2030, 3, 1, tzinfo=UTC)
COUNTRIES = ("US", "US", "US", "US", "GB", "DE", "FR", "IN", "CA", "JP")
FOREIGN = ("NG", "RU", "BR", "CN")
STREAM = "bz:events"


@dataclass
class World:
    rng: random.Random
    events: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)
    frauds: set[str] = field(default_factory=set)
    count: int = 0

    def order(self, user: str, at: datetime, total: int, card: str, card_country: str, ship: str, ip: str,
              created: datetime, fraud: bool) -> None:
        self.count += 1
        order_id = f"ord_{self.count:06d}"
        self.events.append((at, "order.created", {
            "order_id": order_id, "user_id": user, "status": "confirmed", "payment_status": "authorized",
            "order_number": f"BZ-{self.count}", "total": total, "currency": "USD", "items": [],
            "client_ip": ip, "card_fingerprint": card, "card_country": card_country, "ship_country": ship,
            "account_created_at": created.isoformat(), "held_for_review": False, "fraud_score": None}))
        if fraud:
            self.frauds.add(order_id)
            self.events.append((at + timedelta(days=self.rng.uniform(5, 30)), "payment.chargeback", {
                "order_id": order_id, "user_id": user, "status": "confirmed", "payment_status": "charged_back",
                "payment_id": f"pay_{self.count}", "amount": total, "currency": "USD", "reason": "fraudulent"}))


def generate(seed: int = 7, shoppers: int = 300, days: int = 60) -> World:
    rng = random.Random(seed)
    world = World(rng)
    for n in range(shoppers):
        _honest(world, f"usr_{n}", days)
    for n in range(shoppers // 6):
        kind = rng.choice(("stolen", "stolen", "takeover", "tester"))
        at = START + timedelta(days=rng.uniform(1, days - 1))
        user, ip = f"usr_f{n}", f"203.0.{n % 250}.{rng.randint(1, 250)}"
        if kind == "stolen":  # one in five on a card of the shipping country: nothing tells it apart
            country = "US" if rng.random() < 0.2 else rng.choice(FOREIGN)
            world.order(user, at, rng.randint(15_000, 120_000), f"fp_s{n}", country, "US", ip,
                        at - timedelta(hours=rng.uniform(0.1, 48)), True)
        elif kind == "takeover":
            victim = f"usr_{rng.randrange(shoppers)}"
            for k in range(rng.randint(2, 5)):
                world.order(victim, at + timedelta(minutes=7 * k), rng.randint(30_000, 150_000), f"fp_t{n}_{k % 2}",
                            rng.choice(FOREIGN), "US", ip, START - timedelta(days=200), True)
        else:
            created = at - timedelta(hours=rng.uniform(0.5, 24))
            for k in range(rng.randint(3, 6)):
                world.order(user, at + timedelta(minutes=5 * k), rng.randint(2_000, 9_000), f"fp_c{n}_{k}",
                            rng.choice(("US", *FOREIGN)), "US", ip, created, True)
    return world


def _honest(world: World, user: str, days: int) -> None:
    rng = world.rng
    home = rng.choice(COUNTRIES)
    first = START + timedelta(days=rng.uniform(0, days * 0.7))
    created = first - timedelta(days=rng.choice((rng.uniform(0.001, 2), rng.uniform(2, 400))))  # half are new
    usual = rng.randint(1_500, 15_000)
    cards = [f"fp_{user}_{k}" for k in range(rng.choice((1, 1, 1, 2)))]
    ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 250)}"
    at = first
    end = START + timedelta(days=days)
    while at < end:
        abroad = rng.random() < 0.05
        world.order(user, at, max(300, int(rng.lognormvariate(0, 0.4) * usual)), rng.choice(cards),
                    rng.choice(FOREIGN) if abroad else home, home, ip, created, False)
        at += timedelta(days=rng.expovariate(1 / 9))


def write(world: World, lake: Lake) -> None:
    """The world's events as the exporter would have written them (one file per type and day)."""
    rows: list[Row] = []
    for n, (at, event_type, data) in enumerate(sorted(world.events, key=lambda event: event[0])):
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        rows.append((f"{int(at.timestamp() * 1000)}-{n}", f"evt_{n}", event_type, stamp, json.dumps(data)))
    groups = partition(rows).items()
    lake.write_parquet((lake.part_path(event_type, date, STREAM, group[0][0], group[-1][0]),
                        event_table(event_type, STREAM, group)) for (event_type, date), group in groups)
