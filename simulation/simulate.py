"""The traffic simulator: shoppers of a `World` drive a running shop through its public HTTP API, day after day.

    python -m simulation.simulate --shoppers 200 --days 14 --seed 7 --url http://127.0.0.1:8000 \
        --truth var/simulation/truth.json          (`make simulate`; admin from BAZAAR_ADMIN_EMAIL/PASSWORD)

Each simulated day the admin moves the shop's clock to that day (only a shop started with BAZAAR_ENV=simulation
accepts it: elsewhere the traffic still flows, with real timestamps, and the report says so); shoppers whose
signup day it is register; every registered shopper comes back with its visit rate (a stolen-card fraudster
only in the two days after signing up) and searches (a query from its tastes), views products (the world's
picks, and what `GET /v1/recommendations` and `GET /v1/products/{id}/related` offer when the shop has them),
adds some to the cart, then abandons it or checks out (card tokens from its own cards, sandbox cards whose BIN
says the country the world issued them in; a fraudster per its pattern, a card thief now and then shipping to a
drop address in the card's country); some orders are cancelled. The admin ships what was ordered two days before
and files a chargeback for every shipped fraud order a few days after. The hidden truth (tastes, which orders were
fraud) goes to `--truth`.

Deterministic for a seed, given the same starting store: each (shopper, day) draws from its own seeded generator,
so a refusal in one session never changes the next one's choices.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from tqdm import tqdm

from simulation.catalogs import from_listing
from simulation.order_signals import DROP_SHARE
from simulation.shop_client import ShopClient, shopper_address
from simulation.world import Card, World, build_world

log = logging.getLogger(__name__)

SEARCH_SHARE, VIEWS_MEAN, ADD_SHARE = 0.6, 3.0, 0.35
CHECKOUT_SHARE, FRAUD_CHECKOUT_SHARE, CANCEL_SHARE = 0.5, 0.95, 0.08
SHIP_AFTER_DAYS, CHARGEBACK_AFTER_DAYS = 2, 3


@dataclass
class Simulation:
    url: str
    shoppers: int
    days: int
    seed: int
    truth: Path
    admin_email: str
    admin_password: str
    start: date = date(2026, 1, 1)
    label: str = "sim"  # in the shoppers' emails: another label, other accounts
    category: str | None = None  # only the products of this category (and its children)


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)  # what happened: views, orders, chargebacks, ...
    statuses: Counter[str] = field(default_factory=Counter)  # "<method> <route> <status>" -> count
    refusals: dict[str, str] = field(default_factory=dict)  # the first answer of each refused kind of call
    clock_moved: bool = False
    truth: Path | None = None


@dataclass
class Placed:
    order_id: str
    shopper: int
    day: int
    status: str
    cancelled: bool = False


def simulate(config: Simulation, progress: bool = False) -> Report:
    admin = ShopClient(config.url)
    if admin.sign_in(config.admin_email, config.admin_password) is None:
        raise SystemExit(f"the admin {config.admin_email} cannot sign in at {config.url}")
    products = from_listing(admin.products(config.category))
    if not products:
        raise SystemExit("the shop lists no products to shop for")
    world = build_world(products, config.shoppers, config.days, config.seed)
    report, clients, placed = Report(), {}, []
    try:
        with tqdm(total=config.days * config.shoppers, unit="shopper-day", desc="simulating",
                  disable=not progress) as bar:
            for day in range(config.days):
                moment = datetime.combine(config.start + timedelta(days=day), datetime.min.time()) + timedelta(hours=9)
                report.clock_moved = admin.move_clock(moment.isoformat() + "Z") or report.clock_moved
                for index, shopper in enumerate(world.shoppers):
                    if shopper.signup_day == day:
                        client = clients[index] = ShopClient(config.url, shopper_address(index))
                        email = f"{config.label}-{config.seed}-{shopper.key}@simulated.example.com"
                        user_id = client.sign_up_or_in(email)
                        report.counts["registered" if user_id else "registration_refused"] += 1
                        if user_id:
                            world.bind(index, user_id)
                    if index in clients and world.shoppers[index].user_id and comes_back(world, index, day,
                                                                                      config.seed):
                        placed += shop(world, index, day, clients[index], config.seed, report.counts)
                    bar.update()
                fulfil(world, admin, placed, day, final=day == config.days - 1, counts=report.counts)
    finally:
        for client in [admin, *clients.values()]:
            report.statuses.update(client.statuses)
            report.refusals = {**client.refusals, **report.refusals}
            client.close()
    report.truth = world.write_ground_truth(config.truth)
    return report


def rng_for(seed: int, shopper: int, day: int) -> np.random.Generator:
    return np.random.default_rng([seed, 9, shopper, day])


def comes_back(world: World, index: int, day: int, seed: int) -> bool:
    shopper = world.shoppers[index]
    if shopper.fraud == "stolen_card_burst" and day > shopper.signup_day + 1:
        return False
    return day == shopper.signup_day or rng_for(seed, index, day).random() < shopper.visit_rate


def shop(world: World, index: int, day: int, client: ShopClient, seed: int, counts: Counter[str]) -> list[Placed]:
    """One shopper's visit: search, views, cart, maybe a checkout (a burst of them for a stolen-card fraudster)."""
    rng = rng_for(seed, index, day + 100_000)
    shopper = world.shoppers[index]
    fraud = world.fraud_on(index, day)  # an account taken over is honest before its takeover day
    picks = world.pick_products(np.full(1 + rng.poisson(VIEWS_MEAN), index), rng)
    refs = ["browse"] * len(picks)
    if rng.random() < SEARCH_SHARE:
        first = world.products[int(picks[0])]
        found = client.search(f"{first.brand} {first.name}".strip())
        counts["searches"] += 1
        refs[0] = "search" if first.id in found else "browse"
    offered = client.recommended("/v1/recommendations", "/v1/recommendations")
    for product_id in offered[:2]:
        counts["recommendation_clicks"] += client.view(product_id, "recommendation")
    added = 0
    for position, product in enumerate(picks):
        item = world.products[int(product)]
        counts["views"] += client.view(item.id, refs[position])
        related = client.recommended(f"/v1/products/{item.id}/related", "/v1/products/{id}/related")
        if related and rng.random() < 0.3:
            counts["related_clicks"] += client.view(related[0], "related")
        if rng.random() < ADD_SHARE * world.buy_weight(np.array([index]), np.array([product]))[0]:
            variant = item.variants[int(rng.integers(len(item.variants)))]
            unusual = fraud and shopper.fraud == "unusual_amount"
            quantity = int(rng.integers(3, 9)) if unusual else 1 + int(rng.random() < 0.15)
            added += client.add_to_cart(item.id, variant.id, quantity)
    counts["cart_adds"] += added
    checkouts = int(rng.integers(2, 5)) if shopper.fraud == "stolen_card_burst" else 1
    share = FRAUD_CHECKOUT_SHARE if fraud else CHECKOUT_SHARE
    placed = []
    for attempt in range(checkouts):
        if added == 0 or rng.random() >= share:
            counts["abandoned" if attempt == 0 else "burst_stopped"] += 1
            break
        if attempt:  # a burst: the next order, another stolen card
            item = world.products[int(picks[attempt % len(picks)])]
            client.add_to_cart(item.id, item.variants[0].id, 1)
        card = pick_card(world, index, day, attempt, rng)
        thief = fraud and shopper.fraud in ("stolen_card_burst", "many_cards")
        answer = client.checkout(card.number, card.country if thief and rng.random() < DROP_SHARE else shopper.country)
        counts[f"checkout_{answer.status_code}"] += 1
        if answer.status_code != 201:
            continue
        order = answer.json()["order"]
        world.record_order(order["id"], index, day, order["total"])
        placed.append(Placed(order["id"], index, day, order["status"]))
        counts["orders"] += 1
        if not fraud and rng.random() < CANCEL_SHARE and client.cancel(order["id"]):
            placed[-1].cancelled = True
            counts["cancelled"] += 1
    return placed


