"""The search indexer on a real Ray and a real redis-server: the catalog's changes reach the index through the
event stream within the 2-second promise, stock running out moves a product out of in-stock results, a rating
lifts it over a rating floor, and an indexer that crashed with entries read but never committed catches up.
Orders move the popularity sort within `search_popularity_seconds`, a product rewritten once per period rather
than once per order, and stock that moves without running out rewrites nothing."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import ray
import redis

from actors import keys
from actors.routing import Router
from actors.search_indexer import CONSUMER, GROUP
from actors.store import Event
from config import Settings
from domain.catalog import CatalogUser
from domain.search import SearchRequest
from pipelines.search_index import rebuild_directly, rebuild_through
from search.index import SearchIndex
from tests.support import wait_until

pytestmark = pytest.mark.ray
ADMIN = CatalogUser("admin")
DEADLINE = 2.0  # seconds from a catalog reply to the change being searchable


@pytest.fixture(scope="module")
def catalog(platform: Settings) -> Any:
    return Router(platform).handle("catalog")


@pytest.fixture(scope="module")
def indexer(platform: Settings) -> Any:
    return Router(platform).handle("search_indexer")


@pytest.fixture(scope="module")
def reader(platform: Settings, indexer: Any) -> SearchIndex:
    """A searcher of our own on the index directory, as a Serve replica has one."""
    ray.get(indexer.ready.remote())
    return SearchIndex.open(platform.search_dir)


def found(reader: SearchIndex, **params: Any) -> dict[str, dict[str, Any]]:
    reader.reload()
    return {hit["product_id"]: hit for hit in reader.search(SearchRequest.from_params(**params))["hits"]}


def within_deadline(check: Any, deadline: float = DEADLINE) -> float:
    """Poll `check` until it holds; returns how long it took, failing the test past the deadline."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < deadline, f"not searchable within {deadline} s"
        time.sleep(0.02)
    return time.monotonic() - started


def list_product(catalog: Any, word: str, stock: int = 1, price: int = 4900) -> dict[str, Any]:
    category = ray.get(catalog.create_category.remote(f"Lamps {uuid.uuid4().hex[:8]}"))
    spec = {"name": f"Brass {word} Desk Lamp", "category_id": category["id"], "brand": f"Lumo{word}",
            "description": "A warm light for late reading", "tags": ["lamp"],
            "variants": [{"sku": f"LMP-{uuid.uuid4().hex[:8]}", "price": price, "currency": "USD",
                          "initial_stock": stock}]}
    return ray.get(catalog.create_product.remote(spec, None))


def unique_word() -> str:
    return "zq" + uuid.uuid4().hex[:8]


def test_a_new_lamp_is_searchable_and_leaves_in_stock_results_when_the_last_one_goes(
        platform: Settings, catalog: Any, reader: SearchIndex) -> None:
    word = unique_word()
    lamp = list_product(catalog, word, stock=1)
    within_deadline(lambda: lamp["id"] in found(reader, q=word))
    assert found(reader, q=word)[lamp["id"]]["in_stock"] is True

    variant_id = lamp["variants"][0]["id"]
    ray.get(Router(platform).owner("inventory", variant_id).adjust.remote(variant_id, -1, "display unit broken"))
    within_deadline(lambda: lamp["id"] not in found(reader, q=word, in_stock="true"))
    assert found(reader, q=word)[lamp["id"]]["in_stock"] is False, "still listed, as out of stock"


def test_a_rating_and_a_price_cut_reach_the_index(catalog: Any, reader: SearchIndex) -> None:
    word = unique_word()
    lamp = list_product(catalog, word, price=4900)
    within_deadline(lambda: lamp["id"] in found(reader, q=word))
    assert lamp["id"] not in found(reader, q=word, rating_min="4")

    ray.get(catalog.set_rating.remote(lamp["id"], 4.6, 12))
    within_deadline(lambda: lamp["id"] in found(reader, q=word, rating_min="4"))
    patch = {"variants": [{"id": lamp["variants"][0]["id"], "sale_price": 2900}]}
    ray.get(catalog.update_product.remote(lamp["id"], patch, ADMIN))
    within_deadline(lambda: lamp["id"] in found(reader, q=word, price_max="3000"))
    assert found(reader, q=word)[lamp["id"]]["sale_price"] == 2900


