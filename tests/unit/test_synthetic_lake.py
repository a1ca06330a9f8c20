"""The synthetic lake: the exporter's files, coherent streams, driven by the world's hidden tastes."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from lake.schemas import schema_for
from simulation.catalogs import synthetic_catalog
from simulation.synthetic import catalog_size, generate


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "lake"
    report = generate(str(root), 30_000, days=20, seed=5)
    assert 25_000 <= report.events <= 40_000 and report.truth.exists()
    return root


def read(lake: Path, event_type: str) -> pa.Table:
    return ds.dataset(lake / "events" / f"type={event_type}", partitioning="hive").to_table()


def test_every_file_has_its_type_schema_and_the_exporter_layout(lake: Path) -> None:
    files = sorted((lake / "events").rglob("*.parquet"))
    assert {f.parent.parent.name for f in files} >= {
        "type=user.registered", "type=product.viewed", "type=search.performed", "type=cart.item_added",
        "type=checkout.started", "type=order.created", "type=order.cancelled", "type=payment.authorized",
        "type=payment.captured", "type=payment.chargeback"}
    for file in files:
        event_type = file.parent.parent.name.removeprefix("type=")
        table = pq.read_table(file)
        assert table.schema.remove_metadata() == schema_for(event_type), file
        dates = {moment.date().isoformat() for moment in table.column("event_at").to_pylist()}
        assert dates == {file.parent.name.removeprefix("date=")}
        ids = table.column("stream_id").to_pylist()
        assert file.name.endswith(f"-{ids[0]}-{ids[-1]}.parquet")


def test_checkouts_payments_and_orders_line_up(lake: Path) -> None:
    created = read(lake, "order.created")
    started, authorized = read(lake, "checkout.started"), read(lake, "payment.authorized")
    assert set(created.column("order_id").to_pylist()) == set(started.column("order_id").to_pylist()) == set(
        authorized.column("reference").to_pylist())
    for order in created.slice(0, 50).to_pylist():
        assert order["total"] == sum(item["price"] * item["quantity"] for item in order["items"])
    event_ids = [row for kind in ("order.created", "product.viewed")
                 for row in read(lake, kind).column("event_id").to_pylist()]
    assert len(set(event_ids)) == len(event_ids)


def test_views_follow_the_hidden_tastes_and_chargebacks_mostly_fraud(lake: Path) -> None:
    truth = json.loads((lake.parent / "synthetic-truth.json").read_text())
    shoppers = {s["user_id"]: s for s in truth["shoppers"].values()}
    category_of = {p.id: p.category_id for p in synthetic_catalog(catalog_size(30_000), 5)}
    views = read(lake, "product.viewed").select(["product_id", "user_id"]).to_pylist()
    liked = sum(category_of[v["product_id"]] in shoppers[v["user_id"]]["categories"] for v in views)
    assert liked / len(views) > 0.6
    charged = set(read(lake, "payment.chargeback").column("order_id").to_pylist())
    assert charged and len(charged & set(truth["fraud_orders"])) / len(charged) > 0.7  # a few honest ones disputed


def test_orders_carry_the_fraud_signals_as_the_shop_records_them(lake: Path) -> None:
    truth = json.loads((lake.parent / "synthetic-truth.json").read_text())
    shoppers = {s["user_id"]: s for s in truth["shoppers"].values()}
    registered = {row["user_id"]: row["event_at"] for row in read(lake, "user.registered").to_pylist()}
    orders = read(lake, "order.created").to_pylist()
    for order in orders:
        assert order["client_ip"].count(".") == 3 and len(order["card_fingerprint"]) == 64
        assert order["card_country"] in shoppers[order["user_id"]]["card_countries"] and order["ship_country"]
        created = datetime.fromisoformat(order["account_created_at"])
        assert created == registered[order["user_id"]] and created < order["event_at"]
        assert order["held_for_review"] is False and order["fraud_score"] is None
    fraud = set(truth["fraud_orders"])
    honest = [order for order in orders if order["order_id"] not in fraud]
    crooked = [order for order in orders if order["order_id"] in fraud]
    assert crooked and mismatched(honest) < 0.15 < mismatched(crooked) < 0.95  # a signal, not a giveaway
    # the busiest stolen-card burst: several cards within a couple of hours
    bursts = [order for order in crooked if shoppers[order["user_id"]]["fraud"] == "stolen_card_burst"]
    busiest = Counter(order["user_id"] for order in bursts).most_common(1)[0][0]
    burst = [order["event_at"] for order in bursts if order["user_id"] == busiest]
    assert len({order["card_fingerprint"] for order in bursts if order["user_id"] == busiest}) > 1
    assert len(burst) >= 3 and max(burst) - min(burst) < timedelta(hours=3)


def mismatched(orders: list[dict[str, Any]]) -> float:
    """The share of orders whose card was issued in another country than the one they ship to."""
    return sum(order["card_country"] != order["ship_country"] for order in orders) / len(orders)


def test_the_same_seed_writes_the_same_lake(lake: Path, tmp_path: Path) -> None:
    again = tmp_path / "lake"
    generate(str(again), 30_000, days=20, seed=5)
    for event_type in ("order.created", "product.viewed"):
        assert read(again, event_type).sort_by("stream_id").equals(read(lake, event_type).sort_by("stream_id"))
