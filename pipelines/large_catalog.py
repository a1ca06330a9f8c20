"""A large, realistic catalog for benchmarks, written to Parquet in-process (no Ray, no Redis):

    python -m pipelines.large_catalog --products 1000000 --out var/catalog/products-1000000.parquet
    make catalog N=1000000

Three-level categories (root > department > kind), brands and popularity spread like real shops (a few brands
and products take most of the sales: Zipf-like), names and descriptions combined from kinds, adjectives,
materials, series, model numbers and features, prices with some sales, ratings and review counts that follow
popularity, stock (some sold out) and creation dates over three years. Deterministic for a seed, and product
i depends only on the seed and the products before it, so a smaller run is a prefix of a bigger one.

Each row is a product in the catalog's JSON shape (domain/catalog.py Product.to_dict; `specifications` and
each variant's `attributes` stored as JSON text) plus `available` in each variant, `category_path` (the
category id, then its ancestors) and `popularity`. The category tree (Category.to_dict rows) is in the file's
metadata. `read_catalog` gives back rows ready for search.documents.product_document(**row).
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from domain.categories import slugify
from pipelines import large_catalog_vocab as vocab
from pipelines.seed_data import Department

CHUNK = 20_000  # products per Parquet row group: bounded memory at any size
START_MS = 1_640_995_200_000  # 2022-01-01: products are created over the three years after it
SPAN_MS = 3 * 365 * 86_400_000
METADATA_KEY = b"bazaar.categories"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [_CROCKFORD[i >> 5] + _CROCKFORD[i & 31] for i in range(1024)]
_SHIFTS = tuple(range(120, -1, -10))

VARIANT = pa.struct([("id", pa.string()), ("sku", pa.string()), ("attributes", pa.string()),
                     ("price", pa.int64()), ("sale_price", pa.int64()), ("currency", pa.string()),
                     ("images", pa.list_(pa.string())), ("available", pa.int64())])
SCHEMA = pa.schema([
    ("id", pa.string()), ("name", pa.string()), ("description", pa.string()), ("category_id", pa.string()),
    ("brand", pa.string()), ("tags", pa.list_(pa.string())), ("seller_id", pa.string()), ("status", pa.string()),
    ("rating", pa.float64()), ("review_count", pa.int64()), ("specifications", pa.string()),
    ("created_at", pa.string()), ("updated_at", pa.string()), ("variants", pa.list_(VARIANT)),
    ("category_path", pa.list_(pa.string())), ("popularity", pa.int64()),
])


def make_id(kind: str, ms: int, rng: random.Random) -> str:
    """A valid id (kind + ULID) for a moment, its random part from the seeded generator; 5x faster than ulid."""
    n = (ms << 80) | rng.getrandbits(80)
    return kind + "_" + "".join([_PAIRS[(n >> s) & 1023] for s in _SHIFTS])


def iso_ms(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def zipf_cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative weights 1/rank^exponent: rank 1 the most likely."""
    total, out = 0.0, []
    for rank in range(1, count + 1):
        total += rank ** -exponent
        out.append(total)
    return out


@dataclass(frozen=True)
class Aisle:
    """One department's leaf categories and its Zipf-ranked brands."""

    department: Department
    root: str
    leaf_paths: list[list[str]]  # per kind: [leaf id, department id, root id]
    brands: list[str]
    brand_weights: list[float]


class CategoryTree:
    """The three-level tree with deterministic ids: (root,), (root, department), (root, department, kind)."""

    def __init__(self, rng: random.Random) -> None:
        self.rows: list[dict[str, Any]] = []
        self.ids: dict[tuple[str, ...], str] = {}
        for department in vocab.ALL_DEPARTMENTS:
            for depth in range(1, len(department.category) + 1):
                self._add(department.category[:depth], rng)
            for kind in department.kinds:
                self._add((*department.category, vocab.plural(kind)), rng)

    def _add(self, path: tuple[str, ...], rng: random.Random) -> None:
        if path in self.ids:
            return
        ms = START_MS - 86_400_000 + len(self.rows)
        self.ids[path] = make_id("cat", ms, rng)
        self.rows.append({"id": self.ids[path], "name": path[-1], "slug": slugify(path[-1]),
                          "parent_id": self.ids[path[:-1]] if len(path) > 1 else None, "created_at": iso_ms(ms)})

    def path_ids(self, path: tuple[str, ...]) -> list[str]:
        """The category's id, then its ancestors' ids up to the root."""
        return [self.ids[path[:depth]] for depth in range(len(path), 0, -1)]


