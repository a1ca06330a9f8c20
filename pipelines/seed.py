"""Seed the demo catalog into an empty store: a category tree, then products in batches through the catalog
actor (which creates each variant's stock first). A store is seeded once (the "seeded" field of the system
hash); `--force` adds to a seeded store, skipping the products an earlier run made (the ids are deterministic).

    python -m pipelines.seed --products 5000     # joins the running cluster (RAY_ADDRESS or settings)
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from typing import Any

import ray
from tqdm import tqdm

from actors.routing import Router
from config import Settings, load_settings
from pipelines.seed_data import CATEGORY_TREE, DemoCatalog

BATCH = 100  # products per actor call (and per Redis transaction)
IN_FLIGHT = 2  # batches sent ahead: the next one is validated while the last one is written


def seed_demo_catalog(settings: Settings, products: int | None = None, progress: bool = True,
                      force: bool = False) -> int:
    """Seed `products` demo products (default `settings.seed_products`) unless the store was seeded already.
    Returns how many products were created. Needs a connected Ray driver and the platform's actors."""
    count = settings.seed_products if products is None else products
    catalog = Router(settings).handle("catalog")
    if count <= 0 or (not force and ray.get(catalog.seeded.remote()) is not None):
        return 0
    demo = DemoCatalog(settings.seed_random_seed, ensure_categories(catalog), settings.currency)
    created = 0
    pending: list[Any] = []
    with tqdm(total=count, disable=not progress, unit="product", desc="seeding catalog") as bar:
        for batch in _batches(demo.products(count), BATCH):
            pending.append((catalog.create_products.remote(batch), len(batch)))
            while len(pending) >= IN_FLIGHT:
                created += _finish(pending.pop(0), bar)
        while pending:
            created += _finish(pending.pop(0), bar)
    ray.get(catalog.mark_seeded.remote(created))
    return created


def ensure_categories(catalog: Any) -> dict[tuple[str, ...], str]:
    """The demo category tree, creating what is missing; returns (root,) and (root, child) -> category id."""
    tree = ray.get(catalog.category_tree.remote())
    ids: dict[tuple[str, ...], str] = {}
    for root_name, children in CATEGORY_TREE.items():
        root = next((c for c in tree if c["name"] == root_name), None)
        if root is None:
            root = {**ray.get(catalog.create_category.remote(root_name)), "children": []}
        ids[(root_name,)] = root["id"]
        for child_name in children:
            child = next((c for c in root["children"] if c["name"] == child_name), None)
            if child is None:
                child = ray.get(catalog.create_category.remote(child_name, root["id"]))
            ids[(root_name, child_name)] = child["id"]
    return ids


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _finish(item: tuple[Any, int], bar: tqdm[Any]) -> int:
    ref, size = item
    created = len(ray.get(ref))
    bar.update(size)
    return created


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=None, help="how many (default: settings.seed_products)")
    parser.add_argument("--force", action="store_true", help="add to a store that was seeded already")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = load_settings()
    ray.init(address=settings.ray_address or "auto", namespace=settings.ray_namespace, log_to_driver=False)
    created = seed_demo_catalog(settings, args.products, progress=not args.quiet, force=args.force)
    print(f"seeded {created} products" if created else "the catalog was seeded already; nothing to do")


if __name__ == "__main__":
    main()