def test_a_lamp_taken_off_sale_leaves_the_index(catalog: Any, reader: SearchIndex) -> None:
    word = unique_word()
    lamp = list_product(catalog, word)
    within_deadline(lambda: lamp["id"] in found(reader, q=word))
    ray.get(catalog.update_product.remote(lamp["id"], {"status": "inactive"}, ADMIN))
    within_deadline(lambda: lamp["id"] not in found(reader, q=word))


def test_a_full_rebuild_indexes_every_active_product_once(platform: Settings, catalog: Any, indexer: Any,
                                                           reader: SearchIndex, redis_client: redis.Redis,
                                                           tmp_path: Path) -> None:
    word = unique_word()
    lamp = list_product(catalog, word)
    active = sum(json.loads(raw)["status"] == "active" for _, raw in redis_client.hscan_iter(keys.PRODUCTS))

    assert rebuild_through(indexer, progress=False) == active  # the running shop's indexer does it
    reader.reload()
    assert reader.num_docs() == active and lamp["id"] in found(reader, q=word)

    # with the shop down it runs here; another directory and stream keep the live indexer out of it
    offline = platform.model_copy(update={"search_dir": tmp_path / "search", "events_stream": "bz:test-offline"})
    assert rebuild_directly(offline, progress=False) == active
    assert lamp["id"] in found(SearchIndex.open(offline.search_dir), q=word)


def test_orders_lift_a_lamp_in_the_popularity_sort_with_one_rewrite_per_period_not_per_order(
        platform: Settings, catalog: Any, indexer: Any, reader: SearchIndex, redis_client: redis.Redis) -> None:
    word = unique_word()
    plain, favourite = list_product(catalog, word, stock=10), list_product(catalog, word, stock=10)
    within_deadline(lambda: len(found(reader, q=word)) == 2)
    wait_until(lambda: quiet(indexer, redis_client, platform))
    before = ray.get(indexer.stats.remote())

    variant_id = favourite["variants"][0]["id"]
    inventory = Router(platform).owner("inventory", variant_id)
    for _ in range(5):  # five orders of one lamp, each selling a unit of its stock
        order_created(redis_client, platform, variant_id)
        ray.get(inventory.adjust.remote(variant_id, -1, "sold"))
    new_word = unique_word()
    newcomer = list_product(catalog, new_word)  # listings do not wait for the popularity period
    within_deadline(lambda: newcomer["id"] in found(reader, q=new_word))
    within_deadline(lambda: ranked(reader, word) == [favourite["id"], plain["id"]],
                    deadline=platform.search_popularity_seconds + DEADLINE)

    wait_until(lambda: quiet(indexer, redis_client, platform))
    after = ray.get(indexer.stats.remote())
    change = {key: after[key] - before[key] for key in ("upserted", "stock_flips", "popularity_counts",
                                                        "popularity_upserted")}
    assert change["stock_flips"] == 0, change  # 10 units down to 5: still in stock, nothing to rewrite
    assert 1 <= change["popularity_upserted"] <= change["popularity_counts"], change  # once per count at most
    assert change["upserted"] == change["popularity_upserted"] + 1, change  # and the newcomer's listing
    assert change["upserted"] < 5, "not a rewrite per order"


