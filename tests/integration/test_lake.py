"""The event lake on the session's real redis-server: events written by the shop's own write paths (a shard's
transaction, the payment gateway's Lua script) reach the lake once, partitioned by type and date, readable by DuckDB
and pyarrow; an exporter stopped between its steps, or killed outright, neither loses nor duplicates an event; and
the stream is trimmed only past what the lake holds."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow.dataset as ds
import pytest
import redis
import redis.asyncio as aioredis
from pyarrow.fs import _MockFileSystem

from actors import keys
from actors.payments import SandboxGateway
from actors.store import Changes, Store
from config import Settings
from lake import streams
from lake.exporter import Exporter
from lake.layout import Lake
from lake.offsets import read_offsets

_names = itertools.count()


@pytest.fixture
def shop_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's settings with a stream and a lake of this test's own."""
    n = next(_names)
    return settings.model_copy(update={"events_stream": f"bz:test-lake-{n}", "lake_dir": str(tmp_path / "lake"),
                                       "lake_batch_max": 500})


def exporter(client: redis.Redis, settings: Settings, streams: list[str] | None = None) -> Exporter:
    """A freshly started exporter (as after a restart): it has recovered."""
    started = Exporter(client, Lake(settings.lake_dir), streams or [settings.events_stream], settings.lake_batch_max)
    started.recover()
    return started


# -- a small shop's events, through the real write paths ---------------------------------------------------
def a_day_of_trading(settings: Settings, orders: int, seed: int = 7) -> None:
    """Orders and their inventory, cart and checkout events, one shard transaction per checkout (as the shopper
    shard writes them), and a few catalog events."""
    rng = random.Random(seed)
    store = Store(settings.redis_url or "", settings.events_stream, settings.events_maxlen)

    async def write() -> None:
        catalog = Changes()
        catalog.emit("category.created", category_id="cat_1", name="Shoes", slug="shoes", parent_id=None)
        catalog.emit("product.created", product_id="prd_1", seller_id=None, category_id="cat_1", brand="Acme",
                     status="active", variant_ids=["var_1", "var_2"])
        await store.commit(catalog)
        for i in range(orders):
            changes = Changes()
            user, order, saga = f"usr_{rng.randrange(50)}", f"ord_{i}", f"chk_{i}"
            quantity = rng.randint(1, 3)
            changes.emit("checkout.started", saga_id=saga, user_id=user, order_id=order, total=quantity * 1299,
                         held_for_review=False)
            changes.emit("inventory.committed", shard=i % 3, reservation_id=f"{saga}-{i % 3}",
                         lines={"var_1": quantity})
            changes.emit("order.created", order_id=order, user_id=user, status="placed",
                         payment_status="authorized", order_number=f"BZ-{i}", total=quantity * 1299, currency="USD",
                         items=[{"variant_id": "var_1", "quantity": quantity, "price": 1299, "seller_id": None}])
            changes.emit("checkout.completed", saga_id=saga, user_id=user, order_id=order)
            await store.commit(changes)
        await store.redis.aclose()

    asyncio.run(write())


def a_card_payment(settings: Settings) -> None:
    """A payment authorized through the sandbox gateway, whose Lua script appends its event."""
    async def pay() -> None:
        client = aioredis.from_url(settings.redis_url or "", decode_responses=True)
        gateway = SandboxGateway(client, settings)
        token = await gateway.tokenize("usr_1", "4242424242424242", 12, 2099, "123")
        await gateway.authorize(token["token"], "usr_1", 2598, "USD", "pay-1", "ord_1")
        await client.aclose()

    asyncio.run(pay())


def stream_ids(client: redis.Redis, stream: str) -> list[str]:
    entries: Any = client.xrange(stream)
    return [entry_id for entry_id, _ in entries]


def event_ids(client: redis.Redis, stream: str) -> list[str]:
    entries: Any = client.xrange(stream)
    return [fields["id"] for _, fields in entries]


