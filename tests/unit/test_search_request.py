"""What the search box accepts, without a search engine: parameters checked once, typo budgets, quoted phrases."""

from __future__ import annotations

import pytest

from domain.errors import Invalid
from domain.search import (
    PRICE_RANGES,
    RATING_FLOORS,
    QueryText,
    SearchRequest,
    price_band,
    rating_band,
    typo_distance,
)


def refused(code: str, **params: object) -> Invalid:
    with pytest.raises(Invalid) as caught:
        SearchRequest.from_params(**params)
    assert caught.value.code == code, caught.value
    return caught.value


def test_query_parameters_arrive_as_text_and_become_a_typed_request() -> None:
    request = SearchRequest.from_params(q="trail shoes", category="cat_1", brand=["Stride", "stride ", "Trailhead"],
                                        price_min="2500", price_max="10000", rating_min="4", in_stock="true",
                                        sort="price_asc", page="2", page_size="50")
    assert request == SearchRequest(q="trail shoes", category="cat_1", brands=("Stride", "Trailhead"),
                                    price_min=2500, price_max=10000, rating_min=4.0, in_stock=True,
                                    sort="price_asc", page=2, page_size=50)


def test_a_bare_search_lists_everything_by_relevance_twenty_to_a_page() -> None:
    request = SearchRequest.from_params(q=None, category="", brand=None, in_stock="", sort=None, page=None)
    assert request == SearchRequest()
    assert (request.q, request.sort, request.page, request.page_size) == ("", "relevance", 1, 20)
    assert request.text.empty


def test_the_contract_names_each_bad_input() -> None:
    assert refused("page_size_too_large", page_size="101").details == {"page_size": 101, "max": 100}
    refused("invalid_price_range", price_min=5000, price_max=4999)
    refused("unknown_sort", sort="cheapest")
    refused("query_too_long", q="x" * 10_000)
    assert SearchRequest.from_params(q="x" * 256).q == "x" * 256


@pytest.mark.parametrize("params", [
    {"page_size": "0"}, {"page": "0"}, {"page": "-1"}, {"page": "abc"}, {"page_size": "1e3"},
    {"price_min": "-1"}, {"price_max": "12.50"}, {"price_min": True}, {"rating_min": "6"}, {"rating_min": "nan"},
    {"rating_min": "four"}, {"in_stock": "maybe"}, {"brand": ["x" * 81]}, {"brand": [f"b{i}" for i in range(21)]},
    {"category": "c" * 65}, {"q": 42}, {"colour": "red"}, {"page": "501", "page_size": "20"},
])
def test_other_bad_parameters_are_an_invalid_parameter(params: dict[str, object]) -> None:
    error = refused("invalid_parameter", **params)
    assert error.details["parameter"] in {*params, "brand"}


def test_a_request_built_directly_is_checked_the_same_way() -> None:
    with pytest.raises(Invalid) as caught:
        SearchRequest(sort="rating_asc")
    assert caught.value.code == "unknown_sort"
    with pytest.raises(Invalid):
        SearchRequest(price_min=10, price_max=5)


def test_longer_words_may_carry_more_typos() -> None:
    assert [typo_distance(w) for w in ("cat", "shoe", "boots", "labtop", "sneakers", "headphone", "refrigerator")] \
        == [0, 0, 1, 1, 1, 2, 2]


def test_quoted_text_is_a_phrase_and_the_rest_is_loose_words() -> None:
    text = QueryText.parse('red "trail running" shoes')
    assert (text.phrases, text.loose, text.completing) == (("trail running",), "red shoes", True)
    assert QueryText.parse("lapt").completing
    assert not QueryText.parse("laptop ").completing
    assert not QueryText.parse('"gaming laptop"').completing
    assert QueryText.parse('  "" ').empty
    unclosed = QueryText.parse('AND OR NOT "(title:[* TO *]')
    assert unclosed.phrases == ("(title:[* TO *]",) and unclosed.loose == "AND OR NOT"


def test_prices_and_ratings_fall_in_the_facet_buckets_a_shopper_sees() -> None:
    assert [price_band(p) for p in (0, 999, 1000, 2499, 99_999, 100_000, 10**9)] == [0, 0, 1, 1, 6, 7, 7]
    assert len(PRICE_RANGES) == 8 and PRICE_RANGES[-1] == (100_000, None)
    assert [rating_band(r) for r in (0.0, 0.99, 1.0, 3.99, 4.0, 5.0)] == [0, 0, 1, 3, 4, 4]
    assert RATING_FLOORS == (4, 3, 2, 1)
