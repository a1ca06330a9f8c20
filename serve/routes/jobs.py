"""Scheduled jobs for admins: `GET /v1/admin/jobs` lists recent runs, `POST /v1/admin/jobs/{job}/run` starts one.

Each run is a Ray Job; its `ray_job_id` is the submission id the Ray dashboard's Jobs page shows, with its logs.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from actors import job_records
from domain.clock import iso_from_epoch
from domain.errors import Unavailable
from domain.schedules import JobRun
from serve.deps import AdminUser, Ctx

router = APIRouter(tags=["jobs"])


class JobRunOut(BaseModel):
    run_id: str
    job: str = Field(description="the pipeline (python -m pipelines.<job>), or `exporter` for the lake exporter")
    status: Literal["queued", "running", "succeeded", "failed", "retrying"] = Field(
        description="`retrying`: this attempt failed and another follows after a backoff; `failed`: no more")
    attempt: int = Field(description="1 for a run's first attempt, then 2, 3, ... for its retries")
    trigger: Literal["schedule", "retry", "manual"]
    ray_job_id: str = Field(description="the Ray Job's submission id: find it, with its logs, in the dashboard")
    entrypoint: str
    queued_at: str
    started_at: str | None
    finished_at: str | None
    duration_s: float | None
    rows: int | None = Field(description="what the run wrote, from its summary line; null when it printed none")
    error: str | None = Field(description="Ray's message and the end of the job's logs, when it failed")


class JobRunsOut(BaseModel):
    runs: list[JobRunOut]


class TriggeredOut(BaseModel):
    run: JobRunOut


def run_out(run: JobRun) -> JobRunOut:
    def at(seconds: float | None) -> str | None:
        return None if seconds is None else iso_from_epoch(seconds)

    return JobRunOut(run_id=run.run_id, job=run.job, status=run.status, attempt=run.attempt, trigger=run.trigger,
                     ray_job_id=run.submission_id, entrypoint=run.entrypoint, queued_at=iso_from_epoch(run.queued_at),
                     started_at=at(run.started_at), finished_at=at(run.finished_at), duration_s=run.duration_s,
                     rows=run.rows, error=run.error)


@router.get("/v1/admin/jobs", response_model=JobRunsOut)
async def job_runs(
    ctx: Ctx,
    admin: AdminUser,
    limit: Annotated[int, Query(ge=1, le=500, description="how many runs, newest first")] = 50,
    job: Annotated[str | None, Query(max_length=64, description="only this job's runs")] = None,
) -> dict[str, Any]:
    """Admin. 200 the recent runs of the scheduled jobs, newest first; 422 a bad limit."""
    return {"runs": [run_out(run) for run in await job_records.recent(ctx.redis, limit, job)]}


@router.post("/v1/admin/jobs/{job}/run", status_code=202, response_model=TriggeredOut)
async def run_now(ctx: Ctx, admin: AdminUser, job: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    """Admin. 202 a run of the job was submitted now (its record); 404 `unknown_job`; 409 `job_running` while a
    run of it is in flight; 503 `scheduler_unavailable` when no scheduler runs, `jobs_unavailable` when Ray's Jobs
    API (the dashboard) refused the submission."""
    handle = await asyncio.to_thread(_scheduler, ctx.settings.ray_namespace)
    if handle is None:
        raise Unavailable("scheduler_unavailable", "The job scheduler is not running (BAZAAR_SCHEDULER)")
    return {"run": run_out(JobRun.from_json(await handle.trigger.remote(job)))}


def _scheduler(namespace: str) -> Any:
    import ray

    from actors.system import SCHEDULER

    try:
        return ray.get_actor(SCHEDULER, namespace=namespace)
    except ValueError:
        return None