class LargeCatalog:
    """The generator: `rows(n)` yields products 0..n-1, each drawn from the one seeded random stream."""

    def __init__(self, seed: int = 7, currency: str = "USD", brands_per_department: int = 120) -> None:
        self.rng = random.Random(seed)
        self.currency = currency
        self.tree = CategoryTree(self.rng)
        pool = sorted({f"{h}{t}" + (f" {w}" if w else "") for h in vocab.BRAND_HEADS for t in vocab.BRAND_TAILS
                       for w in vocab.BRAND_WORDS[(len(h) + len(t)) % len(vocab.BRAND_WORDS):][:1]})
        self.rng.shuffle(pool)
        self.aisles: list[Aisle] = []
        for number, department in enumerate(vocab.ALL_DEPARTMENTS):
            start = number * 37 % len(pool)  # departments share some made-up brands, like real conglomerates
            extra = [b for b in (pool + pool)[start:start + brands_per_department] if b not in department.brands]
            brands = [*department.brands, *extra]
            leaves = [self.tree.path_ids((*department.category, vocab.plural(k))) for k in department.kinds]
            self.aisles.append(Aisle(department, department.category[0], leaves, brands,
                                     zipf_cumulative(len(brands), 1.1)))
        self.rng.shuffle(self.aisles)  # which aisles are big: any, not the first in the vocabulary
        self.aisle_weights = zipf_cumulative(len(self.aisles), 0.5)  # some aisles much bigger than others
        self.sellers = [make_id("sel", START_MS - 86_400_000 * 30 + n, self.rng) for n in range(500)]
        self.seller_weights = zipf_cumulative(len(self.sellers), 1.0)

    def _pick(self, items: list[Any], cumulative: list[float]) -> Any:
        return items[bisect.bisect_left(cumulative, self.rng.random() * cumulative[-1])]

    def _one(self, items: Sequence[Any]) -> Any:
        return items[int(self.rng.random() * len(items))]  # rng.choice, three times faster

    def rows(self, count: int) -> Iterator[dict[str, Any]]:
        for index in range(count):
            yield self.product(index)

    def product(self, index: int) -> dict[str, Any]:
        rng, one = self.rng, self._one
        rand = rng.random
        aisle: Aisle = self._pick(self.aisles, self.aisle_weights)
        department = aisle.department
        kind_index = int(rand() * len(department.kinds))
        kind = department.kinds[kind_index]
        brand = self._pick(aisle.brands, aisle.brand_weights)
        adjective, material, series = one(vocab.ADJECTIVES), one(vocab.MATERIALS[aisle.root]), one(vocab.SERIES)
        feature, feature2, use = one(vocab.FEATURES), one(vocab.FEATURES), one(vocab.USES)
        form = rand()
        if form < 0.3:
            name = f"{brand} {adjective} {kind} {series}"
        elif form < 0.55:
            name = f"{brand} {kind} {one(vocab.MODEL_LETTERS)}{one(vocab.MODEL_LETTERS)}-{int(rand() * 99 + 1) * 10}"
        elif form < 0.75:
            name = f"{brand} {material} {kind} {series} {int(rand() * 8) + 2}"
        elif form < 0.9:
            name = f"{adjective} {material} {kind} by {brand}"
        else:
            name = f"{brand} {kind} {series} with {feature.removeprefix('a ').removeprefix('an ')}"
        specs = {key: one(values) for key, values in department.specs.items()}
        sentences = [f"{one(vocab.PRAISE)}: the {name}.",
                     f"This {adjective.lower()} {kind.lower()} from {brand} comes with {feature} and {feature2}.",
                     f"{material} where it matters, made for {use}."]
        if rand() < 0.6:
            sentences.append(" ".join(f"{k.replace('_', ' ').capitalize()}: {v}." for k, v in specs.items()))
        if rand() < 0.4:
            sentences.append(f"Pairs well with our {one(department.kinds).lower()} range and the {brand} "
                             f"{one(vocab.SERIES)} line.")
        created = START_MS + int(rand() * SPAN_MS)
        product_id = make_id("prd", created, rng)
        popularity = min(int(10 * rng.paretovariate(1.2)) - 10, 250_000)  # Zipf-like: most near 0, a few huge
        reviews = int(popularity * rand() * 0.3) + (rand() < 0.5)
        rating = 0.0 if reviews == 0 else round(min(5.0, max(1.0, rng.gauss(3.9 + min(popularity, 500) / 1000,
                                                                            0.7))), 1)
        tags = [*department.tags, kind.lower()]
        if rand() < 0.3:
            tags.append(material.lower())
        return {
            "id": product_id, "name": name, "description": " ".join(sentences),
            "category_id": aisle.leaf_paths[kind_index][0], "brand": brand, "tags": tags,
            "seller_id": None if rand() < 0.3 else self._pick(self.sellers, self.seller_weights),
            "status": "active", "rating": rating, "review_count": reviews, "specifications": json.dumps(specs),
            "created_at": iso_ms(created),
            "updated_at": iso_ms(min(created + int(rand() * 90 * 86_400_000), START_MS + SPAN_MS)),
            "variants": self._variants(department, product_id, created, index),
            "category_path": aisle.leaf_paths[kind_index], "popularity": popularity,
        }

    def _variants(self, department: Department, product_id: str, created: int, index: int) -> list[dict[str, Any]]:
        rng, one = self.rng, self._one
        rand = rng.random
        attribute = one(sorted(department.options))
        values = department.options[attribute]
        wanted = min(len(values), one((1, 1, 2, 3, 4)))
        first = int(rand() * (len(values) - wanted + 1))  # a run of neighbouring options: 256GB, 512GB, 1TB
        low, high = department.price
        base = int(low * (high / low) ** rand()) // 100 * 100 + 99  # log-uniform, ends in .99
        discount = one((10, 15, 20, 25, 30, 40)) if rand() < 0.18 else 0
        sold_out = rand() < 0.07  # the whole product; otherwise a variant now and then
        prefix = department.category[-1][:3].upper()
        image = f"https://img.bazaar.example/{product_id.lower()}/"
        variants = []
        for step in range(wanted):
            price = base + step * max(100, base // 1000 * 100)  # bigger options cost more
            sku = f"{prefix}-{index:08d}-{first + step}"
            variants.append({
                "id": make_id("var", created, rng), "sku": sku,
                "attributes": f'{{"{attribute}": {json.dumps(values[first + step])}}}', "price": price,
                "sale_price": price * (100 - discount) // 100 if discount else None, "currency": self.currency,
                "images": [f"{image}{sku.lower()}-1.jpg", f"{image}{sku.lower()}-2.jpg"],
                "available": 0 if sold_out or rand() < 0.05 else int(rng.expovariate(1 / 40)) + 1,
            })
        return variants


def write_catalog(path: Path, products: int, seed: int = 7, progress: bool = True) -> Path:
    """Generate `products` products into a Parquet file, one row group per CHUNK; returns the path."""
    catalog = LargeCatalog(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    metadata = {METADATA_KEY: json.dumps(catalog.tree.rows).encode(), b"bazaar.seed": str(seed).encode()}
    schema = SCHEMA.with_metadata(metadata)
    rows = catalog.rows(products)
    with pq.ParquetWriter(partial, schema, compression="zstd") as writer, \
            tqdm(total=products, unit="product", desc="generating catalog", disable=not progress) as bar:
        for start in range(0, products, CHUNK):
            chunk = [next(rows) for _ in range(min(CHUNK, products - start))]
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            bar.update(len(chunk))
    partial.replace(path)  # a finished file or none: an interrupted run never leaves a short catalog behind
    return path


def categories(path: Path) -> list[dict[str, Any]]:
    """The catalog file's category tree (Category.to_dict rows)."""
    metadata = pq.read_schema(path).metadata or {}
    return list(json.loads(metadata[METADATA_KEY]))


def count(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def read_catalog(path: Path, batch_size: int = 10_000) -> Iterator[list[dict[str, Any]]]:
    """Batches of {"product": catalog JSON, "available": {variant_id: units}, "category_path", "popularity"}."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        out = []
        for row in batch.to_pylist():
            available = {}
            for variant in row["variants"]:
                available[variant["id"]] = variant.pop("available")
                variant["attributes"] = json.loads(variant["attributes"])
            row["specifications"] = json.loads(row["specifications"])
            out.append({"category_path": row.pop("category_path"), "popularity": row.pop("popularity"),
                        "available": available, "product": row})
        yield out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.large_catalog", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="default var/catalog/products-N.parquet")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    out = args.out or Path("var/catalog") / f"products-{args.products}.parquet"
    started = time.perf_counter()
    write_catalog(out, args.products, args.seed, progress=not args.quiet)
    print(f"wrote {args.products:,} products to {out} ({out.stat().st_size / 2**20:,.1f} MiB) "
          f"in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
