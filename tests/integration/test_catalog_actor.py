"""The catalog actor on a real local Ray and a real redis-server: listing creates stock first, every change is
in Redis with its event before the reply, a restarted actor serves the same catalog, the demo seed runs once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import ray
import redis

from actors import keys
from actors.routing import Router
from config import Settings
from domain.catalog import CatalogUser
from domain.errors import DomainError
from pipelines.seed import seed_demo_catalog
from pipelines.seed_data import DEPARTMENTS, DemoCatalog
from serve.errors import unwrap
from tests.support import restart_and_wait

pytestmark = pytest.mark.ray
ADMIN = CatalogUser("admin")


@pytest.fixture(scope="module")
def catalog(platform: Settings) -> Any:
    return Router(platform).handle("catalog")


@pytest.fixture(scope="module")
def client(redis_client: redis.Redis) -> redis.Redis:
    return redis_client


def category(catalog: Any, parent_id: str | None = None) -> dict[str, Any]:
    return ray.get(catalog.create_category.remote(f"Category {uuid.uuid4().hex[:8]}", parent_id))  # type: ignore[no-any-return]


def spec(category_id: str, variants: int = 2, **fields: Any) -> dict[str, Any]:
    return {"name": "Sonora Over-Ear Headphones", "category_id": category_id, "brand": fields.pop("brand", "Sonora"),
            "variants": [{"sku": f"SON-{uuid.uuid4().hex[:8]}", "attributes": {"color": f"c{i}"}, "price": 19900,
                          "currency": "USD", "initial_stock": 10 + i} for i in range(variants)], **fields}


def refusal(call: Any) -> DomainError:
    with pytest.raises(ray.exceptions.RayTaskError) as raised:
        ray.get(call)
    error = unwrap(raised.value)
    assert isinstance(error, DomainError)
    return error


def stock_on_hand(client: redis.Redis, platform: Settings, variant_id: str) -> int | None:
    raw = client.hget(keys.inventory_stock(Router(platform).shard("inventory", variant_id)), variant_id)
    return None if raw is None else int(json.loads(raw)["on_hand"])  # type: ignore[arg-type]


def events_for(client: redis.Redis, platform: Settings, product_id: str) -> list[str]:
    entries = client.xrevrange(platform.events_stream, count=5000)
    return [fields["type"] for _, fields in reversed(entries) if product_id in fields["data"]]  # type: ignore[union-attr]


def test_a_listed_product_has_its_stock_and_its_events_before_the_reply(platform: Settings, catalog: Any,
                                                                       client: redis.Redis) -> None:
    product = ray.get(catalog.create_product.remote(spec(category(catalog)["id"], variants=3), None))
    stored = json.loads(client.hget(keys.PRODUCTS, product["id"]))  # type: ignore[arg-type]
    assert stored == product
    for i, variant in enumerate(product["variants"]):
        assert client.hget(keys.VARIANTS, variant["id"]) == product["id"]
        assert stock_on_hand(client, platform, variant["id"]) == 10 + i
    assert events_for(client, platform, product["id"]) == ["product.created"]

    vid = product["variants"][0]["id"]
    patch = {"status": "inactive", "variants": [{"id": vid, "sale_price": 14900}]}
    ray.get(catalog.update_product.remote(product["id"], patch, ADMIN))
    assert events_for(client, platform, product["id"])[1:] == [
        "product.updated", "product.price_changed", "product.status_changed"]


def test_a_refused_listing_creates_no_stock_and_no_product(platform: Settings, catalog: Any,
                                                          client: redis.Redis) -> None:
    before = ray.get(catalog.stats.remote())["products"]
    bad = spec(category(catalog)["id"])
    bad["variants"][1]["sale_price"] = 99999
    assert refusal(catalog.create_product.remote(bad, None)).code == "sale_price_above_price"
    unknown = spec("cat_01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert refusal(catalog.create_product.remote(unknown, None)).code == "unknown_category"
    assert ray.get(catalog.stats.remote())["products"] == before


def test_another_seller_cannot_patch_and_the_owner_adds_a_variant_with_stock(platform: Settings, catalog: Any,
                                                                            client: redis.Redis) -> None:
    owner = CatalogUser("seller", "sel_01JAAAAAAAAAAAAAAAAAAAAAAA")
    product = ray.get(catalog.create_product.remote(spec(category(catalog)["id"], variants=1), owner.seller_id))
    other = CatalogUser("seller", "sel_01JBBBBBBBBBBBBBBBBBBBBBBB")
    assert refusal(catalog.update_product.remote(product["id"], {"name": "Mine"}, other)).code == "not_owner"
    new = {"sku": f"SON-{uuid.uuid4().hex[:8]}", "attributes": {"color": "Sand"}, "price": 20900,
           "currency": "USD", "initial_stock": 4}
    updated = ray.get(catalog.update_product.remote(product["id"], {"variants": [new]}, owner))
    added = updated["variants"][1]
    assert stock_on_hand(client, platform, added["id"]) == 4
    assert client.hget(keys.VARIANTS, added["id"]) == product["id"]
    stored = ray.get(catalog.get_products.remote([product["id"]]))[product["id"]]
    assert stored == updated and stored["seller_id"] == owner.seller_id


def test_the_catalog_actor_comes_back_after_a_crash_with_every_product(platform: Settings, catalog: Any) -> None:
    parent = category(catalog)
    child = category(catalog, parent["id"])
    product = ray.get(catalog.create_product.remote(spec(child["id"], brand="Crashproof"), None))
    before = ray.get(catalog.stats.remote())

    restart_and_wait(catalog)
    after = ray.get(catalog.stats.remote())

    assert {k: after[k] for k in ("products", "variants", "categories")} == \
           {k: before[k] for k in ("products", "variants", "categories")}
    assert ray.get(catalog.get_product.remote(product["id"])) == product
    listing = ray.get(catalog.list_products.remote(category=parent["id"], brand="crashproof"))
    assert [p["id"] for p in listing["items"]] == [product["id"]] and listing["total"] == 1
    tree = ray.get(catalog.category_tree.remote())
    assert any(n["id"] == parent["id"] and n["children"][0]["id"] == child["id"] for n in tree)


def test_the_demo_seed_runs_once_and_creates_stock_for_every_variant(platform: Settings, catalog: Any,
                                                                    client: redis.Redis) -> None:
    before = ray.get(catalog.stats.remote())["products"]
    assert seed_demo_catalog(platform, products=30, progress=False) == 30
    after_first = ray.get(catalog.stats.remote())
    assert after_first["products"] == before + 30 and after_first["seeded"] is not None
    assert seed_demo_catalog(platform, products=30, progress=False) == 0
    assert ray.get(catalog.stats.remote())["products"] == before + 30
    assert client.hget(keys.SYSTEM, "seeded") == after_first["seeded"]

    roots = {node["name"]: node for node in ray.get(catalog.category_tree.remote())}
    electronics = roots["Electronics"]
    assert {c["name"] for c in electronics["children"]} >= {"Laptops", "Phones", "Audio"}
    demo = DemoCatalog(platform.seed_random_seed, {d.category: "" for d in DEPARTMENTS}, platform.currency)
    expected = [p["id"] for p in demo.products(30)]
    stored = ray.get(catalog.get_products.remote(expected))
    assert list(stored) == expected
    variants = [v["id"] for p in stored.values() for v in p["variants"]]
    assert all(stock_on_hand(client, platform, v) is not None for v in variants)
    # a forced re-run with the same random seed makes the same ids, so it adds nothing twice
    assert seed_demo_catalog(platform, products=30, progress=False, force=True) == 0
    assert seed_demo_catalog(platform, products=35, progress=False, force=True) == 5
