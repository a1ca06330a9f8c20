"""Answers and counts kept per index snapshot (search/kept.py), on the real tantivy index in a temp directory: what a
reader answers from what it kept is the very answer made afresh, on every page and in every sort of a scope, and a
new commit makes the next search count and search again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search import SearchIndex
from tests.unit.test_search_index import CATS, SHOP, Listing, find


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SearchIndex, SearchIndex]]:
    """(a reader that keeps nothing, a reader that keeps answers and counts) over one committed shop."""
    path = tmp_path_factory.mktemp("kept") / "search"
    writer = SearchIndex.open(path, writer_memory=30_000_000, writer_threads=1)
    writer.upsert([listing.doc() for listing in SHOP])
    writer.commit()
    writer.close()
    yield SearchIndex.open(path, read_only=True), SearchIndex.open(path, read_only=True, cache_entries=64)


@pytest.mark.parametrize("params", [
    {"q": "laptop"},
    {"q": "laptop", "sort": "price_asc", "page": 2, "page_size": 1},
    {"q": "quasar kettle"},  # nobody sells both: the relaxed query is kept with the counts
    {"q": "quasar kettle", "sort": "newest", "page": 2, "page_size": 1},
    {"q": "lapt", "brand": ["vertex", "Helix"], "price_max": 200_000},
    {"category": CATS["Electronics"], "in_stock": "true", "rating_min": 4},
    {},
])
def test_an_answer_kept_is_the_answer_made_afresh(indexes: tuple[SearchIndex, SearchIndex],
                                                  params: dict[str, Any]) -> None:
    fresh, kept = indexes
    made = find(kept, **params)
    answered = kept.cache.answers.hits
    again = find(kept, **params)
    assert again == made == find(fresh, **params)
    assert kept.cache.answers.hits == answered + 1
    again["took_ms"] = 1.0  # a caller's copy: what is kept does not change with it
    assert "took_ms" not in find(kept, **params)


def test_paging_and_resorting_reuse_the_counts_of_their_scope(indexes: tuple[SearchIndex, SearchIndex]) -> None:
    fresh, kept = indexes
    first = find(kept, q="gaming", page_size=1)
    counted = kept.cache.counts.hits
    second = find(kept, q="gaming", page=2, page_size=1)
    by_price = find(kept, q="gaming", sort="price_desc")
    assert kept.cache.counts.hits == counted + 2
    assert (second, by_price) == (find(fresh, q="gaming", page=2, page_size=1), find(fresh, q="gaming",
                                                                                     sort="price_desc"))
    assert first["total"] == second["total"] == by_price["total"] == 2
    assert {first["hits"][0]["name"], second["hits"][0]["name"]} == {h["name"] for h in by_price["hits"]}


def test_a_new_commit_is_searched_again_and_nothing_new_keeps_what_was_kept(tmp_path: Path) -> None:
    writer = SearchIndex.open(tmp_path / "search", writer_memory=30_000_000, writer_threads=1)
    reader = SearchIndex.open(tmp_path / "search", read_only=True, cache_entries=64)
    writer.upsert([SHOP[7].doc()])
    writer.commit()
    assert reader.reload() is True
    assert find(reader, q="kettle")["total"] == 1
    assert reader.reload() is False  # nothing committed since: the snapshot and what was kept stay
    assert find(reader, q="kettle")["total"] == 1 and reader.cache.answers.hits == 1

    writer.upsert([Listing(20, "Whistling Kettle", "Kitchen", "Copperpot", 2_900, tags=("kettle",)).doc()])
    writer.commit()
    assert find(reader, q="kettle")["total"] == 1  # until it reloads, a reader answers from its snapshot
    assert reader.reload() is True
    again = find(reader, q="kettle")
    assert again["total"] == 2 and again["facets"]["brands"] == [{"value": "Copperpot", "count": 2}]
    writer.close()


def test_the_oldest_answers_make_room_for_new_ones(indexes: tuple[SearchIndex, SearchIndex]) -> None:
    small = SearchIndex.open(indexes[0].path, read_only=True, cache_entries=2)
    for q in ("laptop", "phone", "kettle"):
        find(small, q=q)
    find(small, q="laptop")  # the oldest: no longer kept
    find(small, q="kettle")
    assert (small.cache.answers.hits, small.cache.answers.misses) == (1, 4)
