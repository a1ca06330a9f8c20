"""The fraud model on the world's synthetic lake (simulation/synthetic.py): trained on the orders' signals and
labelled by chargebacks, it beats the rules on the time-based hold-out. Needs neither Redis nor Ray."""

from __future__ import annotations

import json
from pathlib import Path

from config import load_settings
from pipelines.fraud import train
from simulation.synthetic import generate


def test_the_model_trained_on_the_worlds_lake_beats_the_rules(tmp_path: Path) -> None:
    generate(str(tmp_path / "lake"), 300_000, days=40, seed=3)
    settings = load_settings(env="test", data_dir=tmp_path, lake_dir=str(tmp_path / "lake"),
                             jwt_secret="test-secret-not-for-production-0123456789")

    report = train(settings, progress=False)
    print(report.table())

    assert report.holdout_chargebacks >= 20 and report.too_recent > 0
    assert report.model.roc_auc >= report.rules.roc_auc + 0.15
    assert 0.75 < report.model.roc_auc < 0.995  # the fraud is learnable, yet no single artifact gives it away
    assert report.model.recall > report.rules.recall
    truth = json.loads((tmp_path / "synthetic-truth.json").read_text())
    assert truth["fraud_orders"]
