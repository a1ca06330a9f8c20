"""Product views become `product.viewed` events on the analytics stream, with where the shopper came from."""

from __future__ import annotations

import json
from typing import Any

import redis

from config import Settings
from tests.shop import Shop, assert_error
from tests.support import wait_until


def views_of(redis_client: redis.Redis, settings: Settings, product_id: str) -> list[dict[str, Any]]:
    entries = redis_client.xrevrange(settings.analytics_stream, count=2000)  # type: ignore[union-attr]
    return [json.loads(fields["data"]) for _, fields in entries
            if fields["type"] == "product.viewed" and json.loads(fields["data"])["product_id"] == product_id]


def test_a_recommendation_click_and_an_anonymous_view_are_recorded(
        shop: Shop, settings: Settings, redis_client: redis.Redis) -> None:
    product = shop.product()
    shopper = shop.register()
    assert shop.http.get(f"/v1/products/{product['id']}", params={"ref": "recommendation"},
                         headers=shopper.headers).status_code == 200
    assert shop.http.get(f"/v1/products/{product['id']}").status_code == 200

    views = wait_until(lambda: len(found := views_of(redis_client, settings, product["id"])) == 2 and found)
    assert {(view["user_id"], view["source"]) for view in views} == {
        (shopper.user["id"], "recommendation"), (None, None)}
    business = redis_client.xrevrange(settings.events_stream, count=200)  # type: ignore[union-attr]
    assert all(fields["type"] != "product.viewed" for _, fields in business)


def test_an_unknown_source_is_refused(shop: Shop) -> None:
    product = shop.product()
    assert_error(shop.http.get(f"/v1/products/{product['id']}", params={"ref": "newsletter"}), 422)
    assert_error(shop.http.get("/v1/products/prd_01ARZ3NDEKTSV4RRFFQ69G5FAV", params={"ref": "related"}), 404)
