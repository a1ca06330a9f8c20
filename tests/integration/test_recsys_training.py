"""The recommendations pipeline on a small seeded world written into a real lake (tests/recsys_world.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from lake.layout import Lake
from pipelines.recommendations import Options, train
from recsys import store
from recsys.interactions import CART, PURCHASE, VIEW, read_history
from tests.recsys_world import World, make_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(seed=11)


@pytest.fixture()
def lake(tmp_path: Path, world: World) -> Lake:
    lake = Lake(str(tmp_path / "lake"))
    world.write(lake)
    return lake


def test_the_lake_gives_every_kind_of_interaction(lake: Lake, world: World) -> None:
    history = read_history(lake)
    kinds = {i.kind for i in history.interactions}
    assert kinds == {PURCHASE, CART, VIEW}  # views from `extra`: product.viewed has no columns yet
    assert set(history.products) == set(world.products)
    purchases = sum(len(orjson.loads(row[4])["items"]) for row in world.rows["bz:events"]
                    if row[2] == "order.created")
    assert len(history.of_kind(PURCHASE)) == purchases  # every order line, its variant mapped to its product


def test_matrix_factorisation_beats_popularity_on_the_shoppers_tastes(lake: Lake) -> None:
    trained = train(lake, Options(publish=False), progress=False)
    assert trained.evaluation is not None
    popularity = trained.evaluation.row("popularity")
    factors = trained.evaluation.row("matrix factorisation")
    assert factors["recall"] >= 1.8 * popularity["recall"], trained.evaluation.table()
    assert factors["ndcg"] > popularity["ndcg"]
    assert factors["coverage"] > 5 * popularity["coverage"]  # popularity shows everyone the same ten
    assert trained.version is None and store.current_version(lake) is None  # a dry run publishes nothing


def test_a_published_store_is_switched_to_whole(lake: Lake, world: World) -> None:
    first = train(lake, progress=False)
    assert first.version is not None and store.current_version(lake) == first.version
    loaded = store.load(lake, first.version)
    assert loaded is not None
    assert len(loaded.popular) > 10 and set(loaded.popular) <= set(world.products)
    assert set(loaded.users) <= set(world.tastes) and len(loaded.users) > 250
    candidates = loaded.for_user(next(iter(loaded.users)))
    assert len(candidates) == 50 and len(set(candidates)) == 50
    assert all(len(loaded.related(p)) == 20 and p not in loaded.related(p) for p in world.products)
    metrics = store.read_metrics(lake, first.version)
    assert metrics is not None and metrics["evaluation"][0]["model"] == "popularity"
    versions = [train(lake, progress=False).version for _ in range(store.KEEP)]
    assert store.current_version(lake) == versions[-1]
    assert store.versions(lake) == sorted(versions) and store.load(lake, first.version) is None  # pruned


def test_the_pipeline_runs_as_a_command_from_the_environment(lake: Lake, tmp_path: Path) -> None:
    env = {**os.environ, "BAZAAR_LAKE_DIR": lake.root, "BAZAAR_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pipelines.recommendations", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "recall@10" in done.stdout and "matrix factorisation" in done.stdout
    assert store.current_version(lake) is not None and "published" in done.stdout


def test_an_empty_lake_publishes_nothing(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "empty"))
    trained = train(lake, progress=False)
    assert trained.version is None and store.current_version(lake) is None
    assert trained.metrics["history"]["interactions"] == 0
