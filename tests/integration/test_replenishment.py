"""Replenishment on a small lake, with answers counted by hand."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from config import Settings
from pipelines.replenishment import output_dir, reorder, run
from tests.lake_builders import LakeBuilder

RULES = {"replenishment_window_days": 28, "replenishment_lead_time_days": 7.0, "replenishment_safety_days": 3.0,
         "replenishment_cover_days": 14.0}


def shop_with_sales(settings: Settings, tmp_path: Path) -> Settings:
    mine = settings.model_copy(update={"lake_dir": str(tmp_path / "lake"),
                                       "analytics_db": tmp_path / "analytics" / "analytics.duckdb", **RULES})
    b = LakeBuilder(mine.lake_dir)
    b.add("product.created", "2026-01-01 09:00", product_id="prd_1", seller_id=None, category_id="cat_1",
          brand="Leaf", status="active", variant_ids=["var_a", "var_b"])
    b.order("2026-01-15 10:00", "ord_old", "usr_1", [("var_b", 100, 900)])  # before the window
    b.order("2026-03-01 10:00", "ord_1", "usr_1", [("var_a", 10, 1000)])
    b.order("2026-03-20 10:00", "ord_2", "usr_2", [("var_a", 4, 1000), ("var_b", 1, 900)])
    b.write()
    return mine


def test_reorder_points_and_quantities_follow_the_last_four_weeks_of_sales(settings: Settings, tmp_path: Path) -> None:
    mine = shop_with_sales(settings, tmp_path)
    end, suggestions = run(mine, reader="duckdb", progress=False)
    assert str(end) == "2026-03-20 10:00:00"  # the window is the 28 days up to the last order
    # var_a: 14 units / 28 days = 0.5 a day: ceil(0.5 x (7 + 3)) = 5, ceil(0.5 x 14) = 7
    # var_b: 1 unit / 28 days: ceil(10 / 28) = 1, ceil(14 / 28) = 1 (ord_old is before the window)
    table = pq.read_table(output_dir(mine) / "replenishment.parquet").to_pylist()
    assert [(r["variant_id"], r["product_id"], r["units_sold"], r["reorder_point"], r["reorder_quantity"])
            for r in table] == [("var_a", "prd_1", 14, 5, 7), ("var_b", "prd_1", 1, 1, 1)]
    assert [s.reorder_point for s in suggestions] == [5, 1]
    document = json.loads((output_dir(mine) / "replenishment.json").read_text())
    assert document["lead_time_days"] == 7.0 and document["as_of"] == "2026-03-20T10:00:00Z"
    assert document["variants"]["var_a"] == {"product_id": "prd_1", "units_sold": 14, "daily_rate": 0.5,
                                             "reorder_point": 5, "reorder_quantity": 7}


def test_an_earlier_day_gives_the_window_before_it(settings: Settings, tmp_path: Path) -> None:
    mine = shop_with_sales(settings, tmp_path)
    _, suggestions = run(mine, as_of=date(2026, 1, 31), reader="duckdb", progress=False)
    # var_b: 100 units / 28 days: ceil(1000 / 28) = 36, ceil(1400 / 28) = 50
    assert [(s.variant_id, s.units_sold, s.reorder_point, s.reorder_quantity) for s in suggestions] == [
        ("var_b", 100, 36, 50)]


def test_whole_days_are_not_rounded_up_by_float_error(settings: Settings) -> None:
    exact = settings.model_copy(update={"replenishment_window_days": 30, "replenishment_lead_time_days": 0.7,
                                        "replenishment_safety_days": 0.0, "replenishment_cover_days": 0.1})
    suggestion = reorder("var_x", None, 300, exact)  # 10 a day: 7 units of lead time, 1 of cover
    assert (suggestion.reorder_point, suggestion.reorder_quantity) == (7, 1)


def test_a_lake_without_orders_suggests_nothing(settings: Settings, tmp_path: Path) -> None:
    mine = settings.model_copy(update={"lake_dir": str(tmp_path / "empty"),
                                       "analytics_db": tmp_path / "analytics" / "analytics.duckdb"})
    assert run(mine, reader="duckdb", progress=False) == (None, [])
    assert json.loads((output_dir(mine) / "replenishment.json").read_text())["variants"] == {}
