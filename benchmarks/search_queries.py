"""The search benchmark's fixed, mixed query set and the timing that every engine shares.

Queries are written with names (a category path, brand names) and resolved to ids against the catalog's own
category tree, so the same set runs on any catalog made by pipelines/large_catalog.py. Every query asks for
the facets too (the contract always answers them), so "faceted" below means several filters at once, where
the "every filter except the facet's own" rule has the most work to do.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

KINDS = ("single word", "two words", "typo", "filtered", "faceted", "sorted", "browse")

# (kind, parameters); "category" is a path of names, resolved to the category's id
QUERY_SET: list[tuple[str, dict[str, Any]]] = [
    *[("single word", {"q": q}) for q in ("laptop", "headphones", "sneakers", "blender", "tent", "coffee",
                                          "keyboard", "oak")],
    *[("two words", {"q": q}) for q in ("wireless earbuds", "gaming laptop", "running shoes", "cast iron",
                                        "standing desk", "dog bed", "merino wool", "bluetooth speaker")],
    *[("typo", {"q": q}) for q in ("labtop", "hedphones", "sneekers", "blendr", "backpak", "keybaord",
                                   "espreso machine", "smartwach")],
    ("filtered", {"q": "laptop", "category": ("Electronics",)}),
    ("filtered", {"q": "shoes", "brand": ["Stride"]}),
    ("filtered", {"q": "coffee", "price_min": 1000, "price_max": 3000}),
    ("filtered", {"q": "chair", "in_stock": "true", "rating_min": 4}),
    ("filtered", {"q": "jacket", "category": ("Fashion", "Men"), "in_stock": "true"}),
    ("filtered", {"q": "camera", "price_min": 50000}),
    ("faceted", {"q": "headphones", "category": ("Electronics",), "brand": ["Sonora", "Pulse"],
                 "price_min": 2000, "price_max": 20000, "in_stock": "true"}),
    ("faceted", {"q": "backpack", "brand": ["Trailhead", "Harbor & Co"], "rating_min": 3, "in_stock": "true"}),
    ("faceted", {"q": "coffee", "category": ("Grocery",), "brand": ["Copperpot"], "price_max": 2500,
                 "rating_min": 4}),
    ("faceted", {"q": "drill", "category": ("Tools", "Power Tools"), "price_min": 5000, "price_max": 25000,
                 "rating_min": 2, "in_stock": "true"}),
    ("sorted", {"q": "headphones", "sort": "price_asc"}),
    ("sorted", {"q": "laptop", "sort": "rating_desc"}),
    ("sorted", {"q": "dress", "sort": "newest"}),
    ("sorted", {"q": "tent", "sort": "popularity", "page": 3}),
    ("sorted", {"q": "drill", "sort": "price_desc", "in_stock": "true"}),
    ("browse", {"sort": "popularity"}),
    ("browse", {"category": ("Electronics",), "sort": "newest"}),
    ("browse", {"category": ("Home", "Kitchen"), "sort": "price_asc"}),
    ("browse", {"brand": ["Lumina"], "sort": "rating_desc", "in_stock": "true"}),
]


@dataclass(frozen=True)
class BenchQuery:
    kind: str
    label: str  # how the report names it
    params: dict[str, Any]  # SearchRequest.from_params / GET /v1/search parameters, category as its id


def resolve(categories: list[dict[str, Any]]) -> list[BenchQuery]:
    """The query set with category paths turned into the catalog's category ids."""
    by_path: dict[tuple[str, ...], str] = {}
    by_id = {c["id"]: c for c in categories}
    for category in categories:
        path, node = [category["name"]], category
        while node.get("parent_id"):
            node = by_id[node["parent_id"]]
            path.insert(0, node["name"])
        by_path[tuple(path)] = category["id"]
    out = []
    for kind, raw in QUERY_SET:
        params = dict(raw)
        if "category" in params:
            params["category"] = by_path[params["category"]]
        label = " ".join(f"{k}={'/'.join(raw[k]) if k == 'category' else raw[k]}" for k in raw if k != "q")
        out.append(BenchQuery(kind, f"{raw.get('q', '')!r} {label}".strip(), params))
    return out


@dataclass
class Timings:
    """Latencies in seconds per query kind and per query, and each query's total hits as an engine saw them."""

    samples: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    by_query: dict[str, list[float]] = field(default_factory=dict)  # query label -> latencies
    totals: dict[str, int] = field(default_factory=dict)  # query label -> total
    seconds: float = 0.0  # wall time of the timed passes

    def add(self, query: BenchQuery, seconds: float, total: int) -> None:
        self.samples.setdefault(query.kind, []).append(seconds)
        self.by_query.setdefault(query.label, []).append(seconds)
        self.totals[query.label] = total

    def every(self) -> list[float]:
        return [s for samples in self.samples.values() for s in samples]

    def percentile(self, q: float, kind: str | None = None, label: str | None = None) -> float:
        """Nearest-rank percentile in milliseconds, of one query, one kind, or all."""
        chosen = self.by_query.get(label or "", []) if label else self.samples.get(kind, []) if kind else self.every()
        ordered = sorted(chosen)
        if not ordered:
            return math.nan
        return 1000 * ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def run_passes(name: str, queries: list[BenchQuery], passes: int, run: Callable[[BenchQuery], int],
               timings: Timings | None = None) -> Timings:
    """Every query `passes` times, one at a time, in order (so every kind sees the same noise of a shared
    machine); `run` returns the query's total. Pass `timings=None` for an untimed warm-up."""
    kept = timings if timings is not None else Timings()
    started = time.perf_counter()
    for query in tqdm([q for _ in range(passes) for q in queries], desc=f"  {name}", unit="query", leave=False,
                      mininterval=0.5):
        began = time.perf_counter()
        total = run(query)
        kept.add(query, time.perf_counter() - began, total)
    kept.seconds += time.perf_counter() - started
    return kept
