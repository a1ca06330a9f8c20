"""Train the recommenders on the event lake, compare them with popularity, and publish what the API serves.

    python -m pipelines.recommendations                    # the lake at BAZAAR_LAKE_DIR (default <data dir>/lake)
    python -m pipelines.recommendations --test-share 0.2 --factors 64 --candidates 50

Reads purchases (`order.created`), adds to cart (`cart.item_added`) and views (`product.viewed`) from the lake
(recsys/interactions.py); evaluates popularity, co-purchase, co-view, matrix factorisation (implicit's ALS) and
a blend on a time split (recall@10, NDCG@10, catalogue coverage: recsys/training.py), prints the table; then fits
again on everything and writes a new version of the store, `<lake>/models/recsys/<version>/`, with the table in
its metrics.json, and points `<lake>/models/recsys/CURRENT` at it (recsys/store.py). The API replicas pick the
new version up within `recsys_reload_seconds`. Needs only the lake (no Redis, no Ray): it runs the same as a Ray
Job.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from config import Settings, load_settings
from lake.layout import Lake
from pipelines.summary import print_summary
from recsys import store
from recsys.interactions import count_files, read_history
from recsys.models import FactorsConfig
from recsys.training import Evaluation, build, counts, evaluate, fit
from serve.main import plain_env_overrides

STEPS = 9  # after reading: fit + 5 evaluations, fit on all, build, publish


@dataclass(frozen=True)
class Options:
    test_share: float = 0.2
    factors: FactorsConfig = field(default_factory=FactorsConfig)
    candidates: int = 50  # per shopper, before the API's filters
    related: int = 20
    publish: bool = True


@dataclass(frozen=True)
class Trained:
    version: str | None
    evaluation: Evaluation | None
    served: str
    metrics: dict[str, Any]


def train(lake: Lake, options: Options = Options(), progress: bool = True) -> Trained:
    started = time.perf_counter()
    with tqdm(total=count_files(lake) + STEPS, unit="step", desc="recommendations", disable=not progress) as bar:
        bar.set_postfix_str("reading the lake")
        history = read_history(lake, on_file=lambda _: bar.update())
        if not history.interactions:  # nothing to learn from: the API keeps what it serves (or its fallback)
            return Trained(None, None, "nothing", {"history": counts(history), "seconds": 0.0})

        def step(what: str) -> None:
            bar.set_postfix_str(what)
            bar.update()

        try:
            evaluation: Evaluation | None = evaluate(history, options.test_share, options.factors, step)
        except ValueError:  # too few purchases for a split: serve the model without a comparison
            evaluation = None
            bar.update(6)
        served = evaluation.best() if evaluation is not None else "matrix factorisation"
        step("fit on the whole history")
        models = fit(history, options.factors)
        step(f"recommend with {served}")
        recommendations = build(models, served, history, options.candidates, options.related)
        metrics: dict[str, Any] = {
            "served": served, "history": counts(history), "k": 10, "test_share": options.test_share,
            "factors": options.factors.__dict__, "evaluation": None if evaluation is None else evaluation.rows,
            "cutoff_ms": None if evaluation is None else evaluation.cutoff,
            "shoppers_served": len(recommendations.users), "products_related": len(recommendations.related),
            "seconds": 0.0,
        }
        step("publish")
        metrics["seconds"] = round(time.perf_counter() - started, 3)
        version = store.publish(lake, recommendations, metrics) if options.publish else None
    return Trained(version, evaluation, served, metrics)


def report(trained: Trained, lake: Lake) -> str:
    lines = []
    if trained.served == "nothing":
        return f"no purchases, adds to cart or views in the lake at {lake.url}: nothing trained, nothing published"
    if trained.evaluation is not None:
        lines += [trained.evaluation.table(), ""]
    else:
        lines.append("too few purchases in the lake for a time split: no evaluation")
    history = trained.metrics["history"]
    lines.append(f"trained on {history['interactions']} interactions of {history['shoppers']} shoppers "
                 f"({history.get('purchase', 0)} purchases) in {trained.metrics['seconds']:.1f}s; serving "
                 f"{trained.served}")
    if trained.version is not None:
        lines.append(f"published {store.models_dir(lake)}/{trained.version} (CURRENT)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.recommendations", description=__doc__.splitlines()[0])
    parser.add_argument("--lake", help="the lake's folder or URL (default: the lake_dir setting)")
    parser.add_argument("--test-share", type=float, default=0.2, help="share of purchases held out (default 0.2)")
    parser.add_argument("--factors", type=int, default=FactorsConfig.factors)
    parser.add_argument("--iterations", type=int, default=FactorsConfig.iterations)
    parser.add_argument("--regularization", type=float, default=FactorsConfig.regularization)
    parser.add_argument("--alpha", type=float, default=FactorsConfig.alpha, help="ALS confidence scale")
    parser.add_argument("--candidates", type=int, default=50, help="products kept per shopper (default 50)")
    parser.add_argument("--dry-run", action="store_true", help="evaluate only; publish nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not 0 < args.test_share < 1:
        parser.error("--test-share is between 0 and 1")
    settings: Settings = load_settings(**plain_env_overrides(os.environ))
    lake = Lake(args.lake or settings.lake_dir)
    options = Options(args.test_share, FactorsConfig(args.factors, args.iterations, args.regularization, args.alpha),
                      args.candidates, publish=not args.dry_run)
    trained = train(lake, options, progress=not args.quiet)
    print(report(trained, lake))
    print_summary(trained.metrics.get("shoppers_served", 0))  # the scheduler's `rows`: shoppers with a list


if __name__ == "__main__":
    main()
