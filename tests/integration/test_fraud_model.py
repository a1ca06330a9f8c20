"""The fraud pipeline on a small synthetic lake: it beats the rules on the time-based hold-out, writes a complete
version, approves it by the margin, and a shopper shard's watch picks up the newest approved version (and lets it
go when it is withdrawn). Needs neither Redis nor Ray: the lake is a folder."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from actors.fraud_model import FraudModelWatch
from config import Settings, load_settings
from domain.fraud_features import FEATURES, OrderSignals, ShopperHistory
from lake.layout import Lake
from lake.models import ModelStore
from pipelines.fraud import train
from pipelines.summary import rows_in
from tests import fraud_world

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def lake_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("fraud-lake")
    fraud_world.write(fraud_world.generate(seed=7), Lake(str(folder)))
    return load_settings(env="test", data_dir=folder, lake_dir=str(folder),
                         jwt_secret="test-secret-not-for-production-0123456789")


def signals(card_country: str, total: int = 40_000) -> OrderSignals:
    at = datetime(2030, 6, 1, 14, tzinfo=UTC)
    return OrderSignals(total, "fp_new", ShopperHistory(), 1, 1, 1, at, card_country, "US", at)


def test_the_model_beats_the_rules_on_the_later_orders_and_is_approved_for_it(lake_settings: Settings) -> None:
    report = train(lake_settings, progress=False)
    print(report.table())
    assert report.holdout_chargebacks > 5 and report.orders > 1000
    assert report.model.roc_auc > 0.85
    assert report.model.roc_auc >= report.rules.roc_auc + lake_settings.fraud_auto_approve_margin
    assert report.model.recall > report.rules.recall
    store = ModelStore(Lake(lake_settings.lake_dir), "fraud")
    assert report.approved and store.newest_approved() == report.version
    saved = store.load(report.version)
    assert saved.features == list(FEATURES)
    assert saved.metrics["threshold"] == report.threshold and saved.metrics["model"]["roc_auc"] == report.model.roc_auc
    folder = Path(lake_settings.lake_dir) / "models" / "fraud"
    assert [p.name for p in folder.iterdir()] == [report.version]  # nothing half-written left beside it


def test_a_shard_scores_with_the_newest_approved_version_and_drops_a_withdrawn_one(lake_settings: Settings) -> None:
    store = ModelStore(Lake(lake_settings.lake_dir), "fraud")
    first = store.newest_approved() or train(lake_settings, progress=False).version
    watch = FraudModelWatch(lake_settings.lake_dir, check_seconds=3600)
    assert watch.due() and watch.score(signals("NG")) is None  # nothing loaded yet: the rules alone
    watch.refresh()
    assert watch.version == first and not watch.due()
    stolen, ordinary = watch.score(signals("NG")), watch.score(signals("US", total=5_000))
    assert stolen is not None and ordinary is not None
    assert stolen >= watch.threshold > ordinary
    unapproved = train(lake_settings, progress=False)  # the margin approves it too; withdraw it to test
    store.withdraw(unapproved.version)
    watch.refresh()
    assert watch.version == first  # the newer one is not approved: still the first
    store.withdraw(first)
    watch.refresh()
    assert watch.version is None and watch.score(signals("NG")) is None and math.isinf(watch.threshold)


def test_the_command_trains_from_the_environments_settings(lake_settings: Settings) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BAZAAR_ENV": "test", "BAZAAR_LAKE_DIR": lake_settings.lake_dir,
           "BAZAAR_DATA_DIR": str(lake_settings.data_dir), "BAZAAR_JWT_SECRET": "test-secret-not-for-production-0123"}
    done = subprocess.run([sys.executable, "-m", "pipelines.fraud", "--quiet", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)
    report, _ = json.JSONDecoder().raw_decode(done.stdout)  # then the {"rows": N} line for the scheduler
    assert report["model"]["roc_auc"] > report["rules"]["roc_auc"]
    assert ModelStore(Lake(lake_settings.lake_dir), "fraud").is_approved(report["version"])


def test_a_new_shop_with_nothing_to_learn_from_is_a_run_that_succeeds_with_no_model(tmp_path: Path) -> None:
    """The scheduler runs the command daily from the first day: an empty lake is no failure to retry."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BAZAAR_ENV": "test", "BAZAAR_LAKE_DIR": str(tmp_path / "lake"),
           "BAZAAR_DATA_DIR": str(tmp_path), "BAZAAR_JWT_SECRET": "test-secret-not-for-production-0123"}
    done = subprocess.run([sys.executable, "-m", "pipelines.fraud", "--quiet"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "fraud model not trained" in done.stdout and rows_in(done.stdout) == 0
    versions = tmp_path / "lake" / "models" / "fraud"
    assert not versions.exists() or not any(versions.iterdir())
