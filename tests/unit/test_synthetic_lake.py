"""The synthetic lake: the exporter's files, coherent streams, driven by the world's hidden tastes."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_the_same_seed_writes_the_same_lake(lake: Path, tmp_path: Path) -> None:
    again = tmp_path / "lake"
    generate(str(again), 30_000, days=20, seed=5)
    for event_type in ("order.created", "product.viewed"):
        assert read(again, event_type).sort_by("stream_id").equals(read(lake, event_type).sort_by("stream_id"))
