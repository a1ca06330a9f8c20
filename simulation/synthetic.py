"""Synthetic events for volume, written straight into the lake in the exporter's files (docs/events.md, "The lake").

    python -m simulation.synthetic --events 10000000 --days 90 --seed 7 --lake var/lake-synthetic

A `World` (simulation/world.py) over a synthetic catalog decides who shops, what they like and who is a fraudster;
shopping sessions are drawn in bulk (numpy) and become coherent streams: the catalog the day before the first
(`category.created`, `product.created`, each variant's `inventory.created`), `user.registered` at each shopper's
signup day (cohorts), then per session `search.performed` (queries from the shopper's tastes, a few with no
result), `product.viewed` (picked by the world's tastes; some via recommendations), `cart.item_added`, and for a
checkout `checkout.started`, `payment.authorized`, `order.created` with its items and the fraud model's signals
(simulation/order_signals.py), then `payment.captured`, `order.shipped` and `inventory.shipped` when it ships, or
`order.cancelled` with `payment.voided`; some returns (`payment.refunded`); most shipped fraud, and a few honest
orders, get a `payment.chargeback` days later. The hidden truth (tastes per user id, which orders were fraud) goes
to `--truth` (default `<lake>/../synthetic-truth.json`), which only evaluation reads. Same arguments, same lake.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from lake.layout import Lake
from simulation.arrow_columns import DAY_MS, TypeBatch, ulids, write_chunk
from simulation.catalogs import category_names, synthetic_catalog
from simulation.order_signals import BURST, Signals
from simulation.sessions import Catalog, sessions_events
from simulation.world import World, build_world, write_truth

EVENTS_PER_SESSION = 7.5  # what a session yields on average (measured: catalog, shipments and signals included)
EVENTS_PER_SHOPPER = 250
EVENTS_PER_PRODUCT = 2000
CHUNK_EVENTS = 1_500_000  # events generated and written at a time (bounds memory)
EVENTS_STREAM, ANALYTICS_STREAM = "bz:events", "bz:analytics"
STOCK_PER_VARIANT, RESTOCK = 5_000, 1_000


@dataclass(frozen=True)
class Report:
    events: int
    seconds: float
    truth: Path

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def generate(lake_url: str, events: int, days: int, seed: int, start: date = date(2026, 1, 1),
             truth: str | Path | None = None, progress: bool = False) -> Report:
    """About `events` events over `days` days from `start` into the lake at `lake_url`; returns what was written."""
    began = time.perf_counter()
    lake = Lake(lake_url, durable=False)  # made again from the seed if a crash interrupts it
    products = synthetic_catalog(catalog_size(events), seed)
    world = build_world(products, shoppers=max(20, events // EVENTS_PER_SHOPPER), days=days, seed=seed)
    rng = np.random.default_rng([seed, 3])
    start_ms = int(np.datetime64(start.isoformat(), "ms").astype(np.int64))
    catalog = Catalog.of(world)
    users = registrations(world, start_ms, rng)
    signals = Signals.of(world, users.ms, start_ms + days * DAY_MS, rng)
    shopper, day = session_days(world, signals, max(1, round(events / EVENTS_PER_SESSION)), start_ms, rng)
    written, fraud_orders = 0, []
    with tqdm(total=events, unit="event", desc="synthetic lake", disable=not progress) as bar:
        written += write_chunk(lake, [*catalog_events(world, start_ms), users], 0, rng)
        bar.update(written)
        per_chunk = max(1, round(CHUNK_EVENTS / EVENTS_PER_SESSION))
        for number, lo in enumerate(range(0, len(shopper), per_chunk), start=1):
            hi = min(len(shopper), lo + per_chunk)
            batches, fraud = sessions_events(world, catalog, signals, users.columns["user_id"], shopper[lo:hi],
                                             day[lo:hi], start_ms, days, rng)
            fraud_orders.extend(fraud)
            count = write_chunk(lake, batches, number, rng)
            written += count
            bar.update(count)
    truth_file = write_truth({**world.ground_truth(), "fraud_orders": sorted(fraud_orders), "orders": [],
                              "start": start.isoformat()}, truth or default_truth(lake_url))
    return Report(written, time.perf_counter() - began, truth_file)


def catalog_size(events: int) -> int:
    return max(50, events // EVENTS_PER_PRODUCT)


def default_truth(lake_url: str) -> Path:
    return Path(lake_url.removeprefix("file://")).parent / "synthetic-truth.json"


def catalog_events(world: World, start_ms: int) -> list[TypeBatch]:
    """The catalog as the shop journals it, the day before the first: categories, products with their variants (a
    product's third variant added by a `product.updated` an hour later), and each variant's stock
    (STOCK_PER_VARIANT; every fifth variant restocked by RESTOCK before the shop opens)."""
    names = category_names(sorted({product.category_id for product in world.products}))
    products = world.products
    listed = [[variant.id for variant in product.variants[:2]] for product in products]
    added = [product for product in products if len(product.variants) > 2]
    variants = [variant.id for product in products for variant in product.variants]
    restocked = variants[::5]
    ms = start_ms - DAY_MS
    return [
        TypeBatch("category.created", EVENTS_STREAM, np.full(len(names), ms), {
            "category_id": pa.array(list(names)), "name": pa.array(list(names.values())),
            "slug": pa.array([name.lower().replace(" ", "-") for name in names.values()])}),
        TypeBatch("product.created", EVENTS_STREAM, np.full(len(products), ms + 60_000), {
            "product_id": pa.array([product.id for product in products]),
            "category_id": pa.array([product.category_id for product in products]),
            "brand": pa.array([product.brand for product in products]), "status": "active",
            "variant_ids": pa.array(listed)}),
        TypeBatch("product.updated", EVENTS_STREAM, np.full(len(added), ms + 3_600_000), {
            "product_id": pa.array([product.id for product in added]), "fields": pa.array([["variants"]] * len(added)),
            "added_variant_ids": pa.array([[variant.id for variant in product.variants[2:]] for product in added])}),
        TypeBatch("inventory.created", EVENTS_STREAM, np.full(len(variants), ms + 2 * 3_600_000), {
            "shard": 0, "variant_id": pa.array(variants), "on_hand": STOCK_PER_VARIANT}),
        TypeBatch("inventory.adjusted", EVENTS_STREAM, np.full(len(restocked), ms + 3 * 3_600_000), {
            "shard": 0, "variant_id": pa.array(restocked), "delta": RESTOCK, "reason": "restock",
            "on_hand": STOCK_PER_VARIANT + RESTOCK, "available": STOCK_PER_VARIANT + RESTOCK})]


def registrations(world: World, start_ms: int, rng: np.random.Generator) -> TypeBatch:
    """One `user.registered` per shopper on its signup day; binds the world's shoppers to their user ids."""
    signup = np.asarray([shopper.signup_day for shopper in world.shoppers], dtype=np.int64)
    ms = start_ms + signup * DAY_MS + rng.integers(0, DAY_MS, len(signup))
    user_ids = ulids("usr", ms, rng)
    for index, user_id in enumerate(user_ids.to_pylist()):
        world.bind(index, user_id)
    emails = pa.array([f"{shopper.key}@sim.example.com" for shopper in world.shoppers])
    return TypeBatch("user.registered", EVENTS_STREAM, ms, {"user_id": user_ids, "email": emails, "role": "customer"})


def session_days(world: World, signals: Signals, sessions: int, start_ms: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Who shops on which day, sorted by day: shoppers come back at their visit rate, from their signup day on;
    a stolen-card burst is a few sessions on the day it starts (Signals.burst_ms)."""
    rates = np.asarray([shopper.visit_rate for shopper in world.shoppers])
    signup = np.asarray([shopper.signup_day for shopper in world.shoppers])
    weights = signals.burst_weight(rates, sessions)
    shopper = rng.choice(len(rates), sessions, p=weights / weights.sum())
    first = signup[shopper]
    day = first + (rng.random(sessions) * (world.days - first)).astype(np.int64)
    burst = signals.pattern[shopper] == BURST
    day[burst] = np.minimum((signals.burst_ms[shopper[burst]] - start_ms) // DAY_MS, world.days - 1)
    order = np.argsort(day, kind="stable")
    return shopper[order], day[order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1), help="the first day (UTC)")
    parser.add_argument("--lake", required=True, help="the lake's folder or object-store URL")
    parser.add_argument("--truth", help="the ground truth file (default: beside the lake)")
    args = parser.parse_args(argv)
    if args.events < 1 or args.days < 1:
        parser.error("--events and --days must be positive")
    lake = args.lake if "://" in args.lake else str(Path(args.lake).absolute())
    report = generate(lake, args.events, args.days, args.seed, args.start, args.truth, progress=True)
    print(f"{report.events:,} events in {report.seconds:.1f} s ({report.per_second:,.0f} events/s) into {lake}; "
          f"ground truth in {report.truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