def lake_rows(settings: Settings, columns: str = "event_id, type, date, stream, stream_id") -> list[tuple[Any, ...]]:
    return duckdb.sql(f"select {columns} from read_parquet('{settings.lake_dir}/events/**/*.parquet', "
                      "hive_partitioning = true, union_by_name = true)").fetchall()


def lake_event_ids(settings: Settings) -> Counter[str]:
    return Counter(row[0] for row in lake_rows(settings, "event_id"))


# -- the stories -------------------------------------------------------------------------------------------------
def test_every_event_reaches_the_lake_once_by_type_and_date(shop_settings: Settings, redis_client: redis.Redis) -> None:
    a_day_of_trading(shop_settings, orders=300)
    a_card_payment(shop_settings)
    written = event_ids(redis_client, shop_settings.events_stream)
    entries: Any = redis_client.xrange(shop_settings.events_stream)

    exported = exporter(redis_client, shop_settings).run(once=True)

    assert exported.events == len(written) == 2 + 300 * 4 + 1
    assert lake_event_ids(shop_settings) == Counter(written)  # each once, none missing
    by_id = {fields["id"]: (entry_id, fields) for entry_id, fields in entries}
    for event_id, event_type, date, stream, stream_id in lake_rows(shop_settings):
        entry_id, fields = by_id[event_id]
        assert (event_type, str(date), stream, stream_id) == (
            fields["type"], fields["at"][:10], shop_settings.events_stream, entry_id)
    orders = ds.dataset(f"{shop_settings.lake_dir}/events/type=order.created", partitioning="hive").to_table()
    assert orders.num_rows == 300
    assert orders.column("items")[0].as_py() == [
        {"variant_id": "var_1", "quantity": orders.column("total")[0].as_py() // 1299, "price": 1299,
         "seller_id": None}]
    payment = lake_rows(shop_settings, "type, brand, last4, amount, extra")
    assert ("payment.authorized", "visa", "4242", 2598, None) in payment
    offsets = read_offsets(Lake(shop_settings.lake_dir), shop_settings.events_stream)
    assert (offsets.committed, offsets.events, offsets.writing) == (entries[-1][0], len(written), None)
    assert redis_client.xpending(shop_settings.events_stream, streams.GROUP)["pending"] == 0  # type: ignore[index]


def test_a_crash_after_writing_files_and_before_the_commit_loses_and_duplicates_nothing(
        shop_settings: Settings, redis_client: redis.Redis) -> None:
    a_day_of_trading(shop_settings, orders=200)
    first = exporter(redis_client, shop_settings)
    first.read()
    batch = first.write(shop_settings.events_stream)  # step 1 only, then the process dies
    assert batch.intent.writing is not None
    Path(batch.intent.writing.files[0]).write_bytes(b"PAR1 cut short")  # as a kill in the middle of a file
    a_day_of_trading(shop_settings, orders=50, seed=8)  # the shop goes on meanwhile
    written = event_ids(redis_client, shop_settings.events_stream)

    second = exporter(redis_client, shop_settings)  # restarted: the crashed batch's files are gone
    assert not any(Path(path).exists() for path in batch.intent.writing.files)
    second.run(once=True)

    assert len(written) == (2 + 200 * 4) + (2 + 50 * 4)
    assert lake_event_ids(shop_settings) == Counter(written)  # each once, none missing


def test_a_crash_after_the_commit_and_before_the_acknowledgement_loses_and_duplicates_nothing(
        shop_settings: Settings, redis_client: redis.Redis) -> None:
    a_day_of_trading(shop_settings, orders=200)
    written = event_ids(redis_client, shop_settings.events_stream)
    first = exporter(redis_client, shop_settings)
    first.read()
    first.commit(first.write(shop_settings.events_stream))  # steps 1 and 2, then the process dies
    assert redis_client.xpending(shop_settings.events_stream, streams.GROUP)["pending"] > 0  # type: ignore[index]

    exported = exporter(redis_client, shop_settings).run(once=True)

    assert exported.events == len(written) - shop_settings.lake_batch_max  # the committed batch is not read again
    assert lake_event_ids(shop_settings) == Counter(written)
    assert redis_client.xpending(shop_settings.events_stream, streams.GROUP)["pending"] == 0  # type: ignore[index]