def pick_card(world: World, index: int, day: int, attempt: int, rng: np.random.Generator) -> Card:
    """The card of a checkout: a stolen-card burst's next one, a taken-over account's own until the takeover and the
    taker's after, anyone else's any of theirs."""
    shopper = world.shoppers[index]
    if shopper.fraud == "stolen_card_burst":
        return shopper.cards[(day + attempt) % len(shopper.cards)]
    if shopper.fraud == "unusual_amount":
        return shopper.cards[int(world.fraud_on(index, day))]
    return shopper.cards[int(rng.integers(len(shopper.cards)))]


def fulfil(world: World, admin: ShopClient, placed: list[Placed], day: int, final: bool,
           counts: Counter[str]) -> None:
    """The admin ships the orders of SHIP_AFTER_DAYS ago, and charges back fraud orders shipped
    CHARGEBACK_AFTER_DAYS before (on the last day: every order still waiting)."""
    for order in placed:
        if order.cancelled:
            continue
        if order.day + SHIP_AFTER_DAYS == day or (final and order.day + SHIP_AFTER_DAYS > day):
            counts["shipped"] += admin.ship(order.order_id, order.status)
        shipped_on = min(order.day + SHIP_AFTER_DAYS, day) if final else order.day + SHIP_AFTER_DAYS
        due = shipped_on + CHARGEBACK_AFTER_DAYS == day or (final and shipped_on + CHARGEBACK_AFTER_DAYS > day)
        if due and world.fraud_on(order.shopper, order.day):
            counts["chargebacks"] += admin.chargeback(order.order_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--truth", type=Path, default=Path("var/simulation/truth.json"))
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1), help="the first day")
    parser.add_argument("--label", default="sim", help="in the shoppers' emails (another label, other shoppers)")
    parser.add_argument("--category", help="shop only this category's products")
    args = parser.parse_args(argv)
    if args.shoppers < 1 or args.days < 1:
        parser.error("--shoppers and --days must be positive")
    email, password = os.environ.get("BAZAAR_ADMIN_EMAIL"), os.environ.get("BAZAAR_ADMIN_PASSWORD")
    if not email or not password:
        parser.error("set BAZAAR_ADMIN_EMAIL and BAZAAR_ADMIN_PASSWORD (the shop's admin) in the environment")
    report = simulate(Simulation(args.url, args.shoppers, args.days, args.seed, args.truth, email, password,
                                 args.start, args.label, args.category), progress=True)
    print(", ".join(f"{name} {count}" for name, count in sorted(report.counts.items())))
    if not report.clock_moved:
        print("the shop refused the simulation clock (not BAZAAR_ENV=simulation): events carry real times")
    print(f"ground truth in {report.truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
