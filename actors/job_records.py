"""The scheduled jobs' run records in Redis: the scheduler writes them (its only state worth keeping), the admin
route and a restarted scheduler read them. Keys in actors/keys.py; the record is domain/schedules.py's JobRun."""

from __future__ import annotations

import redis.asyncio as aioredis

from actors import keys
from domain.schedules import JobRun


async def save(client: aioredis.Redis, run: JobRun, kept: int) -> None:
    """Write the run's record; past `kept` records, the oldest are forgotten."""
    async with client.pipeline(transaction=True) as tx:
        tx.hset(keys.JOB_RUNS, run.run_id, run.to_json())
        tx.zadd(keys.JOB_RUNS_BY_TIME, {run.run_id: run.queued_at})
        await tx.execute()
    surplus = await client.zrange(keys.JOB_RUNS_BY_TIME, 0, -(kept + 1))
    if surplus:
        async with client.pipeline(transaction=True) as tx:
            tx.zrem(keys.JOB_RUNS_BY_TIME, *surplus)
            tx.hdel(keys.JOB_RUNS, *surplus)
            await tx.execute()


async def forget(client: aioredis.Redis, run_id: str) -> None:
    """A run that never was (its submission was refused)."""
    async with client.pipeline(transaction=True) as tx:
        tx.zrem(keys.JOB_RUNS_BY_TIME, run_id)
        tx.hdel(keys.JOB_RUNS, run_id)
        await tx.execute()


async def recent(client: aioredis.Redis, limit: int, job: str | None = None) -> list[JobRun]:
    """The newest runs first; of one job when `job` is given (among the records kept)."""
    ids = await client.zrevrange(keys.JOB_RUNS_BY_TIME, 0, -1 if job else limit - 1)
    if not ids:
        return []
    texts = await client.hmget(keys.JOB_RUNS, ids)  # type: ignore[misc]
    runs = [JobRun.from_json(text) for text in texts if text]
    return [run for run in runs if job is None or run.job == job][:limit]


async def latest_per_job(client: aioredis.Redis) -> dict[str, list[JobRun]]:
    """Each job's runs, newest first: what a restarted scheduler takes its timetable back from."""
    runs: dict[str, list[JobRun]] = {}
    for run in await recent(client, limit=1_000_000):
        runs.setdefault(run.job, []).append(run)
    return runs
