"""Facet counts the way shoppers expect them: each facet counts over the query with every filter except its own.

Ticking a brand must not make the other brands disappear from the brand list, but it does narrow the category
and price counts. So the facets whose own filter is not set share one aggregation over the full query, and each
facet whose own filter is set gets one over the query without that filter: at most four aggregations, usually one.

Every facet counts one single-valued fast field (counting a multi-valued field is ten times slower): a product's
whole category path is one `cat_key` term, rolled up here into a count per category; prices and ratings were put
in their bucket when indexed (`price_band`, `rating_band`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from domain.search import PRICE_RANGES, RATING_FLOORS, SearchRequest

CATEGORY_FACET_SIZE = 50  # categories with the most matches (a category counts its subcategories' products)
CATEGORY_PATHS_MAX = 10_000  # distinct category paths counted exactly
BRAND_FACET_SIZE = 50
# facet -> the filter that narrows it (query_builder.FILTERS names)
FACETS: dict[str, str] = {"categories": "category", "brands": "brands", "price_ranges": "price", "ratings": "rating"}
_AGGREGATIONS: dict[str, dict[str, Any]] = {
    "categories": {"terms": {"field": "cat_key", "size": CATEGORY_PATHS_MAX}},
    # brands are counted as shown and merged case-insensitively, so ask for a few more than we keep
    "brands": {"terms": {"field": "brand_name", "size": BRAND_FACET_SIZE * 2}},
    "price_ranges": {"terms": {"field": "price_band", "size": len(PRICE_RANGES)}},
    "ratings": {"terms": {"field": "rating_band", "size": len(RATING_FLOORS) + 1}},
}


def filter_is_set(request: SearchRequest, name: str) -> bool:
    return {"category": request.category is not None, "brands": bool(request.brands),
            "price": request.price_min is not None or request.price_max is not None,
            "rating": request.rating_min is not None, "in_stock": bool(request.in_stock)}[name]


def facet_groups(request: SearchRequest) -> list[tuple[str | None, tuple[str, ...]]]:
    """(the filter to leave out or None, the facets counted over that query), the shared group first."""
    shared = tuple(facet for facet, own in FACETS.items() if not filter_is_set(request, own))
    groups: list[tuple[str | None, tuple[str, ...]]] = [(None, shared)] if shared else []
    groups += [(own, (facet,)) for facet, own in FACETS.items() if filter_is_set(request, own)]
    return groups


def aggregations(facets: tuple[str, ...]) -> dict[str, Any]:
    """The aggregation request (Elasticsearch style, over fast fields) for these facets."""
    return {facet: _AGGREGATIONS[facet] for facet in facets}


def read_facets(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The facets of an aggregation result in the contract's shape."""
    readers = {"categories": categories, "brands": brands, "price_ranges": price_ranges, "ratings": ratings}
    return {facet: readers[facet](_counts(value)) for facet, value in result.items() if facet in readers}


def _counts(result: dict[str, Any]) -> dict[Any, int]:
    return {bucket["key"]: int(bucket["doc_count"]) for bucket in result.get("buckets", [])}


def categories(paths: dict[Any, int]) -> list[dict[str, Any]]:
    """Each category counts the products whose path (the category and its ancestors) holds it."""
    totals: dict[str, int] = defaultdict(int)
    for path, count in paths.items():
        for category_id in str(path).split():
            totals[category_id] += count
    ordered = sorted((item for item in totals.items() if item[1] > 0), key=lambda item: (-item[1], item[0]))
    return [{"value": value, "count": count} for value, count in ordered[:CATEGORY_FACET_SIZE]]


def brands(shown: dict[Any, int]) -> list[dict[str, Any]]:
    """Spellings of one brand ("Vertex", "VERTEX") are one entry, shown as its most common spelling."""
    totals: dict[str, int] = defaultdict(int)
    best: dict[str, tuple[int, str]] = {}
    for name, count in ((str(name), count) for name, count in shown.items()):
        key = " ".join(name.split()).casefold()
        if not key or count <= 0:
            continue
        totals[key] += count
        best[key] = max(best.get(key, (count, name)), (count, name))
    ordered = sorted(totals, key=lambda key: (-totals[key], key))
    return [{"value": best[key][1], "count": totals[key]} for key in ordered[:BRAND_FACET_SIZE]]


def price_ranges(bands: dict[Any, int]) -> list[dict[str, Any]]:
    return [{"from": low, "to": high, "count": bands.get(band, 0)}
            for band, (low, high) in enumerate(PRICE_RANGES)]


def ratings(bands: dict[Any, int]) -> list[dict[str, Any]]:
    """"4 stars & up" counts the products rated 4 or more, so it includes none below and all above."""
    return [{"value": floor, "count": sum(n for band, n in bands.items() if int(band) >= floor)}
            for floor in RATING_FLOORS]
