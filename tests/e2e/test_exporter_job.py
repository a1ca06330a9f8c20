"""The lake exporter as a scheduled job: kept running as a Ray Job, exporting what arrives, restarted when it dies.

It follows streams of this module's own (not the session's), into a lake of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import redis
from ray.job_submission import JobSubmissionClient

from actors.system import spawn_scheduler, stop_scheduler
from config import Settings
from tests.shop import Shop
from tests.support import wait_until

pytestmark = pytest.mark.ray
JOB_SECONDS = 120


@pytest.fixture(scope="module")
def exporting(shop: Shop, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    folder = tmp_path_factory.mktemp("exporter-job")
    ours = settings.model_copy(update={
        "exporter": "continuous", "schedules": {}, "lake_dir": str(folder / "lake"), "lake_flush_seconds": 0.5,
        "events_stream": "bz:test-exporter-job:events", "analytics_stream": "bz:test-exporter-job:analytics",
        "job_backoff_seconds": 0.5, "job_backoff_max_seconds": 1.0, "scheduler_tick_seconds": 0.2})
    stop_scheduler(settings)  # the one scheduler of the namespace is this module's
    spawn_scheduler(ours)
    yield ours
    stop_scheduler(ours)


def exporter_runs(shop: Shop) -> list[dict[str, Any]]:
    r = shop.http.get("/v1/admin/jobs", params={"job": "exporter"}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    listed: list[dict[str, Any]] = r.json()["runs"]
    return listed


def test_the_exporter_job_runs_exports_and_is_restarted_after_it_dies(shop: Shop, exporting: Settings,
                                                                       redis_client: redis.Redis) -> None:
    first = wait_until(lambda: next((r for r in exporter_runs(shop) if r["status"] == "running"), None),
                       timeout=JOB_SECONDS)
    redis_client.xadd(exporting.events_stream, {"id": "evt_job1", "type": "product.viewed",
                                                "at": "2026-11-25T10:00:00.000Z", "data": '{"product_id":"prd_1"}'})
    partition = Path(exporting.lake_dir) / "events" / "type=product.viewed" / "date=2026-11-25"
    wait_until(lambda: list(partition.glob("part-*.parquet")), timeout=JOB_SECONDS)

    JobSubmissionClient(ray.get_runtime_context().gcs_address).stop_job(first["ray_job_id"])  # as a crash would

    def restarted() -> list[dict[str, Any]] | None:
        runs = exporter_runs(shop)
        return runs if len(runs) >= 2 and runs[0]["status"] == "running" else None
    latest, died = wait_until(restarted, timeout=JOB_SECONDS)[:2]
    assert died["run_id"] == first["run_id"] and died["status"] == "retrying" and died["error"]
    assert (latest["attempt"], latest["trigger"]) == (2, "retry")
    assert latest["queued_at"] >= died["finished_at"]
