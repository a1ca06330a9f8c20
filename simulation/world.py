"""The simulated world: a catalog, shoppers with hidden tastes, and a few fraudulent actors.

Both the HTTP simulator (`simulation/simulate.py`) and the synthetic lake generator (`simulation/synthetic.py`)
draw from one `World`, so what a shopper looks at and buys follows the same tastes in both. A world is a pure
function of its catalog, its size and its seed: no clock, no I/O, nothing from the shop.

Tastes (hidden from the shop, revealed only by `ground_truth()`):
- 1-2 favourite categories and 1-2 favourite brands (brands sold in a favourite category where there are any);
- a price band: what the shopper will pay for one unit, from the catalog's price quantiles.

Product choice (`pick_products`, vectorised, one draw per shopper index given): with probability `TASTE_SHARE`
a product of a favourite category, of a favourite brand when that category sells one (`BRAND_SHARE`), else a
product of the whole catalog by popularity (a Zipf law over a fixed, seeded ranking). Buying is likelier inside
the price band (`buy_weight`).

Fraud (`FRAUD_PATTERNS`): a `FRAUD_SHARE` of shoppers are fraudulent actors with one pattern each; every order
they place from their `takeover_day` on is fraud (`fraud_on`), and the simulator files a chargeback for it some days
later:
- `stolen_card_burst`: a new account placing several orders within an hour or so, each on another stolen card (4-8
  cards, issued anywhere, far countries included), soon after signing up;
- `many_cards`: an account cycling through 4-8 cards of many countries over its visits;
- `far_shipping`: goods sent to a far country on a card issued at home;
- `unusual_amount`: an account taken over: honest until its takeover day, then big baskets on another card (its
  second, issued near or far).
Honest shoppers are not spotless: some hold a second card, a few a card of another country (expatriates).
Cards are the sandbox's (`domain.cards.sandbox_card_number`), so the shop's BIN table finds the country the world
gave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson

from domain.cards import sandbox_card_number
from lake.files import write_atomically

FraudPattern = Literal["stolen_card_burst", "many_cards", "far_shipping", "unusual_amount"]
FRAUD_PATTERNS: tuple[FraudPattern, ...] = ("stolen_card_burst", "many_cards", "far_shipping", "unusual_amount")
FRAUD_SHARE = 0.04
TASTE_SHARE = 0.75  # of product picks made from a favourite category
BRAND_SHARE = 0.5  # of those, from a favourite brand when the category sells one
ZIPF = 1.1  # popularity of the catalog outside a shopper's tastes
COUNTRIES = ("US", "US", "US", "US", "CA", "GB", "DE", "FR")  # where honest shoppers live (and their cards)
FAR_COUNTRIES = ("NG", "RU", "BR", "IN", "CN")  # far from them (the sandbox issues cards in each: domain/cards.py)
SECOND_CARD_SHARE, EXPAT_SHARE = 0.25, 0.04  # of honest shoppers: a second card; a card of another country


@dataclass(frozen=True)
class Variant:
    id: str
    price: int  # minor units, what a unit sells for


@dataclass(frozen=True)
class Product:
    id: str
    category_id: str
    brand: str
    variants: tuple[Variant, ...]
    name: str = ""

    @property
    def price(self) -> int:
        return min(variant.price for variant in self.variants)


@dataclass(frozen=True)
class Card:
    number: str  # a Luhn-valid test number the sandbox authorizes
    country: str  # where it was issued (the world knows; the shop may not)


@dataclass(frozen=True)
class Taste:
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    price_band: tuple[int, int]  # minor units, inclusive


@dataclass
class Shopper:
    key: str  # the world's own name for the shopper, e.g. s000042
    taste: Taste
    country: str
    cards: list[Card]
    signup_day: int  # the simulated day the shopper registers (0 = the first)
    visit_rate: float  # chance of coming back on a given day
    fraud: FraudPattern | None = None
    user_id: str | None = None  # the shop's id, once registered (`World.bind`)
    takeover_day: int = 0  # a fraudster's orders are fraud from this day on (an account taken over: later)


@dataclass
class OrderTruth:
    order_id: str
    shopper: str  # Shopper.key
    day: int
    total: int
    fraud: bool
    pattern: FraudPattern | None = None


@dataclass
class World:
    seed: int
    products: list[Product]
    shoppers: list[Shopper]
    days: int
    orders: list[OrderTruth] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index_catalog()

    # -- the catalog, indexed for vectorised picks ------------------------------------------------------
    def _index_catalog(self) -> None:
        """Products ordered by (category, brand), so a category and a (category, brand) are each one contiguous
        range of `self.order`; popularity is a seeded ranking of all products."""
        rng = np.random.default_rng([self.seed, 1])
        products = self.products
        keys = sorted(range(len(products)), key=lambda i: (products[i].category_id, products[i].brand, i))
        self.order = np.asarray(keys, dtype=np.int64)
        self.category_range: dict[str, tuple[int, int]] = {}
        self.brand_range: dict[tuple[str, str], tuple[int, int]] = {}
        for position, i in enumerate(keys):
            product = self.products[i]
            start, _ = self.category_range.get(product.category_id, (position, position))
            self.category_range[product.category_id] = (start, position + 1)
            pair = (product.category_id, product.brand)
            start, _ = self.brand_range.get(pair, (position, position))
            self.brand_range[pair] = (start, position + 1)
        weights = 1.0 / np.arange(1, len(self.products) + 1) ** ZIPF
        self.popularity_order = rng.permutation(len(self.products))
        self.popularity_cdf = np.cumsum(weights) / weights.sum()
        self.prices = np.asarray([product.price for product in self.products], dtype=np.int64)
        # per shopper: the ranges its taste picks from (two slots each; a single favourite fills both)
        n = len(self.shoppers)
        self.taste_ranges = np.zeros((n, 2, 2), dtype=np.int64)
        self.brand_ranges = np.zeros((n, 2, 2), dtype=np.int64)
        self.bands = np.zeros((n, 2), dtype=np.int64)
        for s, shopper in enumerate(self.shoppers):
            categories = (list(shopper.taste.categories) * 2)[:2]
            self.taste_ranges[s] = [self.category_range[c] for c in categories]
            for slot, category in enumerate(categories):
                ranges = [self.brand_range[(category, brand)] for brand in shopper.taste.brands
                          if (category, brand) in self.brand_range]
                self.brand_ranges[s, slot] = ranges[slot % len(ranges)] if ranges else self.category_range[category]
            self.bands[s] = shopper.taste.price_band

    def pick_products(self, shoppers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One product index per shopper index in `shoppers` (see the module's docstring for the law)."""
        n = len(shoppers)
        slot = rng.integers(0, 2, n)
        by_taste = rng.random(n) < TASTE_SHARE
        by_brand = rng.random(n) < BRAND_SHARE
        ranges = np.where(by_brand[:, None], self.brand_ranges[shoppers, slot], self.taste_ranges[shoppers, slot])
        offset = (rng.random(n) * (ranges[:, 1] - ranges[:, 0])).astype(np.int64)
        tasted = self.order[ranges[:, 0] + offset]
        popular = self.popularity_order[np.searchsorted(self.popularity_cdf, rng.random(n), side="right").clip(
            0, len(self.products) - 1)]
        return np.where(by_taste, tasted, popular)

    def buy_weight(self, shoppers: np.ndarray, products: np.ndarray) -> np.ndarray:
        """How willing each shopper is to buy the product: 1 inside the price band, 0.25 outside."""
        price = self.prices[products]
        inside = (price >= self.bands[shoppers, 0]) & (price <= self.bands[shoppers, 1])
        return np.where(inside, 1.0, 0.25)

    def likes(self, shopper: int, product: int) -> bool:
        """Whether a product matches the shopper's tastes (a favourite category or brand)."""
        taste, item = self.shoppers[shopper].taste, self.products[product]
        return item.category_id in taste.categories or item.brand in taste.brands

    # -- what happened ----------------------------------------------------------------------------------
    def bind(self, shopper: int, user_id: str) -> None:
        self.shoppers[shopper].user_id = user_id

    def fraud_on(self, shopper: int, day: int) -> bool:
        """Whether what the shopper orders on `day` is fraud."""
        person = self.shoppers[shopper]
        return person.fraud is not None and day >= person.takeover_day

    def record_order(self, order_id: str, shopper: int, day: int, total: int) -> OrderTruth:
        person, fraud = self.shoppers[shopper], self.fraud_on(shopper, day)
        truth = OrderTruth(order_id, person.key, day, total, fraud, person.fraud if fraud else None)
        self.orders.append(truth)
        return truth

    def ground_truth(self) -> dict[str, Any]:
        """What only evaluation may read: every shopper's tastes and role, and which orders were fraud."""
        return {
            "seed": self.seed,
            "days": self.days,
            "shoppers": {
                shopper.key: {"user_id": shopper.user_id, "categories": list(shopper.taste.categories),
                              "brands": list(shopper.taste.brands), "price_band": list(shopper.taste.price_band),
                              "country": shopper.country, "card_countries": [card.country for card in shopper.cards],
                              "signup_day": shopper.signup_day, "fraud": shopper.fraud,
                              "takeover_day": shopper.takeover_day}
                for shopper in self.shoppers
            },
            "orders": [asdict(order) for order in self.orders],
            "fraud_orders": sorted(order.order_id for order in self.orders if order.fraud),
        }

    def write_ground_truth(self, path: str | Path) -> Path:
        return write_truth(self.ground_truth(), path)


