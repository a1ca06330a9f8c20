"""Fraud model figures: train on a synthetic lake (tests/fraud_world.py) and time one checkout's scoring.

    PYTHONPATH=. .venv/bin/python -m benchmarks.fraud [--shoppers 3000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime

from actors.fraud_model import FraudModelWatch
from config import load_settings
from domain.fraud_features import OrderSignals, ShopperHistory
from lake.layout import Lake
from pipelines.fraud import train
from tests import fraud_world


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shoppers", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        fraud_world.write(fraud_world.generate(seed=7, shoppers=args.shoppers), Lake(folder))
        settings = load_settings(env="test", data_dir=folder, lake_dir=folder,
                                 jwt_secret="benchmark-secret-not-for-production-0123")
        started = time.perf_counter()
        report = train(settings, progress=False)
        print(report.table())
        print(f"training: {time.perf_counter() - started:.1f} s for {report.orders} orders")
        watch = FraudModelWatch(folder, 3600)
        watch.refresh()
        at = datetime(2030, 6, 1, 14, tzinfo=UTC)
        signals = OrderSignals(40_000, "fp", ShopperHistory(), 1, 1, 1, at, "NG", "US", at)
        calls = 2000
        started = time.perf_counter()
        for _ in range(calls):
            watch.score(signals)
        print(f"scoring one checkout in the shard: {(time.perf_counter() - started) / calls * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
