"""What a shopper asks the search box for: the text, the filters, the order and the page, checked once.

Pure rules, no search engine: `SearchRequest` is the validated request, `QueryText` splits the text into
"quoted phrases" and loose words without ever giving it a query syntax, and `typo_distance` says how many
typos a word may carry. Money filters are ints of minor units on the effective price (the sale price while
there is one) of a product's cheapest variant.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from domain.errors import Invalid

SORTS = ("relevance", "price_asc", "price_desc", "rating_desc", "newest", "popularity")
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 20, 100
RESULT_WINDOW = 10_000  # page * page_size: deeper pages cost the engine a top-N of that size
QUERY_MAX = 256  # characters of query text
BRANDS_MAX = 20
ID_MAX = 64
PRICE_LIMIT = 10**12
# facet buckets of the effective price in minor units: from inclusive, to exclusive (None: no upper bound)
PRICE_RANGES: tuple[tuple[int, int | None], ...] = (
    (0, 1000), (1000, 2500), (2500, 5000), (5000, 10000), (10000, 25000), (25000, 50000), (50000, 100000),
    (100000, None))
RATING_FLOORS = (4, 3, 2, 1)  # "4 stars & up", ...

_QUOTED = re.compile(r'"([^"]*)"?')
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})
_PARAMS = frozenset({"q", "category", "brand", "brands", "price_min", "price_max", "rating_min", "in_stock", "sort",
                     "page", "page_size"})


def typo_distance(word: str) -> int:
    """How many edits a word may be off by and still match: none for short words (4 letters or fewer), one for
    5 to 8 letters, two for longer ones."""
    letters = len(word)
    return 0 if letters <= 4 else 1 if letters <= 8 else 2


def price_band(price: int) -> int:
    """Which of PRICE_RANGES an effective price falls in (its index)."""
    return max(0, sum(1 for low, _ in PRICE_RANGES if price >= low) - 1)


def rating_band(rating: float) -> int:
    """The highest of RATING_FLOORS a rating reaches, 0 below them all: a floor counts every band at or above it."""
    return max((floor for floor in RATING_FLOORS if rating >= floor), default=0)


@dataclass(frozen=True, slots=True)
class QueryText:
    """The shopper's text as "quoted phrases" and the loose text around them. `completing` is true while the
    shopper may still be typing the last loose word (the text does not end with a space or a quote)."""

    phrases: tuple[str, ...]
    loose: str
    completing: bool

    @classmethod
    def parse(cls, q: str) -> QueryText:
        phrases = tuple(p.strip() for p in _QUOTED.findall(q) if p.strip())
        loose = " ".join(_QUOTED.sub(" ", q).split())
        stripped = q.rstrip()
        completing = bool(loose) and stripped == q and not stripped.endswith('"') and q.count('"') % 2 == 0
        return cls(phrases, loose, completing)

    @property
    def empty(self) -> bool:
        return not self.phrases and not self.loose


@dataclass(frozen=True, slots=True)
class SearchRequest:
    q: str = ""
    category: str | None = None  # a category id; matching includes its descendants
    brands: tuple[str, ...] = ()  # any of them, case-insensitive
    price_min: int | None = None  # minor units, inclusive, on the effective price
    price_max: int | None = None  # minor units, inclusive
    rating_min: float | None = None
    in_stock: bool | None = None  # True: only products with a variant available; False or None: all
    sort: str = "relevance"
    page: int = 1
    page_size: int = PAGE_SIZE_DEFAULT

    def __post_init__(self) -> None:
        if len(self.q) > QUERY_MAX:
            raise Invalid("query_too_long", f"A search query has at most {QUERY_MAX} characters",
                          {"length": len(self.q), "max": QUERY_MAX})
        if self.sort not in SORTS:
            raise Invalid("unknown_sort", f"sort is one of {', '.join(SORTS)}", {"sort": self.sort})
        if self.page_size > PAGE_SIZE_MAX:
            raise Invalid("page_size_too_large", f"page_size is at most {PAGE_SIZE_MAX}",
                          {"page_size": self.page_size, "max": PAGE_SIZE_MAX})
        if self.page_size < 1:
            _bad("page_size", "page_size is at least 1", self.page_size)
        if self.page < 1:
            _bad("page", "page starts at 1", self.page)
        if self.page * self.page_size > RESULT_WINDOW:
            _bad("page", f"Results are paged up to the first {RESULT_WINDOW}; narrow the search", self.page)
        for name in ("price_min", "price_max"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < PRICE_LIMIT:
                _bad(name, "A price is a non-negative amount in minor units", value)
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise Invalid("invalid_price_range", "price_min cannot be above price_max",
                          {"price_min": self.price_min, "price_max": self.price_max})
        if self.rating_min is not None and not (math.isfinite(self.rating_min) and 0 <= self.rating_min <= 5):
            _bad("rating_min", "rating_min is 0 to 5", self.rating_min)
        if self.category is not None and not 1 <= len(self.category) <= ID_MAX:
            _bad("category", "category is a category id", self.category)
        if len(self.brands) > BRANDS_MAX or any(not 1 <= len(b) <= 80 for b in self.brands):
            _bad("brand", f"At most {BRANDS_MAX} brands of 1 to 80 characters", list(self.brands))

    @property
    def text(self) -> QueryText:
        return QueryText.parse(self.q)

    @classmethod
    def from_params(cls, **raw: Any) -> SearchRequest:
        """A checked request from query parameters (strings, or values already typed); None means absent.
        `brand` may repeat (a list) and is an alias of `brands`."""
        unknown = sorted(set(raw) - _PARAMS)
        if unknown:
            _bad(unknown[0], "Unknown search parameter", raw[unknown[0]])
        given = {k: v for k, v in raw.items() if v is not None}
        q = given.get("q", "")
        if not isinstance(q, str):
            _bad("q", "q is text", q)
        sort = given.get("sort") or "relevance"
        if not isinstance(sort, str):
            raise Invalid("unknown_sort", f"sort is one of {', '.join(SORTS)}", {"sort": sort})
        category = given.get("category") or None
        if category is not None and not isinstance(category, str):
            _bad("category", "category is a category id", category)
        return cls(
            q=q, category=category, brands=_brands(given.get("brands"), given.get("brand")),
            price_min=_integer(given, "price_min"), price_max=_integer(given, "price_max"),
            rating_min=_number(given, "rating_min"), in_stock=_flag(given, "in_stock"), sort=sort,
            page=_or(_integer(given, "page"), 1), page_size=_or(_integer(given, "page_size"), PAGE_SIZE_DEFAULT))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _bad(parameter: str, message: str, value: Any) -> None:
    shown = value if not isinstance(value, str) else value[:100]
    raise Invalid("invalid_parameter", message, {"parameter": parameter, "value": shown})


def _brands(*values: Any) -> tuple[str, ...]:
    found: dict[str, str] = {}  # casefolded -> as given first
    for value in values:
        if value is None:
            continue
        items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
        if items is None or not all(isinstance(item, str) for item in items):
            _bad("brand", "brand is text", value)
            continue
        for item in items:
            brand = " ".join(item.split())
            if brand:
                found.setdefault(brand.casefold(), brand)
    return tuple(found.values())


def _integer(given: dict[str, Any], name: str) -> int | None:
    value = given.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,15}", value.strip()):
        return int(value)
    _bad(name, f"{name} is a whole number", value)
    return None  # unreachable: _bad raises


def _number(given: dict[str, Any], name: str) -> float | None:
    value = given.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?(\d{1,3}(\.\d{0,6})?|\.\d{1,6})", value.strip()):
        return float(value)
    _bad(name, f"{name} is a number", value)
    return None  # unreachable


def _flag(given: dict[str, Any], name: str) -> bool | None:
    value = given.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    _bad(name, f"{name} is true or false", value)
    return None  # unreachable
