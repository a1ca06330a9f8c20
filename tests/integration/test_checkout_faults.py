"""Faults tested like features: a seeded harness kills the actors a checkout goes through at random moments,
the shopper retries with the same Idempotency-Key, and afterwards nobody has two orders, nothing is oversold,
no reservation leaks and no saga is left unfinished."""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Any

import httpx
import ray

from actors.routing import Router
from config import Settings
from tests.shop import Shop
from tests.support import until_answered, wait_until

SEED = 20261125
DEFINITIVE = {200, 201, 402, 409}


def checkout_until_definitive(shop: Shop, headers: dict[str, str], body: dict[str, Any],
                              deadline_s: float = 90) -> httpx.Response:
    """What a well-behaved client does: retry the same request with the same key until it gets an answer."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            r = shop.http.post("/v1/checkout", json=body, headers=headers, timeout=30)
            if r.status_code in DEFINITIVE:
                return r
            assert r.status_code == 503, r.text  # a restarting actor; anything else is a bug
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "checkout never reached a definitive answer"
        time.sleep(0.2)


def kill_one(router: Router, rng: random.Random, user_id: str, variant_id: str) -> str:
    victims = {
        "shoppers": router.owner("shoppers", user_id),
        "inventory": router.owner("inventory", variant_id),
    }
    kind = rng.choice(sorted(victims))
    ray.kill(victims[kind], no_restart=False)
    return kind


def test_checkouts_interrupted_by_crashes_finish_exactly_once(shop: Shop, settings: Settings) -> None:
    rng = random.Random(SEED)
    router = Router(settings)
    stock = 5
    product = shop.product(stock=stock, price=1200)
    variant_id = product["variants"][0]["id"]
    shoppers = [shop.register() for _ in range(7)]
    outcomes: list[int] = []
    killed: list[str] = []
    bodies = []
    for shopper in shoppers:  # carts and card tokens are ready before the faults begin
        assert shop.add_to_cart(shopper, product).status_code == 200
        bodies.append(shop.checkout_body(shopper))
    for shopper, body in zip(shoppers, bodies, strict=True):
        headers = {**shopper.headers, "Idempotency-Key": uuid.uuid4().hex}
        first: list[httpx.Response] = []

        def attempt_checkout(h: dict[str, str] = headers, b: dict[str, Any] = body,
                             into: list[httpx.Response] = first) -> None:
            into.append(checkout_until_definitive(shop, h, b))

        attempt = threading.Thread(target=attempt_checkout)
        attempt.start()
        time.sleep(rng.uniform(0.0, 0.15))  # a random moment inside the saga (fault timing, not synchronization)
        killed.append(kill_one(router, rng, shopper.user["id"], variant_id))
        attempt.join()
        final = checkout_until_definitive(shop, headers, body)  # the same key again: same answer, no new charge
        outcomes.append(final.status_code)
        if first[0].status_code in (200, 201):
            assert final.json()["order"]["id"] == first[0].json()["order"]["id"]

    def settled() -> bool:
        unfinished = ray.get([h.unfinished.remote() for h in router.all("shoppers")], timeout=10)
        return not any(unfinished)

    wait_until(settled, 60)
    orders = [until_answered(lambda s=s: shop.http.get("/v1/orders", headers=s.headers)).json()["items"]
              for s in shoppers]
    assert all(len(o) <= 1 for o in orders), "a retried checkout made two orders"
    placed = sum(len(o) for o in orders)
    assert placed == min(stock, len(shoppers)), (placed, outcomes, killed)
    level = shop.stock(variant_id)
    assert (level["committed"], level["reserved"]) == (placed, 0), level
    assert level["on_hand"] == level["available"] + level["reserved"] + level["committed"]
    inventory = router.owner("inventory", variant_id)
    assert wait_until(lambda: [ray.get(inventory.violations.remote(), timeout=5)]) == [[]]  # once it answers
