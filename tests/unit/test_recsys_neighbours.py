"""Item-to-item neighbours: products bought by the same shoppers, most similar first."""

from __future__ import annotations

import pytest

from recsys.interactions import PURCHASE, VIEW, Interaction
from recsys.models import CO_PURCHASE, ItemToItem, Popularity, fill, recommend
from recsys.neighbours import Vocabulary, similarity


def bought(*pairs: tuple[str, str]) -> list[Interaction]:
    return [Interaction(user, product, PURCHASE, n) for n, (user, product) in enumerate(pairs)]


# ann and bob bought the tent and the stove; cy bought the tent and a lamp; dee only the stove; eve a book
HISTORY = bought(("ann", "tent"), ("ann", "stove"), ("bob", "tent"), ("bob", "stove"), ("cy", "tent"),
                 ("cy", "lamp"), ("dee", "stove"), ("eve", "book"))


def test_customers_who_bought_the_tent_also_bought_the_stove_first() -> None:
    vocabulary = Vocabulary.of(HISTORY)
    model = ItemToItem("co-purchase", vocabulary, vocabulary.matrix(HISTORY, CO_PURCHASE))
    related = model.rank_products()
    # tent: 3 buyers, stove: 3, lamp: 1; tent & stove share 2 -> 2/3; tent & lamp share 1 -> 1/sqrt(3) = 0.577
    assert related["tent"] == ["stove", "lamp"]
    assert related["lamp"] == ["tent"]
    assert "book" not in related  # nobody bought it with anything


def test_similarity_is_the_cosine_of_the_buyers() -> None:
    vocabulary = Vocabulary.of(HISTORY)
    similar = similarity(vocabulary.matrix(HISTORY, CO_PURCHASE), per_product=10).toarray()
    tent, stove, lamp = (vocabulary.product_column[p] for p in ("tent", "stove", "lamp"))
    assert similar[tent, stove] == pytest.approx(2 / 3)
    assert similar[tent, lamp] == pytest.approx(1 / 3 ** 0.5)
    assert similar[tent, tent] == 0


def test_only_the_best_neighbours_are_kept() -> None:
    vocabulary = Vocabulary.of(HISTORY)
    similar = similarity(vocabulary.matrix(HISTORY, CO_PURCHASE), per_product=1)
    assert similar[vocabulary.product_column["tent"]].nnz == 1


def test_views_do_not_count_as_purchases() -> None:
    history = [*HISTORY, Interaction("eve", "tent", VIEW, 99)]
    vocabulary = Vocabulary.of(history)
    related = ItemToItem("co-purchase", vocabulary, vocabulary.matrix(history, CO_PURCHASE)).rank_products()
    assert "book" not in related.get("tent", [])


def test_a_shopper_is_recommended_neighbours_of_what_they_bought_never_what_they_bought() -> None:
    vocabulary = Vocabulary.of(HISTORY)
    model = ItemToItem("co-purchase", vocabulary, vocabulary.matrix(HISTORY, CO_PURCHASE))
    popular = Popularity(HISTORY).ranking
    assert popular[:2] == ["stove", "tent"]  # three buyers each; ties by id
    lists = recommend(model, ["dee", "newcomer"], 3, {"dee": {"stove"}}, popular)
    assert lists["dee"][0] == "tent" and "stove" not in lists["dee"]
    assert lists["newcomer"] == popular[:3]  # nothing known: the popular ones


def test_fill_skips_excluded_and_repeated_products() -> None:
    assert fill(["a", "b", "a"], ["b", "c", "d"], 3, {"c"}) == ["a", "b", "d"]