def test_selling_the_last_unit_rewrites_the_lamp_once(platform: Settings, catalog: Any, indexer: Any,
                                                      reader: SearchIndex, redis_client: redis.Redis) -> None:
    word = unique_word()
    lamp = list_product(catalog, word, stock=2)
    within_deadline(lambda: lamp["id"] in found(reader, q=word, in_stock="true"))
    wait_until(lambda: quiet(indexer, redis_client, platform))
    before = ray.get(indexer.stats.remote())["stock_flips"]
    variant_id = lamp["variants"][0]["id"]
    inventory = Router(platform).owner("inventory", variant_id)
    ray.get(inventory.adjust.remote(variant_id, -1, "sold"))
    ray.get(inventory.adjust.remote(variant_id, -1, "sold"))
    within_deadline(lambda: lamp["id"] not in found(reader, q=word, in_stock="true"))
    wait_until(lambda: quiet(indexer, redis_client, platform))
    assert ray.get(indexer.stats.remote())["stock_flips"] == before + 1


def test_a_crashed_indexer_still_counts_the_orders_it_had_read_but_not_yet_counted(
        platform: Settings, catalog: Any, indexer: Any, reader: SearchIndex, redis_client: redis.Redis) -> None:
    word = unique_word()
    plain, favourite = list_product(catalog, word), list_product(catalog, word)
    within_deadline(lambda: len(found(reader, q=word)) == 2)
    order_created(redis_client, platform, favourite["variants"][0]["id"])
    wait_until(lambda: ray.get(indexer.stats.remote())["popularity_pending"] > 0)  # read, waiting for its period
    old_pid = ray.get(indexer.ready.remote())["pid"]
    ray.kill(indexer, no_restart=False)

    wait_until(lambda: ray.get(indexer.ready.remote(), timeout=5)["pid"] != old_pid, timeout=60)
    wait_until(lambda: ranked(reader, word) == [favourite["id"], plain["id"]], timeout=30)
    wait_until(lambda: pending(redis_client, platform) == 0, timeout=30)


def test_a_crashed_indexer_finishes_the_entries_it_had_read_but_not_committed(
        platform: Settings, catalog: Any, indexer: Any, reader: SearchIndex, redis_client: redis.Redis) -> None:
    old_pid = ray.get(indexer.ready.remote())["pid"]
    ray.kill(indexer, no_restart=False)
    word = unique_word()
    lamp = list_product(catalog, word)
    # what a crash mid-batch leaves behind: entries delivered to the indexer's consumer, never acknowledged
    redis_client.xreadgroup(GROUP, CONSUMER, {platform.events_stream: ">"}, count=10_000)

    wait_until(lambda: ray.get(indexer.ready.remote(), timeout=5)["pid"] != old_pid, timeout=60)
    wait_until(lambda: lamp["id"] in found(reader, q=word), timeout=30)
    wait_until(lambda: pending(redis_client, platform) == 0, timeout=30)
    stats = ray.get(indexer.stats.remote())
    assert stats["running"] and stats["failures"] == 0, stats


def pending(client: redis.Redis, platform: Settings) -> int:
    """Entries delivered to the indexer and not yet acknowledged (read, but not committed to the index)."""
    summary: dict[str, Any] = client.xpending(platform.events_stream, GROUP)  # type: ignore[assignment]
    return int(summary["pending"])


def ranked(reader: SearchIndex, word: str) -> list[str]:
    return list(found(reader, q=word, sort="popularity"))


def order_created(client: redis.Redis, platform: Settings, variant_id: str) -> None:
    """An `order.created` entry as the order's shard appends it (docs/events.md), for one unit of a variant."""
    event = Event("order.created", {
        "order_id": f"ord_{uuid.uuid4().hex}", "user_id": "usr_test", "status": "confirmed",
        "payment_status": "authorized", "order_number": "BZ-TEST", "total": 4900, "currency": "USD",
        "items": [{"variant_id": variant_id, "quantity": 1, "price": 4900, "seller_id": None}]})
    client.xadd(platform.events_stream, event.fields())  # type: ignore[arg-type]


def quiet(indexer: Any, client: redis.Redis, platform: Settings) -> bool:
    """The indexer has acknowledged everything it read and has no units ordered left to count."""
    return pending(client, platform) == 0 and ray.get(indexer.stats.remote())["popularity_pending"] == 0
