"""The recommenders: popularity, item-to-item (co-purchase, co-view), matrix factorisation, and a blend.

Each ranks products for shoppers (`rank(user_ids, n)`: user -> up to n products, best first, bought ones
included); `recommend` then drops what a shopper already bought and fills what is missing from popularity, as the
API does, so every model is compared on full lists.

Matrix factorisation is the `implicit` library's alternating least squares on a shoppers x products matrix of
confidences (a purchase weighs 1, an add to cart 0.5, a view 0.1, summed per pair; implicit's confidence is
1 + alpha x that). The defaults were chosen on the simulator's lakes (simulation/synthetic.py, 0.5 and 2 million
events) and the seeded test world: BM25 weighting, a larger alpha and heavier views each did worse there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from recsys.interactions import CART, PURCHASE, VIEW, Interaction
from recsys.neighbours import Vocabulary, neighbour_lists, similarity

CO_PURCHASE = {PURCHASE: 1.0}
CO_VIEW = {VIEW: 1.0, CART: 1.0}
CONFIDENCE = {PURCHASE: 1.0, CART: 0.5, VIEW: 0.1}
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)


class Ranker(Protocol):
    name: str

    def rank(self, user_ids: Sequence[str], n: int) -> dict[str, list[str]]: ...


@dataclass(frozen=True)
class FactorsConfig:
    factors: int = 64
    iterations: int = 15
    regularization: float = 1.0
    alpha: float = 0.3
    seed: int = 7


class Popularity:
    """The products bought most in the training period (every interaction counts when nothing was bought)."""

    name = "popularity"

    def __init__(self, interactions: Iterable[Interaction]) -> None:
        found = list(interactions)
        bought = Counter(i.product_id for i in found if i.kind == PURCHASE)
        counts = bought or Counter(i.product_id for i in found)
        self.ranking = [product for product, _ in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))]

    def rank(self, user_ids: Sequence[str], n: int) -> dict[str, list[str]]:
        return {user: self.ranking[:n] for user in user_ids}


class ItemToItem:
    """Products similar to those in the shopper's history, scored by the sum of their similarities."""

    def __init__(self, name: str, vocabulary: Vocabulary, history: sp.csr_matrix, per_product: int = 50) -> None:
        self.name = name
        self.vocabulary = vocabulary
        self.history = (history > 0).astype(np.float32).tocsr()
        self.similar = similarity(history, per_product)

    def rank(self, user_ids: Sequence[str], n: int) -> dict[str, list[str]]:
        known = [user for user in user_ids if user in self.vocabulary.user_row]
        rows = [self.vocabulary.user_row[user] for user in known]
        if not rows:
            return {}
        scores = (self.history[rows] @ self.similar).tocsr()
        ranked = {}
        for i, user in enumerate(known):
            start, end = scores.indptr[i], scores.indptr[i + 1]
            data, columns = scores.data[start:end], scores.indices[start:end]
            order = np.lexsort((columns, -data))[:n]
            ranked[user] = [self.vocabulary.products[c] for c in columns[order]]
        return ranked

    def rank_products(self) -> dict[str, list[str]]:
        """product_id -> its neighbours, most similar first."""
        return neighbour_lists(self.similar, self.vocabulary.products)


class Factors:
    """Implicit-feedback matrix factorisation (implicit's ALS); shoppers it never saw get nothing."""

    name = "matrix factorisation"

    def __init__(self, vocabulary: Vocabulary, confidence: sp.csr_matrix, config: FactorsConfig = FactorsConfig()
                 ) -> None:
        from implicit.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        self.vocabulary = vocabulary
        with threadpool_limits(1, "blas"):  # implicit runs its own threads; BLAS's would fight them
            model = AlternatingLeastSquares(factors=config.factors, iterations=config.iterations,
                                            regularization=config.regularization, alpha=config.alpha,
                                            random_state=config.seed)
            model.fit(confidence, show_progress=False)
        self.users = np.asarray(model.user_factors)
        self.products = np.asarray(model.item_factors)

    def rank(self, user_ids: Sequence[str], n: int, batch: int = 2048) -> dict[str, list[str]]:
        known = [user for user in user_ids if user in self.vocabulary.user_row]
        ranked: dict[str, list[str]] = {}
        n = min(n, len(self.vocabulary.products))
        for start in range(0, len(known), batch):
            chunk = known[start:start + batch]
            scores = self.users[[self.vocabulary.user_row[u] for u in chunk]] @ self.products.T
            best = np.argpartition(-scores, n - 1, axis=1)[:, :n] if n < scores.shape[1] else \
                np.tile(np.arange(scores.shape[1]), (len(chunk), 1))
            for i, user in enumerate(chunk):
                columns = best[i][np.argsort(-scores[i, best[i]], kind="stable")]
                ranked[user] = [self.vocabulary.products[c] for c in columns]
        return ranked


class Blend:
    """Reciprocal rank fusion of several rankers' lists: a product's score is the sum of 1 / (60 + rank)."""

    def __init__(self, name: str, rankers: Sequence[Ranker]) -> None:
        self.name = name
        self.rankers = rankers

    def rank(self, user_ids: Sequence[str], n: int) -> dict[str, list[str]]:
        lists = [ranker.rank(user_ids, n) for ranker in self.rankers]
        ranked = {}
        for user in user_ids:
            scores: dict[str, float] = {}
            for found in lists:
                for position, product in enumerate(found.get(user, ()), start=1):
                    scores[product] = scores.get(product, 0.0) + 1 / (RRF_K + position)
            if scores:
                ranked[user] = sorted(scores, key=lambda p: (-scores[p], p))[:n]
        return ranked


def recommend(ranker: Ranker, user_ids: Sequence[str], k: int, bought: Mapping[str, set[str]],
              popular: Sequence[str]) -> dict[str, list[str]]:
    """Each shopper's k products: the ranker's, without what they bought, then popular ones to fill."""
    most = max((len(bought.get(user, ())) for user in user_ids), default=0)
    ranked = ranker.rank(user_ids, k + most)
    return {user: fill(ranked.get(user, ()), popular, k, bought.get(user, set())) for user in user_ids}


def fill(ranked: Iterable[str], popular: Iterable[str], k: int, excluded: set[str]) -> list[str]:
    chosen: list[str] = []
    seen = set(excluded)
    for source in (ranked, popular):
        for product in source:
            if len(chosen) == k:
                return chosen
            if product not in seen:
                seen.add(product)
                chosen.append(product)
    return chosen
