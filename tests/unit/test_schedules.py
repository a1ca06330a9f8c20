"""The scheduler's timetable: when each job runs, how failures back off, and that one job never overlaps itself."""

from __future__ import annotations

import pytest

from config import Settings
from domain.errors import Conflict, NotFound
from domain.schedules import Backoff, JobRun, JobSchedule, Timetable, job_schedules

HOUR = 3600.0
BACKOFF = Backoff(base_seconds=10, max_seconds=60, retries=3)
ANALYTICS = JobSchedule("analytics", "pipelines.analytics", every_seconds=HOUR)
EXPORTER = JobSchedule("exporter", "lake.exporter")


def timetable(*schedules: JobSchedule, now: float = 0.0) -> Timetable:
    return Timetable(list(schedules or (ANALYTICS, EXPORTER)), BACKOFF, now)


def test_every_job_is_due_at_first_start_and_a_periodic_one_again_a_period_after_it_started() -> None:
    table = timetable()
    assert table.due(0) == ["analytics", "exporter"]
    assert table.started("analytics", "r1", 0) == (1, "schedule")
    assert table.due(1) == ["exporter"]
    outcome = table.finished("analytics", succeeded=True, now=120)
    assert (outcome.status, outcome.next_due_at) == ("succeeded", HOUR)  # from the start, not the end
    assert "analytics" not in table.due(HOUR - 1) and "analytics" in table.due(HOUR)


def test_a_run_longer_than_its_period_is_followed_at_once_never_overlapped() -> None:
    table = timetable(ANALYTICS)
    table.started("analytics", "r1", 0)
    assert table.due(2 * HOUR) == []  # still running: no second run beside it
    assert table.finished("analytics", True, 2 * HOUR + 5).next_due_at == 2 * HOUR + 5


def test_the_backoff_doubles_from_its_base_up_to_its_cap() -> None:
    assert [BACKOFF.delay(n) for n in (1, 2, 3, 4, 5, 10)] == [10, 20, 40, 60, 60, 60]


def test_a_failed_run_is_retried_with_backoff_then_reported_failed_until_its_next_slot() -> None:
    table = timetable(ANALYTICS)
    now = 0.0
    statuses = []
    for attempt in (1, 2, 3, 4):
        assert table.started("analytics", f"r{attempt}", now) == (attempt, "schedule" if attempt == 1 else "retry")
        outcome = table.finished("analytics", False, now + 1)
        statuses.append((outcome.status, outcome.next_due_at - (now + 1)))
        now = outcome.next_due_at
    assert statuses[:3] == [("retrying", 10), ("retrying", 20), ("retrying", 40)]
    assert statuses[3][0] == "failed" and now == HOUR  # the next regular slot, from attempt 1's start
    assert table.started("analytics", "r5", now) == (1, "schedule")  # a new run begins again at attempt 1


def test_a_retry_that_succeeds_keeps_the_runs_regular_slot() -> None:
    table = timetable(ANALYTICS)
    table.started("analytics", "r1", 100)
    retry_at = table.finished("analytics", False, 110).next_due_at
    table.started("analytics", "r2", retry_at)
    assert table.finished("analytics", True, retry_at + 5).next_due_at == 100 + HOUR


def test_the_exporter_is_restarted_whenever_it_ends_and_never_given_up() -> None:
    table = timetable(EXPORTER)
    now = 0.0
    for attempt in range(1, 8):
        table.started("exporter", f"r{attempt}", now)
        outcome = table.finished("exporter", False, now)
        assert outcome.status == "retrying" and outcome.next_due_at - now == BACKOFF.delay(attempt)
        now = outcome.next_due_at
    table.started("exporter", "r8", now)
    assert table.finished("exporter", True, now).next_due_at == now + BACKOFF.base_seconds


def test_a_triggered_run_starts_now_but_never_beside_a_running_one() -> None:
    table = timetable(ANALYTICS)
    table.started("analytics", "r1", 0)
    with pytest.raises(Conflict) as refused:
        table.trigger("analytics", 5)
    assert refused.value.code == "job_running" and refused.value.details == {"run_id": "r1"}
    with pytest.raises(Conflict):
        table.started("analytics", "r2", 5)
    table.finished("analytics", True, 10)
    table.trigger("analytics", 20)
    assert table.due(20) == ["analytics"] and table.started("analytics", "r3", 20) == (1, "manual")


def test_a_refused_submission_is_no_attempt_and_the_job_stays_due() -> None:
    table = timetable(ANALYTICS)
    table.started("analytics", "r1", 0)
    table.not_started("analytics")
    assert table.due(1) == ["analytics"] and table.started("analytics", "r2", 1) == (1, "schedule")


def test_an_unknown_job_cannot_be_triggered() -> None:
    with pytest.raises(NotFound) as missing:
        timetable().trigger("payroll", 0)
    assert missing.value.code == "unknown_job" and missing.value.details == {"jobs": ["analytics", "exporter"]}


def test_after_a_restart_a_job_keeps_its_slot_and_its_run_in_flight() -> None:
    table = timetable(now=5000)
    table.restore("analytics", last_started_at=4000, running=None)
    table.restore("exporter", last_started_at=4500, running="r9")
    assert table.due(5000) == [] and table.due(4000 + HOUR) == ["analytics"]
    table.restore("payroll", 1.0)  # a job no longer scheduled is ignored
    assert table.finished("exporter", True, 5001).status == "succeeded"


def test_after_a_restart_a_retry_that_was_waiting_is_due_at_once_as_the_next_attempt() -> None:
    table = timetable(ANALYTICS, now=5000)
    table.restore("analytics", last_started_at=4000, failed_attempts=2)
    assert table.due(5000) == ["analytics"] and table.started("analytics", "r3", 5000) == (3, "retry")
    assert table.finished("analytics", True, 5010).next_due_at == 4000 + HOUR  # the run's slot is kept


def test_the_settings_schedule_the_exporter_and_every_pipeline() -> None:
    settings = Settings(schedules={"analytics": {"every_seconds": 60, "args": ["--reader", "duckdb"]}})
    assert job_schedules(settings) == [EXPORTER, JobSchedule("analytics", "pipelines.analytics", 60,
                                                             ("--reader", "duckdb"))]
    assert [job.name for job in job_schedules(Settings(exporter="off"))] == [
        "analytics", "fraud", "payouts", "recommendations", "replenishment"]


@pytest.mark.parametrize("schedules", [{"Bad-Name": {"every_seconds": 1}}, {"exporter": {"every_seconds": 1}},
                                       {"fraud": {"every_seconds": 0}}])
def test_bad_schedules_are_refused(schedules: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings(schedules=schedules)


def test_a_run_record_round_trips_and_knows_its_duration() -> None:
    run = JobRun("r1", "fraud", "bazaar-fraud-r1", 2, "retry", "succeeded", 1.0, 2.0, 14.5, rows=12)
    assert JobRun.from_json(run.to_json()) == run and run.duration_s == 12.5
    assert JobRun("r2", "fraud", "s", 1, "schedule").duration_s is None
