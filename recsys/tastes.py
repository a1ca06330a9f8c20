"""The recommenders judged on the simulator's hidden tastes, which only evaluation may read.

    python -m recsys.tastes --events 2000000 --days 90 --seed 7      # a simulated lake in a temporary folder
    python -m recsys.tastes --lake var/lake-synthetic --events 2000000 --seed 7   # one simulation.synthetic made

The lake comes from `simulation.synthetic` (same events, days and seed, same world); its ground truth file says
each shopper's favourite categories and brands, and the synthetic catalog (rebuilt from the seed) each product's.
On the pipeline's time split, two tables: the held-out purchases (as `pipelines.recommendations` prints), and the
hidden tastes, where a shopper's relevant products are all those matching their tastes (a favourite category or
brand: `World.likes`) that they had not bought before the cutoff. Every shopper has as many of those as the
catalog allows, so recall@10 there is proportional to the share of the ten that suit the shopper.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from lake.layout import Lake
from recsys.interactions import read_history
from recsys.models import FactorsConfig
from recsys.training import Evaluation, Holdout, fit, score


@dataclass(frozen=True)
class Catalog:
    category: dict[str, str]  # product_id -> category_id
    brand: dict[str, str]


def synthetic_catalog(events: int, seed: int) -> Catalog:
    from simulation.catalogs import synthetic_catalog as made
    from simulation.synthetic import catalog_size

    products = made(catalog_size(events), seed)
    return Catalog({p.id: p.category_id for p in products}, {p.id: p.brand for p in products})


def liked(truth: dict[str, Any], catalog: Catalog) -> dict[str, set[str]]:
    """user_id -> the products matching their hidden tastes."""
    found = {}
    for shopper in truth["shoppers"].values():
        if shopper["user_id"] is None:
            continue
        categories, brands = set(shopper["categories"]), set(shopper["brands"])
        found[shopper["user_id"]] = {p for p, c in catalog.category.items()
                                     if c in categories or catalog.brand[p] in brands}
    return found


def evaluate_on_tastes(lake: Lake, truth_file: Path, catalog: Catalog, test_share: float = 0.2,
                       config: FactorsConfig = FactorsConfig()) -> tuple[Evaluation, Evaluation]:
    """(held-out purchases, hidden tastes), for the shoppers who bought after the cutoff."""
    history = read_history(lake)
    holdout = Holdout.of(history, test_share)
    models = fit(holdout.train, config)
    tastes = liked(orjson.loads(truth_file.read_bytes()), catalog)
    relevant = {user: tastes.get(user, set()) - holdout.known.get(user, set()) for user in holdout.relevant}
    catalogue = len(catalog.category)
    train_size = len(holdout.train.interactions)
    purchases = Evaluation(holdout.cutoff, score(models, holdout, holdout.relevant, catalogue), train_size,
                           len(holdout.relevant))
    hidden = Evaluation(holdout.cutoff, score(models, holdout, relevant, catalogue), train_size,
                        sum(1 for products in relevant.values() if products))
    return purchases, hidden


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m recsys.tastes", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lake", help="a lake simulation.synthetic wrote with these arguments (default: make one)")
    parser.add_argument("--truth", help="its ground truth file (default: beside the lake)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="OpenBLAS is configured")
    with tempfile.TemporaryDirectory(prefix="bazaar-tastes-") as folder:
        lake_url = args.lake or f"{folder}/lake"
        if args.lake is None:
            from simulation.synthetic import generate

            report = generate(lake_url, args.events, args.days, args.seed, progress=True)
            truth = report.truth
        else:
            truth = Path(args.truth) if args.truth else Path(lake_url).parent / "synthetic-truth.json"
        purchases, hidden = evaluate_on_tastes(Lake(lake_url), truth, synthetic_catalog(args.events, args.seed))
    print(f"\nheld-out purchases ({args.events:,} simulated events, seed {args.seed}):\n{purchases.table()}")
    print(f"\nhidden tastes (relevant: every product of a favourite category or brand not bought before):\n"
          f"{hidden.table()}")


if __name__ == "__main__":
    main()
