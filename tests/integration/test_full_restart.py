"""Stopping the whole shop (Serve, every actor, and redis-server itself) and starting it again loses no
acknowledged reservation, cart line, order or account. It leaves the shop running, so it may run anywhere in the
session (other tests find actors and the app by name, never by a handle cached across tests)."""

from __future__ import annotations

import ray
from ray import serve

from actors.routing import Router
from actors.system import spawn_all, stop_all
from config import Settings
from serve.app import deploy
from serve.local_redis import LocalRedis
from tests.shop import Shop


def test_a_full_stop_and_start_loses_nothing_acknowledged(shop: Shop, settings: Settings,
                                                          redis_server: LocalRedis) -> None:
    product = shop.product(stock=10, price=1500)
    variant_id = product["variants"][0]["id"]
    buyer, browser = shop.register(), shop.register()
    shop.add_to_cart(buyer, product, quantity=2)
    order = shop.checkout(buyer, shop.checkout_body(buyer)).json()["order"]
    assert shop.add_to_cart(browser, product, quantity=3).status_code == 200
    inventory = Router(settings).owner("inventory", variant_id)
    ray.get(inventory.reserve.remote("rsv-held-across-restart", {variant_id: 1}, 3600))
    cart_before = shop.http.get("/v1/cart", headers=browser.headers).json()
    stock_before = shop.stock(variant_id)

    serve.shutdown()
    stop_all(settings)
    redis_server.stop()
    redis_server.start()
    spawn_all(settings)
    deploy(settings)

    again = shop.login(browser.email, browser.password)
    assert shop.http.get("/v1/cart", headers=again.headers).json() == cart_before
    shop._admin = None  # the admin logs in again too
    assert shop.stock(variant_id) == stock_before
    assert (stock_before["reserved"], stock_before["committed"]) == (1, 2)
    buyer_again = shop.login(buyer.email, buyer.password)
    orders = shop.http.get("/v1/orders", headers=buyer_again.headers).json()["items"]
    assert [(o["id"], o["order_number"], o["status"]) for o in orders] == [
        (order["id"], order["order_number"], "confirmed")]
    held = ray.get(Router(settings).owner("inventory", variant_id).reservation.remote("rsv-held-across-restart"))
    assert held["status"] == "held"
    # and the restarted shop still sells
    shop.add_to_cart(buyer_again, product)
    assert shop.checkout(buyer_again, shop.checkout_body(buyer_again)).status_code == 201
