"""Ranking metrics of a recommender on a hold-out: recall@k, NDCG@k and catalogue coverage.

Relevance is binary (a product the shopper bought in the hold-out is relevant). Per shopper:
- recall@k = relevant products among the first k recommended / relevant products;
- NDCG@k = DCG@k / IDCG@k, where DCG@k sums 1 / log2(rank + 1) over the relevant products at ranks 1..k and
  IDCG@k is the DCG of a perfect list (min(k, relevant) hits at the top).
Both are averaged over the shoppers with at least one relevant product. Coverage is the share of the catalogue
that appears in at least one shopper's first k recommendations.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence


def recall_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        raise ValueError("recall is undefined without a relevant product")
    hits = sum(1 for product in recommended[:k] if product in relevant)
    return hits / len(relevant)


def ndcg_at_k(recommended: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        raise ValueError("NDCG is undefined without a relevant product")
    dcg = sum(1 / math.log2(rank + 1) for rank, product in enumerate(recommended[:k], start=1) if product in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal


def coverage(lists: Iterable[Sequence[str]], catalogue_size: int, k: int) -> float:
    if catalogue_size <= 0:
        return 0.0
    shown = {product for recommended in lists for product in recommended[:k]}
    return len(shown) / catalogue_size


def evaluate(recommended: Mapping[str, Sequence[str]], relevant: Mapping[str, Collection[str]],
             catalogue_size: int, k: int = 10) -> dict[str, float]:
    """The three metrics over the shoppers of `relevant` (those with a relevant product); a shopper without a
    list counts as recommended nothing."""
    users = [user for user, products in relevant.items() if products]
    if not users:
        return {"recall": 0.0, "ndcg": 0.0, "coverage": 0.0, "users": 0}
    lists = [recommended.get(user, ()) for user in users]
    return {
        "recall": sum(recall_at_k(r, relevant[u], k) for u, r in zip(users, lists, strict=True)) / len(users),
        "ndcg": sum(ndcg_at_k(r, relevant[u], k) for u, r in zip(users, lists, strict=True)) / len(users),
        "coverage": coverage(lists, catalogue_size, k),
        "users": len(users),
    }
