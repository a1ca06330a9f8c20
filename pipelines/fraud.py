"""Train the fraud model on the lake's orders, labelled by chargebacks; compare it with the rules; version it.

    python -m pipelines.fraud              # train, print the hold-out figures, write a new version
    python -m pipelines.fraud --approve    # ... and approve it whatever the figures say (an operator's call)

Orders too recent to be labelled are set aside (`matured`: placed within the median chargeback delay before the
newest chargeback, their chargebacks may not have come yet). The rest are split by time: the last 20% are the
hold-out, never seen in training. Within the first 80%, the last quarter chooses the threshold (the best F1 there)
for a model fitted on the rest; the model is then fitted on all of the 80%. On the hold-out it prints ROC AUC,
precision and recall at that threshold, beside the rules' (domain/fraud.py on the same orders: hold or decline
counts as flagged, severity as the score).

The version goes to `<lake>/models/fraud/<version>/` (lake/models.py). It is approved (shopper shards start
scoring with it within `fraud_model_check_seconds`) with `--approve`, or by itself when its hold-out ROC AUC beats
the rules' by at least `fraud_auto_approve_margin` (default 0.05). Settings come from the environment
(BAZAAR_LAKE_DIR, ...), so a scheduler can run this very command as a Ray Job.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import precision_recall_curve, precision_score, recall_score, roc_auc_score

from config import Settings, load_settings
from domain.clock import now
from domain.fraud import FraudRules
from domain.fraud_features import FEATURES
from lake.layout import Lake
from lake.models import ModelStore, version_at
from pipelines.fraud_data import TrainingSet, charged_back, matured, placed_orders, training_set
from pipelines.summary import print_summary

HOLDOUT_SHARE = 0.2
VALIDATION_SHARE = 0.25  # of the training part: chooses the threshold
SEVERITY = {"approve": 0, "hold": 1, "decline": 2}
MODEL_NAME = "fraud"


@dataclass(frozen=True)
class Scores:
    roc_auc: float
    precision: float
    recall: float


@dataclass(frozen=True)
class Report:
    version: str
    approved: bool
    orders: int
    chargebacks: int
    holdout_orders: int
    holdout_chargebacks: int
    threshold: float
    model: Scores
    rules: Scores
    too_recent: int = 0  # orders left out: their chargebacks may not have come yet

    def table(self) -> str:
        rows = [("", "ROC AUC", "precision", "recall"),
                ("model", *_figures(self.model)), ("rules only", *_figures(self.rules))]
        lines = [f"{a:<12}{b:>9}{c:>11}{d:>9}" for a, b, c, d in rows]
        state = "approved" if self.approved else "not approved (python -m pipelines.fraud --approve, or approve it)"
        return "\n".join([f"fraud model {self.version}: {self.orders} orders, {self.chargebacks} charged back "
                          f"({self.too_recent} newer ones left out: too recent to be labelled); "
                          f"hold-out (last {HOLDOUT_SHARE:.0%} by time): {self.holdout_orders} orders, "
                          f"{self.holdout_chargebacks} charged back; threshold {self.threshold:.3f}", *lines, state])


def _figures(scores: Scores) -> tuple[str, str, str]:
    return f"{scores.roc_auc:.3f}", f"{scores.precision:.3f}", f"{scores.recall:.3f}"


def new_model() -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.08, max_leaf_nodes=15, l2_regularization=1.0,
                                          random_state=0)


def choose_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score with the best F1 on these orders (0.5 when they hold no chargeback)."""
    if labels.sum() == 0:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def rule_severity(data: TrainingSet, rules: FraudRules) -> np.ndarray:
    return np.array([SEVERITY[rules.assess(total, user, card).decision] for total, user, card in data.rule_inputs])


def evaluate(labels: np.ndarray, scores: np.ndarray, flagged: np.ndarray) -> Scores:
    return Scores(float(roc_auc_score(labels, scores)), float(precision_score(labels, flagged, zero_division=0)),
                  float(recall_score(labels, flagged, zero_division=0)))


def fit(data: TrainingSet, rules: FraudRules) -> tuple[HistGradientBoostingClassifier, float, Scores, Scores]:
    """The model fitted on the first 80% by time, its threshold, and its and the rules' hold-out scores."""
    cut = int(len(data) * (1 - HOLDOUT_SHARE))
    x, y = data.features, data.labels
    if cut < 10 or y[:cut].sum() < 2 or len(set(y[cut:])) < 2:
        raise ValueError(f"too little to learn from: {len(data)} orders, {int(y.sum())} charged back (the hold-out "
                         "needs orders of both kinds, training at least two chargebacks)")
    inner = int(cut * (1 - VALIDATION_SHARE))
    probe = new_model().fit(x[:inner], y[:inner]) if len(set(y[:inner])) == 2 else None
    threshold = choose_threshold(y[inner:cut], probe.predict_proba(x[inner:cut])[:, 1]) if probe else 0.5
    model = new_model().fit(x[:cut], y[:cut])
    held_out = model.predict_proba(x[cut:])[:, 1]
    severity = rule_severity(data, rules)[cut:]
    return (model, threshold, evaluate(y[cut:], held_out, held_out >= threshold),
            evaluate(y[cut:], severity, severity >= 1))


def train(settings: Settings, *, approve: bool = False, progress: bool = True) -> Report:
    """Train on `settings.lake_dir`, write the new version there, approve it when asked or when it is clearly
    better than the rules; the report of what happened."""
    lake = Lake(settings.lake_dir)
    charged = charged_back(lake)
    everything = training_set(placed_orders(lake), charged, progress)
    data = matured(everything, charged)
    model, threshold, model_scores, rule_scores = fit(data, FraudRules.from_settings(settings))
    moment = now()
    version = version_at(moment)
    cut = int(len(data) * (1 - HOLDOUT_SHARE))
    auto = model_scores.roc_auc - rule_scores.roc_auc >= settings.fraud_auto_approve_margin
    report = Report(version, approve or auto, len(data), int(data.labels.sum()), len(data) - cut,
                    int(data.labels[cut:].sum()), threshold, model_scores, rule_scores, len(everything) - len(data))
    metrics: dict[str, Any] = {**asdict(report), "holdout_share": HOLDOUT_SHARE, "trained_at": moment.isoformat()}
    store = ModelStore(lake, MODEL_NAME)
    store.publish(version, model, metrics, list(FEATURES))
    if report.approved:
        margin = settings.fraud_auto_approve_margin
        why = "--approve" if approve else (f"hold-out ROC AUC {model_scores.roc_auc:.3f} beats the rules' "
                                           f"{rule_scores.roc_auc:.3f} by at least {margin}")
        store.approve(version, "operator" if approve else "pipelines.fraud", why, moment)
    return report


def main(argv: list[str] | None = None) -> None:
    from serve.main import plain_env_overrides

    parser = argparse.ArgumentParser(prog="python -m pipelines.fraud", description=__doc__.splitlines()[0])
    parser.add_argument("--approve", action="store_true", help="approve the new version whatever its figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    settings = load_settings(**plain_env_overrides(os.environ))
    try:
        report = train(settings, approve=args.approve, progress=not args.quiet)
    except ValueError as exc:  # too little to learn from (a new shop): no new version, and no failure to retry
        print(f"fraud model not trained: {exc}; the checkout keeps the approved version it has, or the rules")
        print_summary(0)
        return
    print(json.dumps(asdict(report), indent=2) if args.json else report.table())
    print_summary(report.orders)


if __name__ == "__main__":
    main()
