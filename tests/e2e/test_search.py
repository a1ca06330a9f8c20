"""Shoppers search the shop over HTTP: a new listing is found within two seconds, price and stock changes move it
between filters, facets and completions come with it, bad input is refused quickly in the error shape, and every
search is recorded on the analytics stream (never on the business event stream).

Each test lists products under words and brands of its own, so other tests' products never match."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis

from config import Settings
from tests.shop import Shop, assert_error

DEADLINE = 2.0  # seconds from the listing's reply to it being searchable


def unique(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:8]


def search(shop: Shop, **params: Any) -> dict[str, Any]:
    r = shop.http.get("/v1/search", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def ids(result: dict[str, Any]) -> list[str]:
    return [hit["product_id"] for hit in result["hits"]]


def eventually(shop: Shop, check: Any, deadline: float = DEADLINE, **params: Any) -> dict[str, Any]:
    """Search until `check(result)` holds; fails the test if that takes longer than the deadline."""
    started = time.monotonic()
    while True:
        result = search(shop, **params)
        if check(result):
            return result
        assert time.monotonic() - started < deadline, f"not reflected in search within {deadline} s: {params}"
        time.sleep(0.05)


def test_a_new_listing_is_found_by_its_name_within_two_seconds(shop: Shop) -> None:
    word, brand = unique("kettle"), unique("Brewster")
    kettle = shop.product(name=f"Copper {word} Kettle", brand=brand, price=3499, stock=5)
    result = eventually(shop, lambda r: kettle["id"] in ids(r), q=word)

    hit = result["hits"][0]
    assert (hit["product_id"], hit["name"], hit["brand"], hit["price"], hit["currency"], hit["in_stock"]) == (
        kettle["id"], f"Copper {word} Kettle", brand, 3499, "USD", True)
    assert result["total"] == 1 and result["took_ms"] >= 0
    assert {"value": brand, "count": 1} in result["facets"]["brands"]
    assert set(result["facets"]) == {"categories", "brands", "price_ranges", "ratings"}


def test_a_price_cut_moves_a_product_into_the_cheaper_range(shop: Shop) -> None:
    word = unique("blender")
    blender = shop.product(name=f"{word} Blender", price=8000)
    eventually(shop, lambda r: ids(r) == [blender["id"]], q=word, price_min=5000, price_max=10000)
    assert search(shop, q=word, price_max=5000)["total"] == 0

    variant_id = blender["variants"][0]["id"]
    r = shop.http.patch(f"/v1/products/{blender['id']}", headers=shop.admin.headers,
                        json={"variants": [{"id": variant_id, "sale_price": 4500}]})
    assert r.status_code == 200, r.text
    result = eventually(shop, lambda r: ids(r) == [blender["id"]], q=word, price_max=5000)
    assert result["hits"][0]["sale_price"] == 4500
    assert search(shop, q=word, price_min=5000)["total"] == 0


def test_a_sold_out_product_leaves_in_stock_results_but_stays_findable(shop: Shop) -> None:
    word = unique("teapot")
    teapot = shop.product(name=f"{word} Teapot", stock=1)
    eventually(shop, lambda r: ids(r) == [teapot["id"]], q=word, in_stock="true")

    variant_id = teapot["variants"][0]["id"]
    r = shop.http.post(f"/v1/inventory/{variant_id}/adjust", json={"delta": -1, "reason": "last one broken"},
                       headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    eventually(shop, lambda r: r["total"] == 0, q=word, in_stock="true")
    assert [hit["in_stock"] for hit in search(shop, q=word)["hits"]] == [False]


def test_a_brand_filter_keeps_the_other_brands_counted_in_the_facet(shop: Shop) -> None:
    word, first, second = unique("grinder"), unique("Mokka"), unique("Burrly")
    category = shop.category()
    listed = [shop.product(name=f"{word} Grinder {i}", brand=brand, category_id=category["id"])
              for i, brand in enumerate([first, first, second])]
    eventually(shop, lambda r: r["total"] == 3, q=word)

    result = search(shop, q=word, brand=first)
    assert sorted(ids(result)) == sorted(p["id"] for p in listed[:2])
    assert {(b["value"], b["count"]) for b in result["facets"]["brands"]} == {(first, 2), (second, 1)}
    assert {"value": category["id"], "count": 2} in result["facets"]["categories"]
    both = search(shop, q=word, brand=[first, second])
    assert both["total"] == 3


def test_pages_of_a_search_cover_every_match_once(shop: Shop) -> None:
    word = unique("mug")
    listed = {shop.product(name=f"{word} Mug", price=1000 + i)["id"] for i in range(5)}
    eventually(shop, lambda r: r["total"] == 5, q=word)
    pages = [search(shop, q=word, sort="price_asc", page=page, page_size=2) for page in (1, 2, 3)]
    seen = [pid for page in pages for pid in ids(page)]
    assert len(seen) == 5 and set(seen) == listed
    prices = [hit["price"] for page in pages for hit in page["hits"]]
    assert prices == sorted(prices)


def test_what_shoppers_buy_rises_in_the_popularity_sort(shop: Shop, settings: Settings) -> None:
    word = unique("candle")
    plain, favourite = (shop.product(name=f"{word} Candle {scent}", stock=5) for scent in ("Cedar", "Fig"))
    eventually(shop, lambda r: r["total"] == 2, q=word)
    buyer = shop.register()
    assert shop.add_to_cart(buyer, favourite, quantity=2).status_code == 200
    assert shop.checkout(buyer, shop.checkout_body(buyer)).status_code == 201
    # units ordered are counted into popularity at most every search_popularity_seconds
    eventually(shop, lambda r: ids(r) == [favourite["id"], plain["id"]],
               deadline=settings.search_popularity_seconds + DEADLINE, q=word, sort="popularity")


def test_the_search_box_completes_brands_and_names(shop: Shop) -> None:
    brand = unique("Zephyrix")
    product = shop.product(name=f"{brand} Travel Mug", brand=brand)
    eventually(shop, lambda r: product["id"] in ids(r), q=brand)
    r = shop.http.get("/v1/search/suggest", params={"q": brand[:-2].lower()})
    assert r.status_code == 200, r.text
    suggestions = r.json()["suggestions"]
    assert brand in suggestions and len(suggestions) <= 10
    assert shop.http.get("/v1/search/suggest", params={"q": ""}).json() == {"suggestions": []}


def test_bad_search_input_is_refused_quickly_in_the_error_shape(shop: Shop) -> None:
    refused = [
        ({"page_size": 101}, "page_size_too_large"),
        ({"price_min": 5000, "price_max": 100}, "invalid_price_range"),
        ({"sort": "cheapest_first"}, "unknown_sort"),
        ({"q": "laptop" * 1700}, "query_too_long"),
        ({"page_size": "twenty"}, "invalid_parameter"),
        ({"in_stock": "perhaps"}, "invalid_parameter"),
        ({"rating_min": "9"}, "invalid_parameter"),
    ]
    for params, code in refused:
        started = time.monotonic()
        assert_error(shop.http.get("/v1/search", params=params), 422, code)
        assert time.monotonic() - started < 1.0, params
    assert_error(shop.http.get("/v1/search/suggest", params={"q": "x" * 10_000}), 422)


def test_query_syntax_in_the_search_box_is_just_text(shop: Shop) -> None:
    for q in ['name:"unterminated', "AND OR NOT (((", "price:[0 TO *]", "*?~^2", "\\", '"', "-"]:
        assert search(shop, q=q)["page"] == 1


def test_every_search_is_recorded_on_the_analytics_stream_not_the_business_one(
        shop: Shop, settings: Settings, redis_client: redis.Redis) -> None:
    word = unique("nothingmatches")
    business_before = redis_client.xlen(settings.events_stream)
    last_business = redis_client.xrevrange(settings.events_stream, count=1)  # type: ignore[union-attr]
    result = search(shop, q=word, in_stock="true", sort="newest")
    assert result["total"] == 0
    for n in range(20):  # a small flood
        search(shop, q=f"{word} {n}")

    def recorded() -> list[dict[str, Any]]:
        return [json.loads(fields["data"]) for _, fields in
                redis_client.xrevrange(settings.analytics_stream, count=500)  # type: ignore[union-attr]
                if fields["type"] == "search.performed" and json.loads(fields["data"])["query"].startswith(word)]

    started = time.monotonic()
    while len(events := recorded()) < 21:
        assert time.monotonic() - started < DEADLINE, f"{len(events)} of 21 search.performed events"
        time.sleep(0.05)
    event = next(e for e in events if e["query"] == word)
    assert event["filters"] == {"in_stock": True} and event["sort"] == "newest"
    assert event["total"] == 0 and event["zero_result"] is True and event["took_ms"] >= 0

    since = last_business[0][0] if last_business else "-"
    added = redis_client.xrange(settings.events_stream, min=since)  # type: ignore[union-attr]
    assert [f["type"] for i, f in added if i != since and f["type"] == "search.performed"] == []
    assert redis_client.xlen(settings.events_stream) == business_before