def test_the_stream_is_trimmed_only_past_what_the_lake_holds(shop_settings: Settings,
                                                              redis_client: redis.Redis) -> None:
    a_day_of_trading(shop_settings, orders=400)
    stream = shop_settings.events_stream
    written = stream_ids(redis_client, stream)
    first = exporter(redis_client, shop_settings)
    first.read()
    first.flush(stream)  # one batch exported, acknowledged, trimmed
    committed = read_offsets(Lake(shop_settings.lake_dir), stream).committed
    assert committed == written[shop_settings.lake_batch_max - 1]
    kept = stream_ids(redis_client, stream)
    assert len(kept) < len(written) and kept == written[len(written) - len(kept):]  # the oldest entries went
    assert set(written[shop_settings.lake_batch_max:]) <= set(kept)  # none the lake does not hold

    first.run(once=True)
    assert redis_client.xlen(stream) == 0  # the lake holds everything, and no other group needs anything


def test_another_consumer_group_keeps_what_it_has_not_read(shop_settings: Settings,
                                                           redis_client: redis.Redis) -> None:
    stream = shop_settings.events_stream
    redis_client.xgroup_create(stream, "search-indexer", id="0", mkstream=True)
    a_day_of_trading(shop_settings, orders=300)
    written = stream_ids(redis_client, stream)
    redis_client.xreadgroup("search-indexer", "indexer", {stream: ">"}, count=500)  # read, not acknowledged
    read_later: Any = redis_client.xreadgroup("search-indexer", "indexer", {stream: ">"}, count=100)
    redis_client.xack(stream, "search-indexer", *(entry_id for entry_id, _ in read_later[0][1]))

    exporter(redis_client, shop_settings).run(once=True)

    assert lake_event_ids(shop_settings).total() == len(written)
    assert stream_ids(redis_client, stream)[0] <= written[0]  # its oldest pending entry is kept
    redis_client.xgroup_destroy(stream, "search-indexer")


def test_fields_and_types_the_contract_does_not_list_are_kept(shop_settings: Settings,
                                                              redis_client: redis.Redis) -> None:
    stream = shop_settings.events_stream
    at = "2026-11-25T22:16:19.182Z"
    redis_client.xadd(stream, {"id": "evt_1", "type": "cart.item_added", "at": at, "data": orjson.dumps(
        {"user_id": "usr_1", "product_id": "prd_1", "variant_id": "var_1", "quantity": 2, "source": "search"})})
    redis_client.xadd(stream, {"id": "evt_2", "type": "gift_card.issued", "at": at,
                               "data": '{"product_id":"prd_1","user_id":"usr_1"}'})
    redis_client.xadd(stream, {"id": "evt_3", "type": "cart.item_added", "at": at,
                               "data": '{"user_id":"usr_1","quantity":"two"}'})

    exporter(redis_client, shop_settings).run(once=True)

    rows = {row[0]: row[1:] for row in lake_rows(shop_settings, "event_id, type, quantity, extra")}
    assert rows["evt_1"] == ("cart.item_added", 2, '{"source":"search"}')
    assert rows["evt_2"] == ("gift_card.issued", None, '{"product_id":"prd_1","user_id":"usr_1"}')
    assert rows["evt_3"] == ("cart.item_added", None, '{"quantity":"two"}')


