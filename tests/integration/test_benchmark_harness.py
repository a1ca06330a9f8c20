"""The hot-SKU benchmark's own harness still runs against the shard's code as it is now: the in-process shard (no
Ray) once lost its way when the shard base class changed how it starts its timer, and only `make bench` noticed."""

from __future__ import annotations

import gc

from benchmarks.hot_sku import Mode
from benchmarks.hot_sku_shard import ShardBench
from config import Settings
from serve.local_redis import with_db


def test_the_in_process_shard_reserves_durably_and_never_oversells(settings: Settings) -> None:
    thresholds = gc.get_threshold()  # the shard settles this process's collector, as a shard does its own
    bench = ShardBench(settings.model_copy(update={"redis_url": with_db(settings.redis_url or "", 7)}), 10_000, 64, 2,
                       through_ray=False)
    try:
        mode = Mode("in-process")
        bench.reserve(mode, 640)
        assert mode.reservations == 640
        checked = bench.verify()
        assert checked["ok"], checked
        sale = bench.oversell(50, 150)
        assert (sale.acknowledged, sale.remaining, sale.agrees) == (50, 0, True)
    finally:
        bench.close()
        gc.set_threshold(*thresholds)
        gc.unfreeze()
