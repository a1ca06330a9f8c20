"""The analytics run on small lakes: every figure equals a direct SQL over the raw events (tests/integration/
direct_sql.py), the tiny shop's figures equal what we count by hand, both readers agree, and the output is swapped
in whole."""

from __future__ import annotations

import math
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from config import Settings
from lake.files import draft_path
from pipelines.analytics import CHART, parquet_dir, run
from simulation.synthetic import generate
from tests.integration.direct_sql import QUERIES, direct
from tests.lake_builders import small_shop

pytestmark = pytest.mark.ray


def own(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"lake_dir": str(tmp_path / "lake"),
                                       "analytics_db": tmp_path / "analytics" / "analytics.duckdb"})


def table(mine: Settings, name: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(mine.analytics_db), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        return connection.execute(f"SELECT * FROM {name}").fetchall()


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def assert_equal_to_direct_sql(mine: Settings) -> None:
    expected = direct(mine.lake_dir, mine.analytics_clv_lifetime_months)
    for name in QUERIES:
        got = sorted(table(mine, name), key=repr)
        assert len(got) == len(expected[name]), name
        for row, want in zip(got, expected[name], strict=True):
            assert all(same(a, b) for a, b in zip(row, want, strict=True)), (name, row, want)


@pytest.fixture
def tiny(settings: Settings, tmp_path: Path) -> Settings:
    mine = own(settings, tmp_path)
    small_shop(mine.lake_dir)
    return mine


def test_the_tiny_shops_figures_are_what_we_count_by_hand(tiny: Settings) -> None:
    result = run(tiny, reader="duckdb", progress=False)
    assert result.rows["revenue"] == 3 + 3 + 2 and result.events > 0
    revenue = {(g, str(p)): (o, r, a) for g, p, _, o, r, a in table(tiny, "revenue")}
    assert revenue[("day", "2026-01-10")] == (1, 3000, 3000)
    assert revenue[("week", "2026-01-05")] == (1, 3000, 3000)  # a Saturday's week starts on Monday the 5th
    assert revenue[("month", "2026-01-01")] == (2, 3500, 1750)
    assert revenue[("month", "2026-02-01")] == (1, 1500, 1500)
    assert [(str(d), c, p, r) for d, c, p, r in table(tiny, "conversion")] == [
        ("2026-01-10", 2, 1, 0.5), ("2026-01-21", 1, 1, 1.0)]
    [(user, orders, spent, first, _, aov, per_month, predicted)] = table(tiny, "customer_value")  # not usr_2: cancelled
    months = (datetime(2026, 2, 15, 10) - datetime(2026, 1, 10, 13)).total_seconds() / (30 * 86400)
    assert (user, orders, spent, first, aov) == ("usr_1", 2, 4500, datetime(2026, 1, 10, 13), 2250.0)
    assert math.isclose(per_month, 2 / months) and predicted == round(2250 * 2 / months * 24)
    assert [(str(c), *rest) for c, *rest in table(tiny, "cohorts")] == [
        ("2026-01-01", 2, 2, 1, 0.5), ("2026-02-01", 1, 0, 0, None)]
    assert [(str(c), k, n, u, r) for c, k, n, u, r in table(tiny, "cohort_retention")] == [
        ("2026-01-01", 0, 2, 2, 1.0), ("2026-01-01", 1, 1, 2, 0.5)]
    turnover = {row[0]: row[1:] for row in table(tiny, "inventory_turnover")}
    assert turnover["cat_tea"] == ("Tea", 3, 150, 168, 159.0, 3 / 159)  # var_1a: 100, +20, 2 shipped after
    assert turnover["cat_cups"] == ("Cups", 2, 20, 19, 19.5, 2 / 19.5)
    products = {row[0]: row[1:] for row in table(tiny, "product_performance")}
    assert products["prd_1"] == (3, 1, 2, 3, 3500, 0, 0)
    assert products["prd_2"] == (1, 3, 2, 2, 1500, 1, 1)
    [(day, searches, p50, p95, p99, zero, rate)] = table(tiny, "search_daily")
    assert (day, searches, p50, zero, rate) == (date(2026, 1, 10), 5, 30.0, 2, 0.4)
    assert math.isclose(p95, 88.0) and math.isclose(p99, 97.6)  # linear between 40 and 100
    assert table(tiny, "search_zero_queries") == [("xyz", 2)]
    [summary] = table(tiny, "summary")
    assert summary[1:6] == (3, 5000, 1667, 1, 0.5) and math.isclose(summary[6], 2 / 3)


def test_every_figure_equals_direct_sql_over_the_raw_events(tiny: Settings) -> None:
    run(tiny, reader="duckdb", progress=False)
    assert_equal_to_direct_sql(tiny)


def test_a_synthetic_lake_through_ray_equals_direct_sql_and_the_duckdb_reader(ray_session: None, settings: Settings,
                                                                              tmp_path: Path) -> None:
    mine = own(settings, tmp_path)
    generate(mine.lake_dir, 30_000, days=40, seed=3)
    through_ray = run(mine, reader="ray", progress=False)
    assert through_ray.rows["product_performance"] > 0 and through_ray.rows["inventory_turnover"] > 0
    assert_equal_to_direct_sql(mine)
    by_ray = {name: sorted(table(mine, name), key=repr) for name in QUERIES}
    run(mine, reader="duckdb", progress=False)
    assert by_ray == {name: sorted(table(mine, name), key=repr) for name in QUERIES}


def test_a_lake_without_views_or_searches_still_runs_with_zero_views(settings: Settings, tmp_path: Path) -> None:
    mine = own(settings, tmp_path)
    small_shop(mine.lake_dir)
    for event_type in ("product.viewed", "search.performed"):
        for folder, _, files in os.walk(Path(mine.lake_dir) / "events" / f"type={event_type}"):
            for name in files:
                os.remove(Path(folder) / name)
    result = run(mine, reader="duckdb", progress=False)
    assert result.rows["search_daily"] == 0
    assert {row[0]: row[1] for row in table(mine, "product_performance")} == {"prd_1": 0, "prd_2": 0}


def test_the_output_is_swapped_in_whole_and_a_failed_run_leaves_the_last_one(tiny: Settings) -> None:
    run(tiny, reader="duckdb", progress=False)
    before = os.stat(tiny.analytics_db)
    chart = (tiny.analytics_db.parent / CHART).read_text()
    assert chart.startswith("<svg") and "Revenue per day" in chart
    assert sorted(p.name for p in parquet_dir(tiny).iterdir()) == sorted(f"{n}.parquet" for n in [*QUERIES,
                                                                         "search_zero_queries", "summary"])
    # a reader holding the old file keeps reading it whole while a new run replaces it
    reader = duckdb.connect(str(tiny.analytics_db), read_only=True)
    run(tiny, reader="duckdb", progress=False)
    assert os.stat(tiny.analytics_db).st_ino != before.st_ino
    assert reader.execute("SELECT count(*) FROM revenue").fetchall() == [(8,)]
    reader.close()
    last = os.stat(tiny.analytics_db).st_ino
    (Path(tiny.lake_dir) / "events" / "type=order.created" / "date=2026-01-10" / "broken.parquet").write_text("x")
    with pytest.raises((duckdb.Error, pa.ArrowException)):
        run(tiny, reader="duckdb", progress=False)  # a file in the lake that is not Parquet
    assert os.stat(tiny.analytics_db).st_ino == last and not draft_path(tiny.analytics_db).exists()
    assert len(table(tiny, "revenue")) == 8
    assert not [p for p in parquet_dir(tiny).iterdir() if p.name.startswith(".")]
