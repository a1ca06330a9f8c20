"""Recommendations judged on the simulator's hidden tastes (simulation/synthetic.py's lake and ground truth)."""

from __future__ import annotations

from pathlib import Path

from lake.layout import Lake
from recsys.tastes import evaluate_on_tastes, synthetic_catalog
from simulation.synthetic import generate

EVENTS, SEED = 200_000, 3


def test_matrix_factorisation_finds_the_shoppers_hidden_tastes_far_better_than_popularity(tmp_path: Path) -> None:
    lake_url = str(tmp_path / "lake")
    report = generate(lake_url, EVENTS, days=60, seed=SEED)
    purchases, tastes = evaluate_on_tastes(Lake(lake_url), report.truth, synthetic_catalog(EVENTS, SEED))
    factors, popularity = tastes.row("matrix factorisation"), tastes.row("popularity")
    assert factors["recall"] >= 2 * popularity["recall"], tastes.table()  # the target
    assert factors["ndcg"] >= 2 * popularity["ndcg"], tastes.table()
    # the purchases after the cutoff, which the tastes drive three times in four
    assert purchases.row("matrix factorisation")["recall"] >= 1.5 * purchases.row("popularity")["recall"], \
        purchases.table()
    assert tastes.test_users > 300
