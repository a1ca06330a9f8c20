"""When each scheduled job runs: the timetable of the pipelines and the lake exporter, with retries and backoff.

Pure rules, no Ray and no Redis: `actors/scheduler.py` asks `due(now)` what to start, reports `started` and
`finished`, and persists the `JobRun` records. Times are epoch seconds (the wall clock, never the simulation's).

- A periodic job is due `every_seconds` after the start of its last scheduled run (retries do not move the
  slot); a run that outlasts its period is followed by the next as soon as it ends, never overlapped.
- A failed attempt is retried after `backoff.delay(failures)`: base x 2^(failures-1), capped at `max_seconds`.
  After `retries` retries the run is `failed` and the job waits for its next slot (at least the cap away).
- A continuous job (the exporter) is restarted whenever it ends: after `base_seconds` when it ended cleanly, with
  the backoff (never giving up) when it failed.
- One run of a job at a time: `started` and `trigger` refuse a job that is running (409 `job_running`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from domain.errors import Conflict, NotFound

if TYPE_CHECKING:
    from config import Settings

Status = Literal["queued", "running", "succeeded", "failed", "retrying"]
Trigger = Literal["schedule", "retry", "manual"]
FINISHED: tuple[Status, ...] = ("succeeded", "failed", "retrying")


@dataclass(frozen=True)
class JobSchedule:
    name: str
    module: str  # what `python -m` runs: pipelines.<name>, or lake.exporter
    every_seconds: float | None = None  # None: continuous
    args: tuple[str, ...] = ()

    @property
    def continuous(self) -> bool:
        return self.every_seconds is None


def job_schedules(settings: Settings) -> list[JobSchedule]:
    """The lake exporter (unless `exporter: off`) and every pipeline of `settings.schedules`."""
    jobs = [JobSchedule("exporter", "lake.exporter")] if settings.exporter == "continuous" else []
    return jobs + [JobSchedule(name, s.module or f"pipelines.{name}", s.every_seconds, tuple(s.args))
                   for name, s in sorted(settings.schedules.items())]


@dataclass(frozen=True)
class Backoff:
    base_seconds: float
    max_seconds: float
    retries: int  # attempts after the first one of a scheduled run

    @classmethod
    def from_settings(cls, settings: Settings) -> Backoff:
        return cls(settings.job_backoff_seconds, settings.job_backoff_max_seconds, settings.job_retries)

    def delay(self, failures: int) -> float:
        """The wait before the next attempt after `failures` consecutive failures (1, 2, ...)."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(failures - 1, 0)))


@dataclass
class Slot:
    """One job's place in the timetable."""

    schedule: JobSchedule
    due_at: float
    running: str | None = None  # the run id in flight
    failures: int = 0  # consecutive failed attempts of the current run
    slot_started_at: float | None = None  # when attempt 1 of the current (or last) scheduled run started
    trigger: Trigger = "schedule"  # why the next start happens


@dataclass(frozen=True)
class Outcome:
    status: Status  # of the attempt that ended: succeeded, retrying (another attempt follows) or failed
    next_due_at: float


class Timetable:
    def __init__(self, schedules: list[JobSchedule], backoff: Backoff, now: float) -> None:
        self.backoff = backoff
        self.slots = {s.name: Slot(s, now) for s in schedules}

    def slot(self, name: str) -> Slot:
        if name not in self.slots:
            raise NotFound("unknown_job", f"No scheduled job is called {name!r}", {"jobs": sorted(self.slots)})
        return self.slots[name]

    def restore(self, name: str, last_started_at: float | None, running: str | None = None,
                failed_attempts: int = 0) -> None:
        """After a restart: the last scheduled run's start (from the records), the run still in flight, and the
        failed attempts of a run awaiting its retry (which is then due at once)."""
        slot = self.slots.get(name)
        if slot is None:
            return
        slot.running, slot.slot_started_at = running, last_started_at
        if failed_attempts:
            slot.failures, slot.trigger = failed_attempts, "retry"
        elif last_started_at is not None and slot.schedule.every_seconds is not None:
            slot.due_at = last_started_at + slot.schedule.every_seconds

    def due(self, now: float) -> list[str]:
        """The jobs to start now, in name order: due and not running."""
        return [name for name, slot in sorted(self.slots.items()) if slot.running is None and slot.due_at <= now]

    def started(self, name: str, run_id: str, now: float) -> tuple[int, Trigger]:
        """Marks the job running; its attempt number and why it started."""
        slot = self.slot(name)
        if slot.running is not None:
            raise Conflict("job_running", f"{name} is running already", {"run_id": slot.running})
        slot.running = run_id
        if slot.failures == 0:
            slot.slot_started_at = now
        return slot.failures + 1, slot.trigger

    def not_started(self, name: str) -> None:
        """The start did not happen (the cluster refused the submission): the job stays due, nothing is counted."""
        self.slot(name).running = None

    def trigger(self, name: str, now: float) -> None:
        """Run it now, as a new run (attempt 1)."""
        slot = self.slot(name)
        if slot.running is not None:
            raise Conflict("job_running", f"{name} is running already; wait for it to end",
                           {"run_id": slot.running})
        slot.due_at, slot.failures, slot.trigger = now, 0, "manual"

    def finished(self, name: str, succeeded: bool, now: float) -> Outcome:
        slot = self.slot(name)
        slot.running = None
        every = slot.schedule.every_seconds
        if succeeded:
            slot.failures, slot.trigger = 0, "schedule"
            slot.due_at = now + self.backoff.base_seconds if every is None else self._next_slot(slot, now)
            return Outcome("succeeded", slot.due_at)
        slot.failures += 1
        if every is None or slot.failures <= self.backoff.retries:
            slot.due_at, slot.trigger = now + self.backoff.delay(slot.failures), "retry"
            return Outcome("retrying", slot.due_at)
        slot.failures, slot.trigger = 0, "schedule"
        slot.due_at = max(self._next_slot(slot, now), now + self.backoff.max_seconds)
        return Outcome("failed", slot.due_at)

    @staticmethod
    def _next_slot(slot: Slot, now: float) -> float:
        assert slot.schedule.every_seconds is not None
        start = now if slot.slot_started_at is None else slot.slot_started_at
        return max(start + slot.schedule.every_seconds, now)


@dataclass
class JobRun:
    """One attempt of a job, as `GET /v1/admin/jobs` shows it; `submission_id` is its Ray Job in the dashboard."""

    run_id: str
    job: str
    submission_id: str
    attempt: int
    trigger: Trigger
    status: Status = "queued"
    queued_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    rows: int | None = None
    error: str | None = None
    entrypoint: str = ""

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        return None if end is None else round(max(end - self.started_at, 0.0), 3)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> JobRun:
        return cls(**json.loads(text))
