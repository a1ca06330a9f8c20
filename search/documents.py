"""From a catalog product (the JSON the catalog stores) to the fields the search index keeps for it.

A product is found by its cheapest variant: its effective price (the sale price while there is one) is what
price filters, price sorts and price buckets read, and it is the price a hit shows. A product is in stock when
any of its variants has units available.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from domain.catalog_index import brand_key
from domain.search import price_band, rating_band
from search.schema import SUGGEST_SEPARATOR

REVIEWS_CAP = 10**7 - 1  # review_count's share of rating_rank: rating first, then how many reviews
_WORD = re.compile(r"[^\W_]{3,}")


def product_document(product: dict[str, Any], available: dict[str, int], category_path: list[str],
                     popularity: int = 0, category_names: Sequence[str] = ()) -> dict[str, Any]:
    """The index fields of an active product. `available` maps variant id -> units available; `category_path`
    is the product's category id and the ids of all its ancestors; `category_names` (optional) are those
    categories' names, searched as tags and offered as completions."""
    variants: list[dict[str, Any]] = list(product.get("variants") or [])
    cheapest = min(variants, key=effective_price) if variants else {}
    price = effective_price(cheapest) if cheapest else 0
    rating = float(product.get("rating") or 0.0)
    review_count = int(product.get("review_count") or 0)
    in_stock = any(int(available.get(v["id"], 0)) > 0 for v in variants)
    brand = str(product.get("brand") or "")
    category_id = str(product["category_id"])
    cat_path = list(dict.fromkeys([category_id, *category_path]))
    payload = {
        "product_id": product["id"], "name": product["name"], "brand": brand, "category_id": category_id,
        "price": int(cheapest.get("price", 0)), "sale_price": cheapest.get("sale_price"),
        "currency": cheapest.get("currency"), "rating": rating, "review_count": review_count,
        "image": _image(cheapest, variants), "in_stock": in_stock,
    }
    tags = [str(t) for t in product.get("tags") or []]
    return {
        "product_id": product["id"],
        "name": product["name"],
        "brand": brand,
        "tags": [*tags, *category_names],
        "description": str(product.get("description") or ""),
        "category_id": category_id,
        "cat_path": cat_path,
        "cat_key": " ".join(cat_path),
        "brand_key": brand_key(brand),
        "brand_name": brand,
        "price": price,
        "price_band": price_band(price),
        "regular_price": int(cheapest.get("price", 0)),
        "created": epoch_ms(str(product.get("created_at") or "")),
        "popularity": max(0, int(popularity)),
        "review_count": review_count,
        "rating": rating,
        "rating_band": rating_band(rating),
        "rating_rank": round(rating * 100) * (REVIEWS_CAP + 1) + min(review_count, REVIEWS_CAP),
        "in_stock": int(in_stock),
        "suggest": suggestions(product["name"], brand, category_names, tags),
        "suggest_name": _entries([product["name"]]),
        "payload": payload,
    }


def effective_price(variant: dict[str, Any]) -> int:
    sale = variant.get("sale_price")
    return int(variant["price"] if sale is None else sale)


def epoch_ms(timestamp: str) -> int:
    try:
        return max(0, int(datetime.fromisoformat(timestamp).timestamp() * 1000))
    except ValueError:
        return 0


def suggest_key(text: str) -> str:
    """How typed text and completions compare: case-folded, single spaces, no separator characters."""
    return " ".join(text.replace(SUGGEST_SEPARATOR, " ").split()).casefold()


def suggestions(name: str, brand: str, category_names: Iterable[str], tags: Iterable[str]) -> list[str]:
    """Short completions of a product: its brand, categories, tags and the words of its name, each as
    "<key>\x1f<shown>" (its full name is `suggest_name`)."""
    return _entries([brand, *category_names, *tags, *_WORD.findall(name)])


def _entries(texts: Iterable[str]) -> list[str]:
    entries: dict[str, str] = {}
    for text in texts:
        key = suggest_key(text)
        if key:
            entries.setdefault(key, " ".join(text.split()))
    return [f"{key}{SUGGEST_SEPARATOR}{text}" for key, text in entries.items()]


def _image(cheapest: dict[str, Any], variants: list[dict[str, Any]]) -> str | None:
    for variant in [cheapest, *variants]:
        images = variant.get("images") or []
        if images:
            return str(images[0])
    return None
