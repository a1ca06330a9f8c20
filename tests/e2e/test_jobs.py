"""An operator's scheduled jobs: each run is a real Ray Job on the session's cluster, listed by the admin API.

The scheduler here runs a quick pipeline (replenishment, on an empty lake of its own) and a job whose module does
not exist; the lake exporter is off, so the session's streams are left to the tests that read them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from actors.system import SCHEDULER, spawn_scheduler, stop_scheduler
from config import Settings
from config.settings import JobScheduleSetting
from tests.shop import Shop, assert_error
from tests.support import restart_and_wait, wait_until

pytestmark = pytest.mark.ray
PATH = "/v1/admin/jobs"
JOB_SECONDS = 120  # a Ray Job starts a Python and joins the cluster: seconds on a busy 2-core machine


@pytest.fixture(scope="module")
def scheduled(shop: Shop, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    folder = tmp_path_factory.mktemp("scheduled")
    ours = settings.model_copy(update={
        "exporter": "off",
        # the job's own reading without joining the cluster (DuckDB): a Ray Job all the same, seconds quicker and
        # not at the mercy of a loaded GCS (a driver joining took minutes once when the machine was swamped)
        "schedules": {"replenishment": JobScheduleSetting(every_seconds=3600, args=["--reader", "duckdb"]),
                      "broken": JobScheduleSetting(every_seconds=3600, module="pipelines.no_such_pipeline"),
                      "held": JobScheduleSetting(every_seconds=3600, module="tests.hold_job",
                                                 args=[str(folder / "hold")])},
        "job_retries": 2, "job_backoff_seconds": 0.5, "job_backoff_max_seconds": 1.0, "scheduler_tick_seconds": 0.2,
        "lake_dir": str(folder / "lake"), "analytics_db": folder / "analytics" / "analytics.duckdb"})
    spawn_scheduler(ours)
    yield ours
    stop_scheduler(ours)


def runs(shop: Shop, **params: Any) -> list[dict[str, Any]]:
    r = shop.http.get(PATH, params=params, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    listed: list[dict[str, Any]] = r.json()["runs"]
    return listed


def finished(shop: Shop, job: str, count: int = 1) -> list[dict[str, Any]]:
    """The job's runs once `count` of them have ended and none is in flight."""
    def check() -> list[dict[str, Any]] | None:
        mine = runs(shop, job=job)
        done = [r for r in mine if r["status"] in ("succeeded", "failed", "retrying")]
        return mine if len(done) >= count and len(done) == len(mine) else None
    try:
        found: list[dict[str, Any]] = wait_until(check, timeout=JOB_SECONDS * count)
    except AssertionError:
        raise AssertionError(f"{job}: {count} run(s) not ended in time; runs: {runs(shop)}") from None
    return found


def test_without_a_scheduler_a_run_cannot_be_started(shop: Shop, settings: Settings) -> None:
    """First in this file: before the module's scheduler is spawned (the shop under test starts none itself)."""
    stop_scheduler(settings)
    with pytest.raises(ValueError):
        ray.get_actor(SCHEDULER, namespace=settings.ray_namespace)
    assert_error(shop.http.post(f"{PATH}/analytics/run", headers=shop.admin.headers), 503, "scheduler_unavailable")


def test_a_scheduled_pipeline_runs_as_a_ray_job_and_is_listed_with_its_rows(shop: Shop, scheduled: Settings) -> None:
    [run] = finished(shop, "replenishment")
    assert run["status"] == "succeeded", run["error"]
    assert (run["attempt"], run["trigger"], run["rows"], run["error"]) == (1, "schedule", 0, None)
    assert run["duration_s"] > 0 and run["started_at"] <= run["finished_at"]
    assert run["entrypoint"].endswith("-m pipelines.replenishment --reader duckdb")
    from ray.job_submission import JobSubmissionClient

    ray_job = JobSubmissionClient(ray.get_runtime_context().gcs_address).get_job_info(run["ray_job_id"])
    assert ray_job.status == "SUCCEEDED" and ray_job.metadata["bazaar_job"] == "replenishment"
    written = Path(scheduled.analytics_db).parent / "replenishment.json"
    assert written.exists()  # the job read the scheduler's settings: its lake and its output folder


def test_a_failing_job_is_retried_with_backoff_then_reported_failed(shop: Shop, scheduled: Settings) -> None:
    attempts = finished(shop, "broken", count=3)
    assert [(r["attempt"], r["trigger"], r["status"]) for r in attempts] == [
        (3, "retry", "failed"), (2, "retry", "retrying"), (1, "schedule", "retrying")]  # newest first
    assert all("No module named pipelines.no_such_pipeline" in r["error"] for r in attempts)
    assert len({r["ray_job_id"] for r in attempts}) == 3
    first, second = attempts[2], attempts[1]
    assert second["queued_at"] > first["finished_at"]  # the retry waited for its backoff, after the failure


def test_an_admin_triggers_a_run_but_never_beside_a_running_one(shop: Shop, scheduled: Settings) -> None:
    finished(shop, "replenishment")
    r = shop.http.post(f"{PATH}/replenishment/run", headers=shop.admin.headers)
    assert r.status_code == 202, r.text
    run = r.json()["run"]
    assert (run["job"], run["trigger"], run["attempt"], run["status"]) == ("replenishment", "manual", 1, "queued")
    assert_error(shop.http.post(f"{PATH}/replenishment/run", headers=shop.admin.headers), 409, "job_running")
    [latest, *_] = finished(shop, "replenishment", count=2)
    assert latest["run_id"] == run["run_id"] and latest["status"] == "succeeded"
    assert_error(shop.http.post(f"{PATH}/payroll/run", headers=shop.admin.headers), 404, "unknown_job")


def test_a_restarted_scheduler_adopts_the_run_in_flight_and_starts_no_second_one(shop: Shop,
                                                                                scheduled: Settings) -> None:
    """The run is held in flight (tests/hold_job.py) until the restarted scheduler was asked for a second one: a
    quick pipeline could end while the scheduler restarts, and then a second run is rightly allowed."""
    finished(shop, "held")
    hold = Path(scheduled.lake_dir).parent / "hold"
    hold.touch()
    try:
        r = shop.http.post(f"{PATH}/held/run", headers=shop.admin.headers)
        assert r.status_code == 202, r.text
        run_id = r.json()["run"]["run_id"]
        restart_and_wait(ray.get_actor(SCHEDULER, namespace=scheduled.ray_namespace))  # its process killed
        assert_error(shop.http.post(f"{PATH}/held/run", headers=shop.admin.headers), 409, "job_running")
    finally:
        hold.unlink()
    [latest, *_] = finished(shop, "held", count=2)
    assert latest["run_id"] == run_id and latest["status"] == "succeeded"


def test_only_an_admin_sees_or_starts_jobs(shop: Shop, scheduled: Settings) -> None:
    shopper = shop.register()
    assert_error(shop.http.get(PATH, headers=shopper.headers), 403, "admin_only")
    assert_error(shop.http.post(f"{PATH}/replenishment/run", headers=shopper.headers), 403, "admin_only")
    assert_error(shop.http.get(PATH), 401)
    assert_error(shop.http.get(PATH, params={"limit": 0}, headers=shop.admin.headers), 422)
    assert len(runs(shop, limit=1)) == 1
