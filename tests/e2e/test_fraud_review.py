"""The fraud model at checkout, through HTTP: with an approved model in the shop's lake, a stolen-card-looking
order is held and waits in the admins' review queue with its score; an ordinary one goes through; shoppers never
see a score; only admins see the queue or record a chargeback, once per order."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import ray
import redis

from actors.routing import Router
from config import Settings
from domain.cards import sandbox_card_number
from lake.layout import Lake
from lake.models import ModelStore
from pipelines.fraud import train
from tests import fraud_world
from tests.shop import Account, Shop, assert_error, loopback_address

_serials = itertools.count(1)


def shards_score_with(settings: Settings, version: str | None, timeout: float = 20) -> None:
    router = Router(settings)
    handles = [router.handle("shoppers", shard) for shard in range(settings.shopper_shards)]
    deadline = time.monotonic() + timeout
    while ray.get([h.fraud_model_version.remote() for h in handles]) != [version] * len(handles):
        assert time.monotonic() < deadline, f"the shopper shards did not take fraud model {version}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def approved_model(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A model trained on a synthetic lake, copied into the shop's lake and approved; withdrawn afterwards, so
    the other tests' checkouts are the rules' alone again."""
    folder: Path = tmp_path_factory.mktemp("fraud-training")
    fraud_world.write(fraud_world.generate(seed=11), Lake(str(folder)))
    trained = train(settings.model_copy(update={"lake_dir": str(folder)}), progress=False)
    model = ModelStore(Lake(str(folder)), "fraud").load(trained.version)
    shop_models = ModelStore(Lake(settings.lake_dir), "fraud")
    shop_models.publish(trained.version, model.model, model.metrics, model.features)
    shop_models.approve(trained.version, "tests", "the fraud review stories", datetime.now(UTC))
    shards_score_with(settings, trained.version)
    yield model.metrics
    shop_models.withdraw(trained.version)
    shards_score_with(settings, None)


def checkout_from_a_new_address(shop: Shop, shopper: Account, card_number: str, price: int
                                ) -> dict[str, Any]:
    product = shop.product(stock=2, price=price)
    shop.add_to_cart(shopper, product)
    with shop.client_at(loopback_address()) as client:
        r = client.post("/v1/checkout", json=shop.checkout_body(shopper, card_number),
                        headers={**shopper.headers, "Idempotency-Key": f"fraud-review-{next(_serials)}"})
    assert r.status_code == 201, r.text
    return r.json()["order"]  # type: ignore[no-any-return]


def held_queue(shop: Shop, **params: Any) -> dict[str, Any]:
    r = shop.http.get("/v1/admin/orders", params={"review": "held", **params}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_stolen_looking_card_is_held_for_review_with_its_score(shop: Shop, approved_model: dict[str, Any]) -> None:
    thief = shop.register()
    order = checkout_from_a_new_address(shop, thief, sandbox_card_number("NG", next(_serials)), 45_000)
    assert order["status"] == "pending"
    assert "fraud_score" not in order and "fraud_reasons" not in order  # the shopper's answer
    mine = shop.http.get(f"/v1/orders/{order['id']}", headers=thief.headers).json()["order"]
    assert "fraud_score" not in mine
    listed = shop.http.get("/v1/orders", headers=thief.headers).json()["items"]
    assert all("fraud_score" not in o for o in listed)
    queue = held_queue(shop, page_size=5)
    assert queue["items"][0]["id"] == order["id"]  # newest first
    held = queue["items"][0]
    assert held["fraud_score"] >= approved_model["threshold"]
    assert "model_score_above_threshold" in held["fraud_reasons"]


def test_an_ordinary_first_order_goes_through(shop: Shop, approved_model: dict[str, Any]) -> None:
    shopper = shop.register()
    order = checkout_from_a_new_address(shop, shopper, sandbox_card_number("US", next(_serials)), 2_500)
    assert order["status"] == "confirmed"
    admin_view = shop.http.get(f"/v1/orders/{order['id']}", headers=shop.admin.headers).json()["order"]
    assert admin_view["fraud_score"] < approved_model["threshold"]
    assert order["id"] not in [o["id"] for o in held_queue(shop, page_size=100)["items"]]


def test_a_reviewed_order_leaves_the_queue(shop: Shop, approved_model: dict[str, Any]) -> None:
    thief = shop.register()
    order = checkout_from_a_new_address(shop, thief, sandbox_card_number("RU", next(_serials)), 60_000)
    assert order["status"] == "pending"
    r = shop.http.post(f"/v1/orders/{order['id']}/cancel", headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    assert order["id"] not in [o["id"] for o in held_queue(shop, page_size=100)["items"]]


def test_only_admins_see_the_review_queue(shop: Shop) -> None:
    shopper = shop.register()
    assert_error(shop.http.get("/v1/admin/orders", params={"review": "held"}, headers=shopper.headers), 403)
    assert_error(shop.http.get("/v1/admin/orders", params={"review": "all"}, headers=shop.admin.headers), 422)


def test_a_chargeback_is_recorded_once_and_only_by_an_admin(shop: Shop, settings: Settings,
                                                          redis_client: redis.Redis) -> None:
    shopper = shop.register()
    order = checkout_from_a_new_address(shop, shopper, sandbox_card_number("US", next(_serials)), 3_000)
    url = f"/v1/admin/orders/{order['id']}/chargeback"
    for step in ({"status": "packed"}, {"status": "shipped", "tracking_number": "1Z2"}):  # captured when shipped
        assert shop.http.post(f"/v1/admin/orders/{order['id']}/status", json=step,
                              headers=shop.admin.headers).status_code == 200
    assert_error(shop.http.post(url, json={"reason": "fraudulent"}, headers=shopper.headers), 403)
    r = shop.http.post(url, json={"reason": "fraudulent"}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    charged = r.json()["order"]
    assert charged["payment_status"] == "charged_back" and charged["chargeback"]["amount"] == order["total"]
    assert_error(shop.http.post(url, json={"reason": "fraudulent"}, headers=shop.admin.headers), 409,
                 "already_charged_back")
    assert_error(shop.http.post(url, json={}, headers=shop.admin.headers), 422)
    assert_error(shop.http.post("/v1/admin/orders/ord_" + "0" * 26 + "/chargeback", json={"reason": "x"},
                                headers=shop.admin.headers), 404)
    recent = [fields for _, fields in redis_client.xrevrange(settings.events_stream, count=500)]
    events = [json.loads(f["data"]) for f in recent if f["type"] == "payment.chargeback"]
    events = [e for e in events if e["order_id"] == order["id"]]
    assert len(events) == 1 and events[0]["amount"] == order["total"] and events[0]["reason"] == "fraudulent"
