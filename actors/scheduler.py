"""The scheduler: one long-lived actor that runs every scheduled job as a Ray Job, on its timetable.

`make run` starts it (`actors.system.spawn_scheduler`). Every `scheduler_tick_seconds` it follows the Ray Jobs in
flight and submits the jobs that are due (domain/schedules.py decides which: periodic pipelines, the lake exporter
kept running, retries with backoff, never two runs of one job at once). Each attempt is a `JobRun` record in Redis
(actors/job_records.py) that `GET /v1/admin/jobs` lists; its `submission_id` names the Ray Job in the dashboard.
After a crash Ray restarts the actor, which takes its timetable and the runs in flight back from those records.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

from actors import job_records
from actors.ray_jobs import JobState, RayJobs, entrypoint, log_tail
from actors.store import async_client
from actors.ticker import start_ticker
from config import Settings
from domain.clock import epoch
from domain.errors import Unavailable
from domain.ids import new_id
from domain.schedules import Backoff, JobRun, Timetable, job_schedules
from pipelines.summary import rows_in

log = logging.getLogger(__name__)
HTTP_SECONDS = 60.0  # Ray's Jobs API client has no timeout of its own: a call to a hung dashboard is given up
STOP_SECONDS = 3.0  # per job, when the shop stops (a Ctrl-C may have stopped the dashboard already)
T = TypeVar("T")


async def _http(call: Callable[..., T], *args: Any, timeout: float = HTTP_SECONDS) -> T:
    """A blocking call to the Jobs API on a thread, given up (TimeoutError) after `timeout` seconds."""
    return await asyncio.wait_for(asyncio.to_thread(call, *args), timeout)


class Scheduler:
    def __init__(self, settings: Settings, shard: int = 0) -> None:
        assert settings.redis_url
        self.settings = settings
        self.redis = async_client(settings.redis_url)
        self.schedules = {s.name: s for s in job_schedules(settings)}
        self.table = Timetable(list(self.schedules.values()), Backoff.from_settings(settings), epoch())
        self.in_flight: dict[str, JobRun] = {}  # by job name
        self.jobs: RayJobs | None = None
        self.lock = asyncio.Lock()
        self.restored = False
        tick = settings.scheduler_tick_seconds
        start_ticker(tick, "scheduler", timeout=max(tick * 10, 60))  # a tick waits on the dashboard

    # -- what operators and the API call -------------------------------------------------------------------
    async def ready(self) -> dict[str, Any]:
        async with self.lock:
            await self._restore()
        return {"pid": os.getpid(), "jobs": sorted(self.schedules)}

    async def trigger(self, job: str) -> str:
        """Start a run of `job` now; its record as JSON. 404 unknown job, 409 a run in flight, 503 no Jobs API."""
        async with self.lock:
            await self._restore()
            self.table.slot(job)  # 404 first
            jobs = await self._jobs()
            if jobs is None:
                raise Unavailable("jobs_unavailable", "Ray's Jobs API (the dashboard) is not reachable; retry")
            self.table.trigger(job, epoch())
            return (await self._start(jobs, job)).to_json()

    async def tick(self) -> None:
        async with self.lock:
            await self._restore()
            jobs = await self._jobs()
            if jobs is None:
                return
            for run in list(self.in_flight.values()):
                try:
                    state = await _http(jobs.state, run.submission_id)
                except Exception:  # the dashboard restarting: look again next tick
                    log.warning("cannot read the state of %s", run.submission_id, exc_info=True)
                    continue
                await self._follow(jobs, run, state)
            for job in self.table.due(epoch()):
                with suppress(Unavailable):  # logged; the job stays due
                    await self._start(jobs, job)

    async def stop_all(self) -> int:
        """Stop the Ray Jobs in flight (the shop is stopping); each is recorded failed. How many were stopped."""
        locked = False
        with suppress(TimeoutError):  # a tick stuck on a dashboard that is going away must not hold the stop
            locked = await asyncio.wait_for(self.lock.acquire(), STOP_SECONDS)
        try:
            jobs, stopping = self.jobs, list(self.in_flight.values())
            if jobs is not None:  # all at once: each may wait out STOP_SECONDS on a dashboard already gone
                stops = await asyncio.gather(*(_http(jobs.stop, run.submission_id, timeout=STOP_SECONDS)
                                               for run in stopping), return_exceptions=True)
                for run, stop in zip(stopping, stops, strict=True):
                    if isinstance(stop, BaseException):
                        log.warning("cannot stop %s: %r", run.submission_id, stop)
            for run in stopping:
                await self._finish(run, False, epoch(), error="stopped: the shop was stopped")
            return len(stopping)
        finally:
            if locked:
                self.lock.release()

    # -- the runs ---------------------------------------------------------------------------------------------
    async def _start(self, jobs: RayJobs, job: str) -> JobRun:
        now = epoch()
        run_id = new_id("run")
        attempt, trigger = self.table.started(job, run_id, now)
        run = JobRun(run_id, job, f"bazaar-{job}-{run_id}", attempt, trigger, "queued", now,
                     entrypoint=entrypoint(self.schedules[job]))
        self.in_flight[job] = run
        await self._save(run)
        try:
            await _http(jobs.submit, self.schedules[job], run.submission_id, self.settings, run_id)
        except Exception as exc:  # the cluster's failure, not the job's: no attempt counted, tried again next tick
            log.warning("cannot submit %s: %s", run.submission_id, exc)
            self.table.not_started(job)
            self.in_flight.pop(job, None)
            await job_records.forget(self.redis, run_id)
            raise Unavailable("jobs_unavailable", f"Ray's Jobs API refused the run; retry ({exc})") from None
        return run

    async def _follow(self, jobs: RayJobs, run: JobRun, state: JobState | None) -> None:
        if state is None:
            await self._finish(run, False, epoch(), error="the Ray Job is gone (the cluster was restarted)")
            return
        if state.started_at and run.started_at is None:
            run.started_at = state.started_at
        if not state.ended:
            if state.status == "RUNNING" and run.status == "queued":
                run.status = "running"
                await self._save(run)
            return
        logs = await _http(jobs.logs, run.submission_id)
        run.rows = rows_in(logs)
        succeeded = state.status == "SUCCEEDED"
        await self._finish(run, succeeded, state.finished_at or epoch(),
                           error=None if succeeded else log_tail(logs, state.message))

    async def _finish(self, run: JobRun, succeeded: bool, at: float, error: str | None = None) -> None:
        outcome = self.table.finished(run.job, succeeded, epoch())
        run.status, run.finished_at, run.error = outcome.status, at, error
        run.started_at = run.started_at or at
        self.in_flight.pop(run.job, None)
        await self._save(run)

    async def _save(self, run: JobRun) -> None:
        await job_records.save(self.redis, run, self.settings.jobs_kept)

    # -- start-up -----------------------------------------------------------------------------------------------
    async def _restore(self) -> None:
        """Once: each job's last scheduled start and run in flight, from the records."""
        if self.restored:
            return
        for job, runs in (await job_records.latest_per_job(self.redis)).items():
            if job not in self.schedules:
                continue
            first_attempts = [run for run in runs if run.attempt == 1]
            last_start = first_attempts[0].queued_at if first_attempts else None
            latest = runs[0]
            running = latest if latest.status in ("queued", "running") else None
            retrying = latest.attempt if latest.status == "retrying" else 0
            self.table.restore(job, last_start, running.run_id if running else None, retrying)
            if running:
                self.in_flight[job] = running
        self.restored = True

    async def _jobs(self) -> RayJobs | None:
        """The Jobs API client, made on first use (None while the dashboard is not answering)."""
        if self.jobs is None:
            try:
                self.jobs = await _http(RayJobs)
            except Exception as exc:
                log.warning("Ray's Jobs API is not reachable yet: %s", exc)
        return self.jobs
