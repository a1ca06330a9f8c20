"""recall@k, NDCG@k and coverage on cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from recsys.metrics import coverage, evaluate, ndcg_at_k, recall_at_k


def test_recall_counts_the_relevant_products_in_the_first_k() -> None:
    assert recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, k=4) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "b", "c", "d"], {"b", "d", "z"}, k=2) == pytest.approx(1 / 3)  # d is 4th
    assert recall_at_k(["a"], {"x"}, k=10) == 0.0


def test_ndcg_discounts_a_hit_by_its_rank() -> None:
    # one relevant product, found 2nd: DCG = 1/log2(3), ideal = 1/log2(2) = 1
    assert ndcg_at_k(["a", "b", "c"], {"b"}, k=3) == pytest.approx(1 / math.log2(3))
    # two relevant, at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at_k(["a", "b", "c"], {"a", "c"}, k=3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a", "b"], {"a", "b"}, k=2) == pytest.approx(1.0)
    # more relevant products than k: the ideal list is k hits
    assert ndcg_at_k(["a", "x"], {"a", "b", "c"}, k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_metrics_refuse_a_shopper_with_nothing_relevant() -> None:
    with pytest.raises(ValueError):
        recall_at_k(["a"], set(), 10)
    with pytest.raises(ValueError):
        ndcg_at_k(["a"], set(), 10)


def test_coverage_is_the_share_of_the_catalogue_shown_in_anyones_first_k() -> None:
    assert coverage([["a", "b", "c"], ["b", "d"]], catalogue_size=10, k=2) == pytest.approx(3 / 10)  # a, b, d
    assert coverage([], catalogue_size=10, k=2) == 0.0
    assert coverage([["a"]], catalogue_size=0, k=2) == 0.0


def test_evaluate_averages_over_shoppers_with_something_relevant() -> None:
    lists = {"ann": ["a", "b"], "bob": ["c", "d"]}
    relevant = {"ann": {"a"}, "bob": {"x", "y"}, "cy": set(), "dee": {"a"}}  # cy is left out; dee got no list
    result = evaluate(lists, relevant, catalogue_size=8, k=2)
    assert result["users"] == 3
    assert result["recall"] == pytest.approx((1 + 0 + 0) / 3)
    assert result["ndcg"] == pytest.approx((1 + 0 + 0) / 3)
    assert result["coverage"] == pytest.approx(4 / 8)
