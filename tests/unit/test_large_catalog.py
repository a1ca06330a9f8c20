"""The benchmark catalog generator: a big shop's catalog, the same for a seed, readable by the search indexer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from domain.catalog import Product
from pipelines.large_catalog import LargeCatalog, categories, read_catalog, write_catalog
from search.documents import product_document


def test_the_same_seed_makes_the_same_shop_and_a_smaller_run_is_a_prefix_of_a_bigger_one() -> None:
    small = list(LargeCatalog(seed=3).rows(50))
    big = list(LargeCatalog(seed=3).rows(120))
    assert small == big[:50]
    assert [p["id"] for p in LargeCatalog(seed=4).rows(50)] != [p["id"] for p in small]


def test_a_written_catalog_reads_back_as_products_the_indexer_can_take(tmp_path: Path) -> None:
    path = write_catalog(tmp_path / "products.parquet", 300, seed=5, progress=False)
    tree = {c["id"]: c for c in categories(path)}
    rows = [row for batch in read_catalog(path, batch_size=128) for row in batch]
    assert len(rows) == 300 and len({r["product"]["id"] for r in rows}) == 300

    for row in rows:
        product = Product.from_dict(row["product"])  # the catalog's own JSON shape
        assert set(row["available"]) == {v.id for v in product.variants}
        leaf, *ancestors = row["category_path"]
        assert leaf == product.category_id and tree[leaf]["parent_id"] == ancestors[0]
        assert tree[ancestors[-1]]["parent_id"] is None and len(row["category_path"]) in (2, 3)
        doc = product_document(**row)
        assert doc["product_id"] == product.id and doc["price"] > 0

    in_stock = [any(units > 0 for units in r["available"].values()) for r in rows]
    assert 0 < in_stock.count(False) < 60  # some sold out, most not
    assert any(v["sale_price"] is not None for r in rows for v in r["product"]["variants"])


def test_a_few_brands_and_products_take_most_of_the_shop() -> None:
    products = list(LargeCatalog(seed=7).rows(3000))
    brands = Counter(p["brand"] for p in products)
    top_tenth = sum(n for _, n in brands.most_common(len(brands) // 10))
    assert top_tenth > 0.4 * len(products)  # Zipf-like: a tenth of the brands sell over 40% of the listings
    popularity = sorted(p["popularity"] for p in products)
    assert popularity[len(popularity) // 2] < 20 < popularity[-30]  # most products quiet, a few best sellers
    assert len({p["name"] for p in products}) > 0.95 * len(products)  # names vary
