"""A seller's life as an admin sees it: an application with a payout account that the shop never keeps in clear,
a rejection with a reason, and a suspension that takes the seller's listings out of the shop (browse, product
page, search, checkout) until it is reinstated."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
import ray
import redis

from actors.routing import Router
from config import Settings
from serve.local_redis import LocalRedis
from tests.shop import Account, Shop, assert_error
from tests.support import redis_values, wait_until

pytestmark = pytest.mark.ray

ROUTING_NUMBER = "011000015"  # a valid ABA routing number (the Federal Reserve Bank of Boston)
SEARCH_DEADLINE = 10.0


def make_iban(rng: random.Random, country: str = "DE") -> str:
    """A valid IBAN with random account digits: a canary no other test writes."""
    bban = "".join(rng.choice("0123456789") for _ in range(18))
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def application(**payout: str) -> dict[str, Any]:
    return {"store_name": "Babbage & Daughters", "description": "Difference engines, restored",
            "legal_name": "Babbage and Daughters Ltd", "payout": {"account_holder": "Ada Babbage", **payout},
            "address": {"street": "1 Dorset St", "city": "London", "zip_code": "W1U 4EG", "country": "GB"}}


def test_payout_details_are_kept_as_a_token_and_never_in_clear(shop: Shop, redis_client: redis.Redis,
                                                                 redis_server: LocalRedis) -> None:
    rng = random.Random(12)
    iban = make_iban(rng)
    account_number = "".join(rng.choice("0123456789") for _ in range(12))
    canaries = [iban, account_number]

    europe, america = shop.register(), shop.register()
    r = shop.http.post("/v1/sellers", json=application(iban=" ".join(iban[i:i + 4] for i in range(0, 22, 4))),
                       headers=europe.headers)
    assert r.status_code == 201, r.text
    seller = r.json()["seller"]
    assert seller["payout"] == {"kind": "iban", "last4": iban[-4:], "country": "DE", "holder_name": "Ada Babbage"}
    assert seller["legal_name"] == "Babbage and Daughters Ltd" and seller["address"]["country"] == "GB"
    r = shop.http.post("/v1/sellers", json=application(account_number=account_number, routing_number=ROUTING_NUMBER),
                       headers=america.headers)
    assert r.status_code == 201, r.text
    assert r.json()["seller"]["payout"]["last4"] == account_number[-4:]
    mine = shop.http.get("/v1/seller/me", headers=europe.headers)
    assert mine.status_code == 200 and mine.json()["seller"] == seller
    listed = shop.http.get("/v1/admin/sellers", params={"status": "pending"}, headers=shop.admin.headers)
    assert seller["id"] in [s["id"] for s in listed.json()["items"]]

    wrong = shop.http.post("/v1/sellers", json=application(iban=iban[:-1] + str((int(iban[-1]) + 1) % 10)),
                           headers=shop.register().headers)
    assert_error(wrong, 422, "invalid_payout_details")
    responses = [r.text, mine.text, listed.text, wrong.text]
    assert not [c for c in canaries for text in responses if c in text or c[:-1] in text]

    stored = redis_client.hget("bz:sellers", seller["id"])
    assert stored is not None and json.loads(stored)["payout"]["token"].startswith("pot_")
    for key in redis_client.scan_iter(count=1000):  # every key, the event stream included
        text = (key + "\n" + "\n".join(redis_values(redis_client, key))).replace(" ", "")
        assert not [c for c in canaries if c in text], f"a payout account number is stored under {key}"
    on_disk = b"".join(p.read_bytes() for p in redis_server.data_dir.rglob("*.aof") if p.is_file())
    assert seller["id"].encode() in on_disk  # the scan reads what this test wrote
    assert not [c for c in canaries if c.encode() in on_disk]
    logs = [p for p in Path(ray._private.worker._global_node.get_logs_dir_path()).rglob("*") if p.is_file()]
    assert any("serve" in p.name for p in logs)  # the API replicas' logs are among them
    for path in logs:
        assert not [c for c in canaries if c.encode() in path.read_bytes()], f"a payout account number in {path}"


def test_a_rejected_application_keeps_its_reason_and_cannot_be_approved(shop: Shop, redis_client: redis.Redis
                                                                        ) -> None:
    applicant = shop.register()
    seller_id = shop.http.post("/v1/sellers", json={"store_name": "Knock-offs"},
                               headers=applicant.headers).json()["seller"]["id"]
    reject = f"/v1/admin/sellers/{seller_id}/reject"
    assert_error(shop.http.post(reject, json={"reason": "x"}, headers=applicant.headers), 403, "admin_only")
    assert_error(shop.http.post(reject, json={"reason": "  "}, headers=shop.admin.headers), 422)
    r = shop.http.post(reject, json={"reason": "Counterfeit goods"}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["seller"]["status"], r.json()["seller"]["reason"]) == ("rejected", "Counterfeit goods")
    again = shop.http.post(reject, json={"reason": "Still counterfeit"}, headers=shop.admin.headers)
    assert again.status_code == 200 and again.json()["seller"]["reason"] == "Counterfeit goods"
    assert_error(shop.http.post(f"/v1/admin/sellers/{seller_id}/approve", headers=shop.admin.headers), 409,
                 "invalid_seller_transition")
    assert_error(shop.http.post(f"/v1/admin/sellers/{seller_id}/suspend", json={"reason": "x"},
                                headers=shop.admin.headers), 409, "invalid_seller_transition")
    rejected = shop.http.get("/v1/admin/sellers", params={"status": "rejected"}, headers=shop.admin.headers)
    assert seller_id in [s["id"] for s in rejected.json()["items"]]
    me = shop.http.get("/v1/sellers/me", headers=applicant.headers).json()["seller"]
    assert (me["status"], me["reason"]) == ("rejected", "Counterfeit goods")
    events = [json.loads(fields["data"]) for _, fields in redis_client.xrevrange("bz:events", count=2000)
              if fields["type"] == "seller.rejected"]
    assert [e for e in events if e["seller_id"] == seller_id] == [
        {"seller_id": seller_id, "reason": "Counterfeit goods", "user_id": applicant.user["id"]}]


# -- suspension --------------------------------------------------------------------------------------------
def visible(shop: Shop, product: dict[str, Any], account: Account | None = None) -> bool:
    headers = account.headers if account else None
    page = shop.http.get(f"/v1/products/{product['id']}", headers=headers)
    assert page.status_code in (200, 404), page.text
    listing = shop.http.get("/v1/products", params={"seller": product["seller_id"]}, headers=headers).json()
    assert (page.status_code == 200) == (product["id"] in [p["id"] for p in listing["items"]]), listing
    return page.status_code == 200


def found_in_search(shop: Shop, word: str, product_id: str, expected: bool) -> None:
    started = time.monotonic()
    while True:
        r = shop.http.get("/v1/search", params={"q": word})
        assert r.status_code == 200, r.text
        if (product_id in [hit["product_id"] for hit in r.json()["hits"]]) == expected:
            return
        assert time.monotonic() - started < SEARCH_DEADLINE, f"search did not {'' if expected else 'un'}list it"
        time.sleep(0.1)


def test_a_suspended_sellers_listings_leave_the_shop_until_it_is_reinstated(shop: Shop) -> None:
    seller, shopper = shop.approved_seller(), shop.register()
    word = f"orrery{random.Random(3).randrange(10**8)}"
    product = shop.product(stock=5, owner=seller, name=f"Brass {word}")
    assert visible(shop, product)
    found_in_search(shop, word, product["id"], True)
    assert shop.add_to_cart(shopper, product).status_code == 200
    suspend = f"/v1/admin/sellers/{seller.user['seller_id']}/suspend"

    assert_error(shop.http.post(suspend, json={"reason": "x"}, headers=seller.headers), 403, "admin_only")
    r = shop.http.post(suspend, json={"reason": "Late shipments"}, headers=shop.admin.headers)
    assert r.status_code == 200 and r.json()["seller"]["status"] == "suspended", r.text
    assert not visible(shop, product) and not visible(shop, product, shopper)
    assert visible(shop, product, seller) and visible(shop, product, shop.admin)  # the owner and admins still see it
    found_in_search(shop, word, product["id"], False)
    assert_error(shop.checkout(shopper, shop.checkout_body(shopper)), 409, "out_of_stock")
    assert_error(shop.add_to_cart(shopper, product), 404, "product_not_found")
    listing = {"name": "Another orrery", "category_id": product["category_id"],
               "variants": [{"sku": "ORR-2", "price": 100, "currency": "USD"}]}
    assert_error(shop.http.post("/v1/products", json=listing, headers=seller.headers), 403, "seller_suspended")
    assert shop.stock(product["variants"][0]["id"])["available"] == 5  # nothing was sold

    reinstate = f"/v1/admin/sellers/{seller.user['seller_id']}/reinstate"
    r = shop.http.post(reinstate, headers=shop.admin.headers)
    assert r.status_code == 200 and r.json()["seller"]["status"] == "approved", r.text
    assert visible(shop, product)
    found_in_search(shop, word, product["id"], True)
    assert shop.checkout(shopper, shop.checkout_body(shopper)).status_code == 201
    again = shop.http.post(reinstate, headers=shop.admin.headers)  # reinstating twice changes nothing
    assert again.status_code == 200 and again.json()["seller"] == r.json()["seller"]


def test_the_catalog_makes_good_a_suspension_it_was_never_told_of(shop: Shop, settings: Settings) -> None:
    """The admin's call suspends the seller on its user shard, then tells the catalog; were the second step lost
    (a crash between the two), the catalog's own tick finds the suspension in Redis and hides the listings."""
    seller = shop.approved_seller()
    product = shop.product(stock=2, owner=seller)
    users = Router(settings).owner("users", seller.user["id"])
    ray.get(users.suspend_seller.remote(seller.user["id"], seller.user["seller_id"], "Chargebacks"))  # step one only
    wait_until(lambda: shop.http.get(f"/v1/products/{product['id']}").status_code == 404,
               timeout=settings.seller_standing_sync_seconds * 6)
    ray.get(users.reinstate_seller.remote(seller.user["id"], seller.user["seller_id"]))
    wait_until(lambda: shop.http.get(f"/v1/products/{product['id']}").status_code == 200,
               timeout=settings.seller_standing_sync_seconds * 6)
