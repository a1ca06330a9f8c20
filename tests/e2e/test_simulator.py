"""The traffic simulator against the session's shop (through its simulation app, so the clock moves): a short
history of a few shoppers over two days, and the same history again for the same seed."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from config import Settings
from simulation.simulate import Simulation, simulate
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.shop import Shop

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def catalog(shop: Shop) -> dict[str, Any]:
    """A department of its own: three categories, two brands each, stock that never runs out."""
    root = shop.category(f"Simulated {uuid.uuid4().hex[:6]}")
    for n in range(3):
        category = shop.category(f"Aisle {n} {uuid.uuid4().hex[:6]}", parent_id=root["id"])
        for brand, price in (("Acme", 1_500 + 1000 * n), ("Zenith", 9_000 + 1000 * n)):
            for _ in range(2):
                shop.product(stock=100_000, price=price, category_id=category["id"], brand=brand)
    return root


def comparable(truth: dict[str, Any]) -> dict[str, Any]:
    """The truth without the ids the shop assigns (another run makes other accounts and orders)."""
    shoppers = {key: {k: v for k, v in shopper.items() if k != "user_id"} for key, shopper in truth["shoppers"].items()}
    orders = [{k: v for k, v in order.items() if k != "order_id"} for order in truth["orders"]]
    return {**truth, "shoppers": shoppers, "orders": orders, "fraud_orders": len(truth["fraud_orders"])}


def test_a_short_simulation_shops_and_the_same_seed_shops_the_same(
        shop: Shop, simulation_url: str, catalog: dict[str, Any], settings: Settings, redis_client: redis.Redis,
        tmp_path: Path) -> None:
    # simulated days from tomorrow on: the session's actors keep real time (env "test"), and a card token made
    # by the simulation app at a simulated time must not have expired on their clock
    start = (datetime.now(UTC) + timedelta(days=1)).date()
    days = {start.isoformat(), (start + timedelta(days=1)).isoformat()}
    config = Simulation(simulation_url, shoppers=6, days=2, seed=11, truth=tmp_path / "first.json",
                        admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, start=start,
                        label=uuid.uuid4().hex[:8], category=catalog["id"])
    report = simulate(config)

    assert report.clock_moved
    assert report.counts["registered"] == 6
    assert report.counts["orders"] > 0 and report.counts["views"] > 0, (report.counts, report.refusals)
    truth = json.loads(config.truth.read_text())
    assert len(truth["shoppers"]) == 6 and all(s["user_id"] for s in truth["shoppers"].values())
    assert len(truth["orders"]) == report.counts["orders"]
    placed = {order["order_id"] for order in truth["orders"]}
    shopper_of = {s["user_id"] for s in truth["shoppers"].values()}
    for order_id in list(placed)[:3]:
        order = shop.http.get(f"/v1/orders/{order_id}", headers=shop.admin.headers).json()["order"]
        assert order["user_id"] in shopper_of
    views = [fields for _, fields in redis_client.xrevrange(settings.analytics_stream, count=5000)  # type: ignore[union-attr]
             if fields["type"] == "product.viewed" and json.loads(fields["data"])["user_id"] in shopper_of]
    assert views and {fields["at"][:10] for fields in views} <= days  # recorded by the simulation app's replica
    # the shop reads each card's issuing country from its BIN: the country the world issued the card in
    countries = {s["user_id"]: s["card_countries"] for s in truth["shoppers"].values()}
    created = [json.loads(fields["data"]) for _, fields in redis_client.xrevrange(  # type: ignore[union-attr]
        settings.events_stream, count=20_000) if fields["type"] == "order.created"]
    created = [data for data in created if data["order_id"] in placed]
    assert len(created) == len(placed)
    assert all(data["card_country"] in countries[data["user_id"]] and data["ship_country"] for data in created)

    again = replace(config, truth=tmp_path / "again.json", label=uuid.uuid4().hex[:8])
    simulate(again)
    assert comparable(json.loads(again.truth.read_text())) == comparable(truth)
