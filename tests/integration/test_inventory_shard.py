"""The inventory shard on a real local Ray and a real redis-server (AOF, fsync always).

Crash and restart tests use shard indices the platform's routing never assigns (90+), so they can kill
their actor without disturbing the shared session.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import ray
import redis

from actors import keys
from actors.inventory import InventoryShard
from actors.routing import Router
from config import Settings
from domain.errors import Conflict, DomainError
from domain.ids import new_id
from tests.support import restart_and_wait, wait_until

pytestmark = pytest.mark.ray


def standalone_shard(settings: Settings, shard: int) -> Any:
    return ray.remote(InventoryShard).options(max_restarts=-1, num_cpus=0, max_concurrency=1000).remote(settings, shard)


def test_every_variant_is_owned_by_exactly_one_shard(platform: Settings, redis_client: redis.Redis) -> None:
    router = Router(platform)
    variants = [new_id("var") for _ in range(30)]
    groups = router.group("inventory", variants)
    assert len(groups) == platform.inventory_shards  # 30 keys spread over every shard
    for shard, owned in groups.items():
        ray.get(router.handle("inventory", shard).create_stock.remote(
            [{"variant_id": v, "on_hand": 5} for v in owned]))
    for variant_id in variants:
        holders = [s for s in range(platform.inventory_shards)
                   if redis_client.hexists(keys.inventory_stock(s), variant_id)]
        assert holders == [router.shard("inventory", variant_id)]


def test_a_crashed_shard_comes_back_with_every_acknowledged_reservation(platform: Settings) -> None:
    shard = standalone_shard(platform, 90)
    ray.get(shard.create_stock.remote([{"variant_id": "var-crash", "on_hand": 10}]))
    acknowledged = ray.get([shard.reserve.remote(f"rsv-{i}", {"var-crash": 1}) for i in range(6)])
    assert len(acknowledged) == 6

    restart_and_wait(shard)
    levels = ray.get(shard.levels.remote(["var-crash"]))
    assert levels["var-crash"]["reserved"] == 6 and levels["var-crash"]["available"] == 4
    assert ray.get(shard.reservation.remote("rsv-3"))["status"] == "held"
    assert ray.get(shard.violations.remote()) == []


def test_a_full_stop_and_start_reloads_the_same_ledger(platform: Settings) -> None:
    shard = standalone_shard(platform, 91)
    ray.get(shard.create_stock.remote([{"variant_id": "var-a", "on_hand": 8}, {"variant_id": "var-b", "on_hand": 3}]))
    ray.get(shard.reserve.remote("r1", {"var-a": 2, "var-b": 1}))
    ray.get(shard.reserve.remote("r2", {"var-a": 1}))
    ray.get(shard.commit.remote("r2"))
    before = ray.get(shard.levels.remote(["var-a", "var-b"]))

    ray.kill(shard, no_restart=True)
    again = standalone_shard(platform, 91)
    assert ray.get(again.levels.remote(["var-a", "var-b"])) == before
    assert ray.get(again.violations.remote()) == []


def test_the_shard_releases_expired_reservations_by_itself(platform: Settings, redis_client: redis.Redis) -> None:
    shard = standalone_shard(platform, 92)
    ray.get(shard.create_stock.remote([{"variant_id": "var-ttl", "on_hand": 4}]))
    ray.get(shard.reserve.remote("short-lived", {"var-ttl": 3}, 0.5))
    assert ray.get(shard.levels.remote(["var-ttl"]))["var-ttl"]["available"] == 1
    wait_until(lambda: ray.get(shard.levels.remote(["var-ttl"]))["var-ttl"]["available"] == 4)
    assert ray.get(shard.reservation.remote("short-lived"))["status"] == "expired"
    assert '"reserved":0' in redis_client.hget(keys.inventory_stock(92), "var-ttl")


def test_concurrent_reservations_on_one_hot_sku_never_oversell(platform: Settings) -> None:
    shard = standalone_shard(platform, 93)
    ray.get(shard.create_stock.remote([{"variant_id": "var-hot", "on_hand": 50}]))

    async def storm() -> list[Any]:
        calls = [shard.reserve.remote(f"buyer-{i}", {"var-hot": 1}) for i in range(200)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(storm())
    won = [r for r in results if isinstance(r, dict)]
    assert len(won) == 50
    assert all("out_of_stock" in str(r) for r in results if not isinstance(r, dict))
    level = ray.get(shard.levels.remote(["var-hot"]))["var-hot"]
    assert (level["available"], level["reserved"]) == (0, 50)
    assert ray.get(shard.violations.remote()) == []


def test_reserve_many_answers_each_request_on_its_own(platform: Settings) -> None:
    shard = standalone_shard(platform, 94)
    ray.get(shard.create_stock.remote([{"variant_id": "var-m", "on_hand": 3}]))
    results = ray.get(shard.reserve_many.remote([(f"m{i}", {"var-m": 1}) for i in range(5)]))
    assert [not isinstance(r, DomainError) for r in results] == [True, True, True, False, False]
    assert isinstance(results[3], Conflict) and results[3].code == "out_of_stock"


def test_each_reservation_of_a_batch_has_its_record_and_its_own_event(platform: Settings,
                                                                       redis_client: redis.Redis) -> None:
    shard = standalone_shard(platform, 95)
    ray.get(shard.create_stock.remote([{"variant_id": "var-ev", "on_hand": 5}]))
    results = ray.get(shard.reserve_many.remote([(f"ev{i}", {"var-ev": 1}) for i in range(7)]))
    won = sorted(r.id for r in results if not isinstance(r, DomainError))
    assert won == [f"ev{i}" for i in range(5)]
    records = [json.loads(raw) for raw in redis_client.hmget(keys.inventory_reservations(95), won)]
    assert [(r["id"], r["status"], r["lines"]) for r in records] == [(i, "held", {"var-ev": 1}) for i in won]
    assert json.loads(redis_client.hget(keys.inventory_stock(95), "var-ev"))["reserved"] == 5
    entries = [fields for _, fields in redis_client.xrevrange(platform.events_stream, count=50)
               if fields["type"] == "inventory.reserved" and json.loads(fields["data"])["shard"] == 95]
    assert all(set(fields) == {"id", "type", "at", "data"} for fields in entries)
    assert sorted(json.loads(fields["data"])["reservation_id"] for fields in entries) == won
