"""Ray's Jobs API, as the scheduler uses it: submit `python -m <module>` as a Ray Job, read its state and logs.

A job's driver runs on the cluster's head node with the cluster's RAY_ADDRESS (Ray sets it), this repository on
PYTHONPATH and the shop's settings as BAZAAR_* variables (`job_environment`), so it reads the same Redis and lake
as the shop. Secrets (the JWT secret, the admin's password) are never passed: the dashboard shows a job's
environment. A job that needs them (none of the pipelines does) finds them in the nodes' own environment.
All calls block (HTTP to the dashboard): the scheduler makes them on a thread.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from config import Settings
from domain.schedules import JobSchedule

REPOSITORY = Path(__file__).resolve().parents[1]
NOT_PASSED = {"ray_address"}  # a job joins the cluster it runs in (RAY_ADDRESS), whatever the shop joined
LOG_TAIL_CHARS = 2000


@dataclass(frozen=True)
class JobState:
    status: str  # Ray's: PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED
    started_at: float | None  # epoch seconds
    finished_at: float | None
    message: str

    @property
    def ended(self) -> bool:
        return self.status in ("STOPPED", "SUCCEEDED", "FAILED")


def entrypoint(schedule: JobSchedule) -> str:
    """The job's command: this very Python (the shop's environment) running the module."""
    return " ".join(shlex.quote(part) for part in (sys.executable, "-m", schedule.module, *schedule.args))


def job_environment(settings: Settings) -> dict[str, str]:
    """BAZAAR_* for every setting that is not its default, secrets left out; and this repository on PYTHONPATH."""
    secret = {name for name, value in settings if isinstance(value, SecretStr)}
    ours = settings.model_dump(mode="json", exclude=secret | NOT_PASSED)
    default = Settings.model_construct().model_dump(mode="json", exclude=secret | NOT_PASSED)
    env = {f"BAZAAR_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
           for name, value in ours.items() if value != default.get(name) and value is not None}
    return {**env, "PYTHONPATH": str(REPOSITORY)}


class RayJobs:
    def __init__(self, address: str | None = None) -> None:
        import ray
        from ray.job_submission import JobSubmissionClient

        # the GCS address of the cluster this actor runs in: the client finds its dashboard from there
        self.client = JobSubmissionClient(address or ray.get_runtime_context().gcs_address)

    def submit(self, schedule: JobSchedule, submission_id: str, settings: Settings, run_id: str) -> str:
        return str(self.client.submit_job(
            entrypoint=entrypoint(schedule), submission_id=submission_id,
            runtime_env={"env_vars": job_environment(settings)},
            metadata={"bazaar_job": schedule.name, "bazaar_run": run_id}))

    def state(self, submission_id: str) -> JobState | None:
        """None when the cluster does not know the job (it was started before the cluster was)."""
        try:
            info: Any = self.client.get_job_info(submission_id)
        except RuntimeError as exc:  # the SDK's answer to a 404
            if "does not exist" in str(exc) or "404" in str(exc):
                return None
            raise
        return JobState(str(info.status.value if hasattr(info.status, "value") else info.status),
                        info.start_time / 1000 if info.start_time else None,
                        info.end_time / 1000 if info.end_time else None, info.message or "")

    def logs(self, submission_id: str) -> str:
        return str(self.client.get_job_logs(submission_id))

    def stop(self, submission_id: str) -> None:
        self.client.stop_job(submission_id)


def log_tail(logs: str, message: str = "") -> str:
    """What an operator reads first about a failed run: the first line of Ray's message, then the last lines of
    the job's output (whole lines, up to LOG_TAIL_CHARS in all)."""
    lines = [message.strip().splitlines()[0]] if message.strip() else []
    budget = LOG_TAIL_CHARS - sum(len(line) + 1 for line in lines)
    tail: list[str] = []
    for line in reversed(logs.rstrip().splitlines()):
        budget -= len(line) + 1
        if budget < 0:
            break
        tail.append(line)
    return "\n".join(lines + tail[::-1])[-LOG_TAIL_CHARS:]
