"""What the Ray Jobs API costs the test session and a scheduled run: `ray.init` with and without the dashboard
(which hosts the Jobs API), and one trivial Ray Job from submission to its end.

    PYTHONPATH=. .venv/bin/python -m benchmarks.ray_jobs_startup [--rounds 3]

Each round starts a local Ray like tests/conftest.py does (2 CPUs; with the dashboard, its job agent on a free
port), measures, and shuts it down; rounds alternate the two kinds so that a busy machine weighs on both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import ray
from tqdm import tqdm

from tests.conftest import dashboard_agent_on_any_port


def start(dashboard: bool) -> float:
    started = time.perf_counter()
    with dashboard_agent_on_any_port():
        ray.init(address="local", num_cpus=2, include_dashboard=dashboard, dashboard_host="127.0.0.1",
                 log_to_driver=False, configure_logging=False)
    return time.perf_counter() - started


def trivial_job() -> float:
    """A Ray Job of `python -c pass`, submitted to its SUCCEEDED (what every scheduled run pays before its work)."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    client = JobSubmissionClient(ray.get_runtime_context().gcs_address)
    started = time.perf_counter()
    submission = client.submit_job(entrypoint=f"{sys.executable} -c pass")
    while not client.get_job_status(submission).is_terminal():
        time.sleep(0.05)
    assert client.get_job_status(submission) == JobStatus.SUCCEEDED
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    timings: dict[str, list[float]] = {"ray.init without dashboard": [], "ray.init with dashboard": [],
                                       "a trivial Ray Job, submitted to done": []}
    for _ in tqdm(range(args.rounds), desc="rounds", unit="round"):
        timings["ray.init without dashboard"].append(start(False))
        ray.shutdown()
        timings["ray.init with dashboard"].append(start(True))
        timings["a trivial Ray Job, submitted to done"].append(trivial_job())
        ray.shutdown()
    for name, seconds in timings.items():
        print(f"{name:<40} median {statistics.median(seconds):5.2f} s  (runs: "
              f"{', '.join(f'{s:.2f}' for s in seconds)})")


if __name__ == "__main__":
    main()
