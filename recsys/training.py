"""Fit the recommenders on a history, compare them on a time split, and build what the API serves.

The split: the cutoff T is the time by which `1 - test_share` of the purchases had happened. The models learn
from every interaction before T; each shopper who bought after T is asked for 10 products (without what they had
bought before T, filled from popularity as the API does), and the products they bought after T and not before
are the relevant ones (recsys/metrics.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from recsys import metrics
from recsys.interactions import PURCHASE, History
from recsys.models import (
    CO_PURCHASE,
    CO_VIEW,
    CONFIDENCE,
    Blend,
    Factors,
    FactorsConfig,
    ItemToItem,
    Popularity,
    Ranker,
    fill,
    recommend,
)
from recsys.neighbours import Vocabulary

K = 10


@dataclass
class Models:
    popularity: Popularity
    co_purchase: ItemToItem
    co_view: ItemToItem
    factors: Factors
    blend: Blend

    @property
    def rankers(self) -> list[Ranker]:
        return [self.popularity, self.co_purchase, self.co_view, self.factors, self.blend]

    def named(self, name: str) -> Ranker:
        return next(ranker for ranker in self.rankers if ranker.name == name)


def fit(history: History, config: FactorsConfig = FactorsConfig()) -> Models:
    train = history.interactions
    vocabulary = Vocabulary.of(train, history.products)
    co_purchase = ItemToItem("co-purchase", vocabulary, vocabulary.matrix(train, CO_PURCHASE))
    co_view = ItemToItem("co-view", vocabulary, vocabulary.matrix(train, CO_VIEW))
    factors = Factors(vocabulary, vocabulary.matrix(train, CONFIDENCE), config)
    return Models(Popularity(train), co_purchase, co_view, factors,
                  Blend("blend (MF + co-purchase)", [factors, co_purchase]))


def bought_by_user(history: History) -> dict[str, set[str]]:
    bought: dict[str, set[str]] = defaultdict(set)
    for interaction in history.of_kind(PURCHASE):
        bought[interaction.user_id].add(interaction.product_id)
    return bought


def cutoff_for(history: History, test_share: float) -> int:
    """The time (epoch ms) by which `1 - test_share` of the purchases had happened."""
    times = sorted(i.at for i in history.of_kind(PURCHASE))
    if len(times) < 2:
        raise ValueError("a time split needs at least two purchases in the lake")
    return times[min(len(times) - 1, max(1, int(len(times) * (1 - test_share))))]


@dataclass
class Evaluation:
    cutoff: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # per model: name, recall, ndcg, coverage, users
    train_interactions: int = 0
    test_users: int = 0

    def row(self, name: str) -> dict[str, Any]:
        return next(row for row in self.rows if row["model"] == name)

    def best(self) -> str:
        """The personalised model with the best recall@10 (NDCG breaks ties)."""
        return max((r for r in self.rows if r["model"] != "popularity"),
                   key=lambda r: (r["recall"], r["ndcg"]))["model"]

    def table(self) -> str:
        lines = [f"{'model':<26} {'recall@10':>9} {'NDCG@10':>8} {'coverage':>8}   vs popularity",
                 "-" * 66]
        base = self.row("popularity")["recall"]
        for row in self.rows:
            ratio = f"{row['recall'] / base:.2f}x" if base else "-"
            lines.append(f"{row['model']:<26} {row['recall']:>9.4f} {row['ndcg']:>8.4f} {row['coverage']:>8.4f}"
                         f"   {ratio:>6}")
        lines.append(f"{self.test_users} shoppers bought after the cutoff; "
                     f"{self.train_interactions} interactions before it")
        return "\n".join(lines)


@dataclass
class Holdout:
    """A time split: what was known before the cutoff, and what each shopper bought after it that was new."""

    cutoff: int
    train: History
    known: dict[str, set[str]]  # user -> products bought before the cutoff
    relevant: dict[str, set[str]]  # user -> products first bought at or after it

    @classmethod
    def of(cls, history: History, test_share: float) -> Holdout:
        cutoff = cutoff_for(history, test_share)
        train = history.before(cutoff)
        known = bought_by_user(train)
        relevant: dict[str, set[str]] = defaultdict(set)
        for interaction in history.of_kind(PURCHASE):
            if interaction.at >= cutoff and interaction.product_id not in known.get(interaction.user_id, ()):
                relevant[interaction.user_id].add(interaction.product_id)
        return cls(cutoff, train, known, dict(relevant))


def score(models: Models, holdout: Holdout, relevant: dict[str, set[str]], catalogue: int,
          step: Callable[[str], None] = lambda _: None) -> list[dict[str, Any]]:
    """Each model's recall@10, NDCG@10 and coverage against `relevant`, for its shoppers."""
    users = sorted(relevant)
    rows = []
    for ranker in models.rankers:
        step(f"evaluate {ranker.name}")
        lists = recommend(ranker, users, K, holdout.known, models.popularity.ranking)
        rows.append({"model": ranker.name, **metrics.evaluate(lists, relevant, catalogue, K)})
    return rows


def evaluate(history: History, test_share: float = 0.2, config: FactorsConfig = FactorsConfig(),
             step: Callable[[str], None] = lambda _: None) -> Evaluation:
    holdout = Holdout.of(history, test_share)
    step("fit on the training period")
    models = fit(holdout.train, config)
    rows = score(models, holdout, holdout.relevant, len(history.products), step)
    return Evaluation(holdout.cutoff, rows, len(holdout.train.interactions), len(holdout.relevant))


@dataclass
class Recommendations:
    """What the API serves: per shopper their candidates, per product its related ones, and the popular list."""

    users: dict[str, list[str]]
    related: dict[str, list[str]]
    popular: list[str]


def build(models: Models, served: str, history: History, candidates: int = 50, related: int = 20,
          popular: int = 200) -> Recommendations:
    """Each known shopper's `candidates` (from the model named `served`, without what they bought), each
    product's related products (co-purchase, then co-view, then the popular ones of its category)."""
    bought = bought_by_user(history)
    users = models.co_purchase.vocabulary.users
    per_user = recommend(models.named(served), users, candidates, bought, ())
    ranking = models.popularity.ranking
    by_category: dict[str, list[str]] = defaultdict(list)
    for product_id in ranking:
        by_category[str(history.products.get(product_id, {}).get("category_id"))].append(product_id)
    bought_with = models.co_purchase.rank_products()
    viewed_with = models.co_view.rank_products()
    related_lists = {}
    for product_id in models.co_purchase.vocabulary.products:
        category = str(history.products.get(product_id, {}).get("category_id"))
        chosen = fill([*bought_with.get(product_id, ()), *viewed_with.get(product_id, ())],
                      by_category.get(category, ()), related, {product_id})
        if chosen:
            related_lists[product_id] = chosen
    return Recommendations({u: c for u, c in per_user.items() if c}, related_lists, ranking[:popular])


def counts(history: History) -> dict[str, int]:
    kinds = Counter(i.kind for i in history.interactions)
    return {"interactions": len(history.interactions), **kinds, "products": len(history.products),
            "shoppers": len({i.user_id for i in history.interactions})}
