"""What a scheduled run passes to its Ray Job (command, settings) and what the scheduler reads back (rows, error)."""

from __future__ import annotations

import json
import sys

from pydantic import SecretStr

from actors.ray_jobs import LOG_TAIL_CHARS, REPOSITORY, entrypoint, job_environment, log_tail
from config import Settings
from domain.schedules import JobSchedule
from pipelines.summary import print_summary, rows_in


def test_a_pipeline_tells_its_rows_in_its_last_line_and_the_scheduler_reads_them(capsys: object) -> None:
    print("replenishment: 3 variants sold")
    print_summary(3)
    logs = "Runtime env is setting up.\n" + capsys.readouterr().out  # type: ignore[attr-defined]
    assert rows_in(logs) == 3
    assert rows_in('{"rows": 1}\nlater output\n{"rows": 7}\n') == 7  # the last one counts
    assert rows_in("no summary\n{not json\n") is None and rows_in('{"rows": true}') is None


def test_the_job_runs_this_python_on_the_module_with_its_arguments() -> None:
    command = entrypoint(JobSchedule("analytics", "pipelines.analytics", 60, ("--reader", "duckdb")))
    assert command == f"{sys.executable} -m pipelines.analytics --reader duckdb"


def test_the_job_gets_the_shops_settings_but_never_its_secrets(tmp_path: object) -> None:
    settings = Settings(redis_url="redis://127.0.0.1:7001/0", data_dir=str(tmp_path), inventory_shards=9,
                        ray_address="10.0.0.1:6379", jwt_secret=SecretStr("x" * 40), admin_password="Secret-12345",
                        schedules={"fraud": {"every_seconds": 5}})
    env = job_environment(settings)
    assert env["BAZAAR_REDIS_URL"] == "redis://127.0.0.1:7001/0" and env["BAZAAR_INVENTORY_SHARDS"] == "9"
    assert env["BAZAAR_LAKE_DIR"] == settings.lake_dir and env["PYTHONPATH"] == str(REPOSITORY)
    assert json.loads(env["BAZAAR_SCHEDULES"]) == {"fraud": {"every_seconds": 5.0, "module": None, "args": []}}
    assert not {"BAZAAR_JWT_SECRET", "BAZAAR_ADMIN_PASSWORD", "BAZAAR_RAY_ADDRESS"} & set(env)
    assert "x" * 40 not in json.dumps(env) and "Secret-12345" not in json.dumps(env)
    assert "BAZAAR_HTTP_PORT" not in env  # a default is left to the job's own defaults


def test_a_failed_runs_error_is_rays_first_line_and_the_end_of_its_logs() -> None:
    logs = "\n".join(f"line {n}" for n in range(1000)) + "\nModuleNotFoundError: No module named 'x'\n"
    error = log_tail(logs, "Job entrypoint command failed with exit code 1, last available logs:\n(repeated)")
    first, *rest = error.splitlines()
    assert first == "Job entrypoint command failed with exit code 1, last available logs:"
    assert rest[-1] == "ModuleNotFoundError: No module named 'x'" and rest[0].startswith("line ")
    assert len(error) <= LOG_TAIL_CHARS
