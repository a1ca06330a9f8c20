"""Sellers and reviews through HTTP: a seller answers reviews of its own products once; shoppers rate the seller of
a delivered line once, and the seller's average shows on its listings."""

from __future__ import annotations

import pytest

from tests.reviews_world import approved_seller, delivered_order, product_page, published_review
from tests.shop import Shop, assert_error

pytestmark = pytest.mark.ray


def test_a_seller_answers_a_review_of_its_own_product_once(shop: Shop) -> None:
    seller, rival = approved_seller(shop, "Loom Works"), approved_seller(shop, "Rival Looms")
    loom = shop.product(owner=seller)
    shopper, review = published_review(shop, loom, rating=2, body="The shuttle jams.")
    answer = f"/v1/reviews/{review['id']}/answer"
    assert_error(shop.http.post(answer, json={"body": "Buy ours"}, headers=rival.headers), 403, "not_your_product")
    assert_error(shop.http.post(answer, json={"body": "Me too"}, headers=shopper.headers), 403, "not_your_product")
    assert_error(shop.http.post(answer, json={"body": ""}, headers=seller.headers), 422)

    r = shop.http.post(answer, json={"body": "Sorry! A new shuttle is on its way."}, headers=seller.headers)
    assert r.status_code == 200, r.text
    assert r.json()["review"]["answer"]["body"] == "Sorry! A new shuttle is on its way."
    assert_error(shop.http.post(answer, json={"body": "Again"}, headers=seller.headers), 409, "already_answered")
    shown = shop.http.get(f"/v1/products/{loom['id']}/reviews").json()["items"][0]
    assert shown["answer"]["seller_id"] == seller.user["seller_id"]


def test_a_shopper_rates_the_seller_of_a_delivered_line_once(shop: Shop) -> None:
    seller = approved_seller(shop, "Gear Garden")
    gears, spare = shop.product(owner=seller), shop.product(owner=seller)
    shopper = shop.register()
    order = delivered_order(shop, shopper, gears)
    line = f"/v1/orders/{order['id']}/lines/{gears['variants'][0]['id']}/seller-rating"
    assert product_page(shop, gears)["seller_rating"] == {"average": 0.0, "count": 0}

    r = shop.http.post(line, json={"rating": 4}, headers=shopper.headers)
    assert r.status_code == 201, r.text
    assert r.json()["seller_rating"] == {"seller_id": seller.user["seller_id"], "average": 4.0, "count": 1}
    assert_error(shop.http.post(line, json={"rating": 5}, headers=shopper.headers), 409, "already_rated")
    assert product_page(shop, spare)["seller_rating"] == {"average": 4.0, "count": 1}, "on every listing"
    listed = shop.http.get("/v1/products", params={"seller": seller.user["seller_id"]}).json()["items"]
    assert {p["seller_rating"]["count"] for p in listed} == {1}
    summary = shop.http.get(f"/v1/sellers/{seller.user['seller_id']}/rating").json()["seller_rating"]
    assert (summary["average"], summary["count"]) == (4.0, 1)

    other = shop.register()
    assert_error(shop.http.post(line, json={"rating": 1}, headers=other.headers), 404, "order_not_found")
    assert_error(shop.http.post(line, json={"rating": 9}, headers=shopper.headers), 422, "invalid_rating")
    pending = delivered_order(shop, other, spare, status="shipped")
    assert_error(shop.http.post(f"/v1/orders/{pending['id']}/lines/{spare['variants'][0]['id']}/seller-rating",
                                json={"rating": 3}, headers=other.headers), 409, "not_delivered")
    house = shop.product()
    own = delivered_order(shop, other, house)
    assert_error(shop.http.post(f"/v1/orders/{own['id']}/lines/{house['variants'][0]['id']}/seller-rating",
                                json={"rating": 3}, headers=other.headers), 409, "no_seller")
    assert product_page(shop, house)["seller_rating"] is None