def write_truth(truth: dict[str, Any], path: str | Path) -> Path:
    """Write a ground truth file whole (lake.files: a draft, then a rename)."""
    target = Path(path)
    write_atomically(target, orjson.dumps(truth, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return target


def build_world(products: Sequence[Product], shoppers: int, days: int, seed: int,
                fraud_share: float = FRAUD_SHARE) -> World:
    """A seeded world over `products` (at least one): same arguments, same world."""
    if not products:
        raise ValueError("a world needs at least one product")
    rng = np.random.default_rng([seed, 0])
    categories = sorted({product.category_id for product in products})
    brands_of: dict[str, list[str]] = {}
    for product in products:
        brands_of.setdefault(product.category_id, [])
        if product.brand not in brands_of[product.category_id]:
            brands_of[product.category_id].append(product.brand)
    prices = np.asarray(sorted(product.price for product in products))
    people = []
    for s in range(shoppers):
        draws = rng.random(8)
        favourite = _some(categories, 1 + int(draws[0] < 0.5), rng)
        offered = sorted({brand for category in favourite for brand in brands_of[category]})
        brands = _some(offered, 1 + int(draws[1] < 0.5), rng)
        low, high = sorted(draws[2:4])
        top = len(prices) - 1
        band = (int(prices[int(low * 0.6 * top)]), int(prices[int(min(1.0, high + 0.3) * top)]))
        fraud: FraudPattern | None = None
        if draws[4] < fraud_share:
            fraud = FRAUD_PATTERNS[int(draws[5] * len(FRAUD_PATTERNS))]
        country = COUNTRIES[int(draws[6] * len(COUNTRIES))]
        signup = 0 if fraud is None and draws[7] < 0.5 else int(rng.integers(0, max(1, days)))
        cards, takeover = _cards(fraud, country, rng), signup
        if fraud == "far_shipping":
            country = FAR_COUNTRIES[int(rng.integers(len(FAR_COUNTRIES)))]  # ships there; the card is from home
        elif fraud in ("stolen_card_burst", "many_cards"):
            country = _anywhere(rng)
        elif fraud == "unusual_amount":
            takeover = signup + int((days - signup) * rng.uniform(0.3, 0.8))
        visit_rate = 0.9 if fraud == "stolen_card_burst" else float(rng.uniform(0.15, 0.6))
        people.append(Shopper(f"s{s:06d}", Taste(tuple(sorted(favourite)), tuple(sorted(brands)), band), country,
                              cards, signup, visit_rate, fraud, takeover_day=takeover))
    return World(seed, list(products), people, days)


def _some(names: Sequence[str], count: int, rng: np.random.Generator) -> list[str]:
    """`count` different names (all of them when there are fewer), drawn with `rng`."""
    if count >= len(names):
        return list(names)
    return [names[int(i)] for i in rng.permutation(len(names))[:count]]


def _anywhere(rng: np.random.Generator) -> str:
    """A country near or far, even odds."""
    pool = COUNTRIES if rng.random() < 0.5 else FAR_COUNTRIES
    return pool[int(rng.integers(len(pool)))]


def _cards(fraud: FraudPattern | None, home: str, rng: np.random.Generator) -> list[Card]:
    """A shopper's cards: an honest one's own (sometimes two, now and then one from abroad), a card thief's many."""
    if fraud in ("stolen_card_burst", "many_cards"):
        return [card(_anywhere(rng), rng) for _ in range(int(rng.integers(4, 9)))]
    if fraud == "unusual_amount":  # its own card, then the taker's (stolen near or far)
        return [card(home, rng), card(_anywhere(rng), rng)]
    first = card(COUNTRIES[int(rng.integers(len(COUNTRIES)))] if rng.random() < EXPAT_SHARE else home, rng)
    return [first, card(home, rng)] if fraud is None and rng.random() < SECOND_CARD_SHARE else [first]


def card(country: str, rng: np.random.Generator) -> Card:
    """A sandbox card issued in `country` (its BIN says so), a seeded serial telling it apart."""
    return Card(sandbox_card_number(country, int(rng.integers(0, 10**9))), country)
