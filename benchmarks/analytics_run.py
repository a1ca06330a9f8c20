"""The analytics run over 10 million events (the target: under 60 s on this machine); prints its figures.

    .venv/bin/python -m benchmarks.analytics_run [--events 10000000] [--lake var/bench-lake/lake] [--reader ray]

Generates the world's synthetic lake first when the folder has none (simulation/synthetic.py, 90 days, seed 7: the
same lake as `python -m simulation.synthetic --events 10000000 --days 90 --seed 7 --lake <lake>`), then times one whole
run of pipelines/analytics.py into a temporary folder: with the Ray reader, the time includes starting a local
Ray (the run's own, as a standalone `python -m pipelines.analytics` would).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from config import load_settings
from pipelines.analytics import run
from simulation.synthetic import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.analytics_run", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--lake", default="var/bench-lake/lake")
    parser.add_argument("--reader", choices=("ray", "ray-data", "duckdb"), default="ray")
    args = parser.parse_args(argv)
    lake = Path(args.lake).absolute()
    if not (lake / "events").exists():
        report = generate(str(lake), args.events, days=90, seed=7, progress=True)
        print(f"synthetic lake: {report.events:,} events in {report.seconds:.1f} s")
    in_lake = sum(1 for _ in (lake / "events").glob("type=*/date=*/*.parquet"))
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(env="test", data_dir=Path(folder), lake_dir=str(lake), jwt_secret="benchmark")
        started = time.perf_counter()
        result = run(settings, reader=args.reader, progress=True)
        seconds = time.perf_counter() - started
    import pyarrow.dataset as ds

    events = ds.dataset(lake / "events", format="parquet", partitioning="hive").count_rows()
    print(f"analytics run, reader {args.reader}: {events:,} events in the lake ({in_lake} files), "
          f"{result.events:,} of them read by the metrics, in {seconds:.1f} s: {events / seconds:,.0f} lake events/s "
          f"(target: 10,000,000 in under 60 s)")


if __name__ == "__main__":
    main()
