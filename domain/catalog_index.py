"""The catalog's browse index: which products a listing shows (category subtree, brand, seller, status) and in
what order (newest first, ties broken by id, so pages never repeat or skip a product)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.catalog import Product
from domain.errors import Invalid
from domain.search import RESULT_WINDOW

PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 20, 100
# below this share of the catalog, sorting the matches beats walking the whole newest-first order
_SORT_SHARE = 16


@dataclass(frozen=True)
class ProductQuery:
    category_ids: frozenset[str] | None = None  # a category and its descendants; None: every category
    brand: str | None = None
    seller_id: str | None = None
    statuses: frozenset[str] = frozenset({"active"})
    page: int = 1
    page_size: int = PAGE_SIZE_DEFAULT
    include_suspended: bool = False  # the listings of suspended sellers too (their owner's and admins' views)

    def __post_init__(self) -> None:
        check_page(self.page, self.page_size)


def check_page(page: int, page_size: int) -> None:
    """A listing page that may be served. As search, the first RESULT_WINDOW results only: a deeper page would walk
    that much of the catalog's order in the one catalog actor, so it is refused before it gets there."""
    if page < 1:
        raise Invalid("invalid_page", "page starts at 1", {"page": page})
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise Invalid("invalid_page_size", f"page_size is 1 to {PAGE_SIZE_MAX}", {"page_size": page_size})
    if page * page_size > RESULT_WINDOW:
        raise Invalid("invalid_page", f"Results are paged up to the first {RESULT_WINDOW}; narrow the listing",
                      {"page": page, "page_size": page_size, "max_results": RESULT_WINDOW})


def brand_key(brand: str) -> str:
    return " ".join(brand.split()).casefold()


@dataclass(frozen=True)
class _Entry:
    sort_key: tuple[str, str]
    category_id: str
    brand: str
    seller_id: str | None
    status: str
    suspended: bool = False


class ProductIndex:
    def __init__(self, products: Iterable[Product] = ()) -> None:
        self._entries: dict[str, _Entry] = {}
        self._sets: dict[tuple[str, Any], set[str]] = {}
        self._order: list[tuple[str, str]] = []  # oldest first; new products append at the end
        for product in products:
            self._add(product, ordered=False)
        self._order.sort()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, product: Product) -> None:
        """Index a new product or re-index a changed one."""
        old = self._entries.get(product.id)
        if old is None:
            self._add(product, ordered=True)
            return
        for facet in self._facets(old):
            self._sets[facet].discard(product.id)
        entry = self._entry(product)
        self._entries[product.id] = entry
        for facet in self._facets(entry):
            self._sets.setdefault(facet, set()).add(product.id)

    def query(self, query: ProductQuery) -> tuple[list[str], int]:
        """One page of product ids, newest first, and how many products match in all."""
        matches = self._matches(query)
        hidden = self._sets.get(("suspended", True))
        if hidden and not query.include_suspended:
            matches = matches - hidden
        total = len(matches)
        start = (query.page - 1) * query.page_size
        if start >= total:
            return [], total
        if total * _SORT_SHARE < len(self._order):
            ranked = sorted(matches, key=lambda pid: self._entries[pid].sort_key, reverse=True)
            return ranked[start:start + query.page_size], total
        page: list[str] = []
        seen = 0
        for _, product_id in reversed(self._order):
            if product_id in matches:
                seen += 1
                if seen > start:
                    page.append(product_id)
                    if len(page) == query.page_size:
                        break
        return page, total

    def _matches(self, query: ProductQuery) -> set[str]:
        groups: list[set[str]] = [self._union("status", query.statuses)]
        if query.category_ids is not None:
            groups.append(self._union("category", query.category_ids))
        if query.brand is not None:
            groups.append(self._sets.get(("brand", brand_key(query.brand)), set()))
        if query.seller_id is not None:
            groups.append(self._sets.get(("seller", query.seller_id), set()))
        groups.sort(key=len)
        smallest, others = groups[0], groups[1:]
        if not others:
            return smallest
        return {pid for pid in smallest if all(pid in group for group in others)}

    def _union(self, facet: str, values: Iterable[str]) -> set[str]:
        sets = [self._sets[(facet, v)] for v in values if (facet, v) in self._sets]
        if len(sets) == 1:
            return sets[0]
        return set().union(*sets)

    def _add(self, product: Product, ordered: bool) -> None:
        entry = self._entry(product)
        self._entries[product.id] = entry
        for facet in self._facets(entry):
            self._sets.setdefault(facet, set()).add(product.id)
        if ordered and self._order and entry.sort_key < self._order[-1]:
            bisect.insort(self._order, entry.sort_key)
        else:
            self._order.append(entry.sort_key)

    @staticmethod
    def _entry(product: Product) -> _Entry:
        return _Entry((product.created_at, product.id), product.category_id, brand_key(product.brand),
                      product.seller_id, product.status, product.seller_suspended)

    @staticmethod
    def _facets(entry: _Entry) -> list[tuple[str, Any]]:
        return [("category", entry.category_id), ("brand", entry.brand), ("seller", entry.seller_id),
                ("status", entry.status), ("suspended", entry.suspended)]

    def of_seller(self, seller_id: str) -> set[str]:
        """The ids of every product of one seller, whatever its status."""
        return set(self._sets.get(("seller", seller_id), ()))