def test_every_stream_is_exported_into_files_of_its_own(shop_settings: Settings, redis_client: redis.Redis) -> None:
    analytics = f"{shop_settings.events_stream}-analytics"
    a_day_of_trading(shop_settings, orders=20)
    for i in range(30):
        redis_client.xadd(analytics, {"id": f"evt_v{i}", "type": "product.viewed", "at": "2026-11-25T10:00:00.000Z",
                                      "data": orjson.dumps({"product_id": f"prd_{i}"})})
    last_view = stream_ids(redis_client, analytics)[-1]

    exported = exporter(redis_client, shop_settings, [shop_settings.events_stream, analytics]).run(once=True)

    assert exported.per_stream == {shop_settings.events_stream: 2 + 20 * 4, analytics: 30}
    views = Path(shop_settings.lake_dir, "events", "type=product.viewed", "date=2026-11-25")
    assert [path.name.split("-1")[0] for path in views.iterdir()] == [f"part-{analytics.replace(':', '_')}"]
    assert read_offsets(Lake(shop_settings.lake_dir), analytics).committed == last_view


def test_a_lake_on_an_object_store_gets_every_event_once_across_a_crash(shop_settings: Settings,
                                                                         redis_client: redis.Redis) -> None:
    """An in-memory pyarrow filesystem stands in for S3: no fsync, no rename, files appear whole when closed."""
    store = Lake("bucket/lake", filesystem=_MockFileSystem())
    assert not store.local
    a_day_of_trading(shop_settings, orders=200)
    written = event_ids(redis_client, shop_settings.events_stream)
    first = Exporter(redis_client, store, [shop_settings.events_stream], shop_settings.lake_batch_max)
    first.recover()
    first.read()
    first.write(shop_settings.events_stream)  # then the process dies

    second = Exporter(redis_client, store, [shop_settings.events_stream], shop_settings.lake_batch_max)
    second.recover()
    second.run(once=True)

    table = ds.dataset("bucket/lake/events", filesystem=store.fs, format="parquet", partitioning="hive").to_table(
        columns=["event_id"])
    assert Counter(table.column("event_id").to_pylist()) == Counter(written)


def test_a_second_exporter_waits_for_the_lease(redis_client: redis.Redis) -> None:
    running = streams.Lease(redis_client, seconds=30)
    running.acquire()
    try:
        with pytest.raises(streams.LeaseLost):
            streams.Lease(redis_client).acquire(wait_seconds=0)
    finally:
        running.release()
    assert redis_client.get(keys.LAKE_EXPORTER) is None


def test_a_killed_exporter_process_loses_and_duplicates_nothing(shop_settings: Settings,
                                                                redis_client: redis.Redis) -> None:
    """The CLI following the stream while the shop writes, killed (SIGKILL) three times at seeded moments, then
    run once to the end."""
    rng = random.Random(11)
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2]),
                   "BAZAAR_REDIS_URL": shop_settings.redis_url or "", "BAZAAR_DATA_DIR": str(shop_settings.data_dir),
                   "BAZAAR_EVENTS_STREAM": shop_settings.events_stream, "BAZAAR_LAKE_DIR": shop_settings.lake_dir,
                   "BAZAAR_ANALYTICS_STREAM": f"{shop_settings.events_stream}-analytics",
                   "BAZAAR_LAKE_BATCH_MAX": "300", "BAZAAR_LAKE_FLUSH_SECONDS": "0.05",
                   "BAZAAR_JWT_SECRET": "test-secret-not-for-production-0123456789"}
    command = [sys.executable, "-m", "lake.exporter", "--quiet"]
    for round in range(3):
        follower = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        a_day_of_trading(shop_settings, orders=150, seed=round)
        time.sleep(rng.uniform(0.5, 2.0))  # the kill lands wherever the exporter happens to be
        follower.send_signal(signal.SIGKILL)
        follower.wait()
        redis_client.delete(keys.LAKE_EXPORTER)  # the killed exporter's lease runs out
    finished = subprocess.run([*command, "--once"], env=environment, capture_output=True, text=True, timeout=120)

    assert finished.returncode == 0, finished.stderr
    assert "events/s" in finished.stdout
    lake = lake_event_ids(shop_settings)
    assert lake.total() == 3 * (2 + 150 * 4) and max(lake.values()) == 1
