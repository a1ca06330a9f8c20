"""An admin reads the analytics run's figures through the API; nobody else may, and before a run there are none."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import Settings
from pipelines.analytics import run
from tests.lake_builders import small_shop
from tests.shop import Shop, assert_error

pytestmark = pytest.mark.ray
PATH = "/v1/admin/analytics"
JANUARY = {"from": "2026-01-01", "to": "2026-01-31"}


def test_an_admin_reads_the_metrics_of_the_latest_run_and_a_shopper_may_not(shop: Shop, settings: Settings,
                                                                           tmp_path: Path) -> None:
    settings.analytics_db.unlink(missing_ok=True)
    assert_error(shop.http.get(PATH, params=JANUARY, headers=shop.admin.headers), 503, "analytics_unavailable")

    lake = str(tmp_path / "lake")
    small_shop(lake)
    run(settings.model_copy(update={"lake_dir": lake}), reader="duckdb", progress=False)  # the shop's database

    shopper = shop.register()
    assert_error(shop.http.get(PATH, params=JANUARY, headers=shopper.headers), 403, "admin_only")
    assert_error(shop.http.get(PATH, params=JANUARY), 401)

    r = shop.http.get(PATH, params={**JANUARY, "granularity": "week"}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert [(p["period"], p["orders"], p["revenue"], p["aov"]) for p in answer["series"]] == [
        ("2026-01-05", 1, 3000, 3000), ("2026-01-19", 1, 500, 500)]
    headline = answer["headline"]
    assert headline["totals"] == [{"currency": "USD", "orders": 2, "revenue": 3500, "aov": 1750}]
    assert headline["conversion_rate"] == pytest.approx(2 / 3) and headline["zero_result_rate"] == 0.4
    assert answer["overall"]["orders"] == 3 and answer["overall"]["search_p50_ms"] == 30.0

    monthly = shop.http.get(PATH, params={"from": "2026-01-15", "to": "2026-02-28", "granularity": "month"},
                            headers=shop.admin.headers).json()
    assert [(p["period"], p["orders"]) for p in monthly["series"]] == [("2026-01-01", 2), ("2026-02-01", 1)]


@pytest.mark.parametrize("params", [{"from": "2026-13-01", "to": "2026-01-31"}, {"from": "2026-01-01"},
                                    {**JANUARY, "granularity": "year"}, {"from": "2026-02-01", "to": "2026-01-01"}])
def test_bad_parameters_are_refused_in_the_contracts_shape(shop: Shop, params: dict[str, str]) -> None:
    assert_error(shop.http.get(PATH, params=params, headers=shop.admin.headers), 422)
