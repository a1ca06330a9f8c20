"""The simulation clock through HTTP: an admin of a simulated shop moves business time; any other shop has no such
route. A second app (`simulation_url`, env "simulation") runs beside the session's (env "test") on the same Serve."""

from __future__ import annotations

import json

import pytest
import redis
from fastapi.testclient import TestClient

from config import Settings
from serve.api import create_api
from tests.shop import Shop, assert_error
from tests.support import wait_until

pytestmark = pytest.mark.ray


def test_an_admin_of_a_simulated_shop_moves_the_time_events_carry(
        shop: Shop, simulation_url: str, settings: Settings, redis_client: redis.Redis) -> None:
    product = shop.product()
    moved = shop.http.post(f"{simulation_url}/v1/admin/simulation/clock", json={"now": "2031-03-04T05:06:07Z"},
                           headers=shop.admin.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["clock"]["now"] == "2031-03-04T05:06:07.000Z"

    def viewed_in_2031() -> bool:
        shop.http.get(f"{simulation_url}/v1/products/{product['id']}", params={"ref": "browse"})
        entries = redis_client.xrevrange(settings.analytics_stream, count=200)  # type: ignore[union-attr]
        return any(fields["type"] == "product.viewed" and fields["at"].startswith("2031-03-04")
                   and json.loads(fields["data"])["product_id"] == product["id"] for _, fields in entries)

    wait_until(viewed_in_2031, timeout=10)


def test_only_an_admin_may_move_it_and_only_to_a_time_with_a_zone(shop: Shop, simulation_url: str) -> None:
    url = f"{simulation_url}/v1/admin/simulation/clock"
    assert_error(shop.http.post(url, json={"now": "2031-03-04T05:06:07Z"}), 401)
    assert_error(shop.http.post(url, json={"now": "2031-03-04T05:06:07Z"}, headers=shop.register().headers), 403)
    assert_error(shop.http.post(url, json={"now": "2031-03-04T05:06:07"}, headers=shop.admin.headers), 422)
    assert_error(shop.http.post(url, json={"now": "next tuesday"}, headers=shop.admin.headers), 422)


def test_a_shop_that_is_not_a_simulation_has_no_clock_to_move(shop: Shop) -> None:
    assert_error(shop.http.post("/v1/admin/simulation/clock", json={"now": "2031-03-04T05:06:07Z"},
                                headers=shop.admin.headers), 404)


@pytest.mark.parametrize("env", ["production", "local"])
def test_production_and_local_shops_have_no_clock_route(settings: Settings, env: str) -> None:
    other = settings.model_copy(update={"env": env})
    with TestClient(create_api(other)) as client:
        assert_error(client.post("/v1/admin/simulation/clock", json={"now": "2031-03-04T05:06:07Z"}), 404)
