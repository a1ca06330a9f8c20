"""Searching a small shop's catalog with the real tantivy index in a temp directory, no Ray and no Redis.

A hand-made shop checks relevance, typos, filters and sorts by name; a seeded catalog of a few hundred products
checks facet counts and paging against brute force over the same products.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.categories import CategoryTree
from domain.search import PRICE_RANGES, RATING_FLOORS, SORTS, SearchRequest
from search import SearchIndex, product_document
from search.index import VERSION_FILE

TREE = CategoryTree()
CATS: dict[str, str] = {}
for _name, _parent in [("Electronics", None), ("Laptops", "Electronics"), ("Gaming", "Laptops"),
                       ("Phones", "Electronics"), ("Fashion", None), ("Shoes", "Fashion"), ("Home", None),
                       ("Kitchen", "Home")]:
    _category = TREE.new_category(_name, CATS.get(_parent or ""), "2025-01-01T00:00:00.000Z")
    TREE.add(_category)
    CATS[_name] = _category.id


class Listing:
    """A product as the catalog stores it, its stock and popularity; `doc()` is what the indexer would index."""

    def __init__(self, number: int, name: str, category: str, brand: str = "Acme", price: int = 1000,
                 sale: int | None = None, rating: float = 0.0, reviews: int = 0, stock: int = 5,
                 description: str = "", tags: tuple[str, ...] = (), popularity: int = 0,
                 more_prices: tuple[int, ...] = ()) -> None:
        self.popularity, self.id = popularity, f"prd_{number:04d}"
        variants: list[dict[str, Any]] = [
            {"id": f"var_{number:04d}_{i}", "sku": f"SKU-{number}-{i}", "attributes": {"n": str(i)}, "price": p,
             "sale_price": sale if i == 0 else None, "currency": "USD",
             "images": [f"https://img.example/{number}-{i}.jpg"]} for i, p in enumerate((price, *more_prices))]
        self.product: dict[str, Any] = {
            "id": self.id, "name": name, "description": description, "category_id": CATS[category], "brand": brand,
            "tags": list(tags), "seller_id": None, "status": "active", "rating": rating, "review_count": reviews,
            "specifications": {}, "created_at": f"2025-03-01T10:{number // 60 % 60:02d}:{number % 60:02d}.000Z",
            "updated_at": "2025-03-01T10:00:00.000Z", "variants": variants}
        self.available: dict[str, int] = {str(variants[0]["id"]): stock}
        self.path = [c.id for c in TREE.path(CATS[category])]

    @property
    def price(self) -> int:
        return min(v["price"] if v["sale_price"] is None else v["sale_price"] for v in self.product["variants"])

    def doc(self) -> dict[str, Any]:
        names = [c.name for c in TREE.path(self.product["category_id"])]
        return product_document(self.product, self.available, self.path, self.popularity, category_names=names)


SHOP = [
    Listing(1, "Vertex Ultrabook 14 Laptop", "Laptops", "Vertex", 129_900, sale=99_900, rating=4.6, reviews=120,
            tags=("laptop",), popularity=50, description="A thin and light laptop for work."),
    Listing(2, "Helix Gaming Laptop 16", "Gaming", "Helix", 189_900, rating=4.2, reviews=40, tags=("laptop",),
            popularity=80, description="Fast graphics for gaming."),
    Listing(3, "Laptop Sleeve 14 in", "Laptops", "Harbor & Co", 2_900, rating=4.6, reviews=300, tags=("sleeve",),
            popularity=10, description="Padded sleeve."),
    Listing(4, "Trail Runner 2", "Shoes", "Stride", 11_900, rating=3.9, reviews=12, tags=("running",),
            popularity=30, description="Grippy trail shoes for wet days."),
    Listing(5, "Everyday Socks", "Shoes", "Stride", 1_200, rating=4.0, reviews=8, stock=0, popularity=5,
            description="Cushioned socks, perfect for a trail runner on long runs."),
    Listing(6, "Quasar Phone Pro", "Phones", "Quasar", 99_900, sale=89_900, rating=4.8, reviews=900,
            tags=("phone", "smartphone"), popularity=95, description="Our best phone camera."),
    Listing(7, "Wireless Headphones", "Electronics", "Sonora", 19_900, rating=2.5, reviews=30,
            tags=("audio",), popularity=60, description="Noise cancelling headphones."),
    Listing(8, "Copperpot Kettle", "Kitchen", "Copperpot", 4_900, rating=1.5, reviews=3, stock=0, popularity=20,
            tags=("kettle",), description="Boils water <fast> & quietly."),
    Listing(9, "Stride Gaming Chair", "Home", "STRIDE", 24_900, sale=19_900, rating=0.0, popularity=1,
            description="Not a laptop, a chair.", more_prices=(22_900,)),
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    index = SearchIndex.open(tmp_path_factory.mktemp("shop") / "search", writer_memory=30_000_000, writer_threads=1)
    index.upsert([listing.doc() for listing in SHOP])
    index.commit()
    yield index
    index.close()


def names(result: dict[str, Any]) -> list[str]:
    return [hit["name"] for hit in result["hits"]]


def find(index: SearchIndex, **params: Any) -> dict[str, Any]:
    return index.search(SearchRequest.from_params(**params))


# -- relevance ---------------------------------------------------------------------------------------------
def test_an_exact_name_match_outranks_a_mention_in_the_description(shop: SearchIndex) -> None:
    result = find(shop, q="trail runner")
    assert names(result) == ["Trail Runner 2", "Everyday Socks"]
    assert result["hits"][0]["highlights"]["name"] == "<b>Trail</b> <b>Runner</b> 2"


def test_the_name_weighs_more_than_tags_and_description(shop: SearchIndex) -> None:
    found = names(find(shop, q="laptop"))
    assert set(found[:3]) == {"Vertex Ultrabook 14 Laptop", "Helix Gaming Laptop 16", "Laptop Sleeve 14 in"}
    assert found[-1] == "Stride Gaming Chair"  # only its description says laptop


def test_a_typo_still_finds_the_laptop(shop: SearchIndex) -> None:
    assert "Helix Gaming Laptop 16" in names(find(shop, q="labtop"))
    assert names(find(shop, q="hedphones")) == ["Wireless Headphones"]  # 9 letters: two edits allowed
    assert names(find(shop, q="ketle copperpot")) == ["Copperpot Kettle"]
    assert find(shop, q="kettel")["total"] == 1  # a swap of two letters is one edit
    assert find(shop, q="sok ")["total"] == 0  # short words must be spelled right


def test_the_word_being_typed_matches_as_a_prefix_until_a_space_ends_it(shop: SearchIndex) -> None:
    assert names(find(shop, q="gaming lapt")) == ["Helix Gaming Laptop 16"]
    assert set(names(find(shop, q="lapt"))) == {"Vertex Ultrabook 14 Laptop", "Helix Gaming Laptop 16",
                                                "Laptop Sleeve 14 in"}
    assert find(shop, q="lapt ")["total"] == 0


def test_quoted_words_must_stand_together(shop: SearchIndex) -> None:
    assert names(find(shop, q='"gaming laptop"')) == ["Helix Gaming Laptop 16"]
    assert set(names(find(shop, q="gaming laptop"))) >= {"Helix Gaming Laptop 16"}


def test_every_word_must_match_unless_no_product_has_them_all(shop: SearchIndex) -> None:
    assert names(find(shop, q="quasar phone")) == ["Quasar Phone Pro"]
    relaxed = names(find(shop, q="quasar kettle"))  # nobody sells both: show what has either
    assert set(relaxed) == {"Quasar Phone Pro", "Copperpot Kettle"}


def test_little_words_like_for_are_not_required(shop: SearchIndex) -> None:
    assert names(find(shop, q="sleeve for a laptop")) == ["Laptop Sleeve 14 in"]
    assert find(shop, q="for the")["total"] > 0  # only little words: then they count


def test_no_text_lists_everything_by_the_sort_alone(shop: SearchIndex) -> None:
    by_popularity = sorted(SHOP, key=lambda listing: -listing.popularity)
    assert names(find(shop, q="", page_size=100)) == [listing.product["name"] for listing in by_popularity]
    assert find(shop, q=" ?! ")["total"] == len(SHOP)


# -- filters and sorts -------------------------------------------------------------------------------------
def test_a_category_includes_its_subcategories(shop: SearchIndex) -> None:
    assert set(names(find(shop, category=CATS["Laptops"]))) == {
        "Vertex Ultrabook 14 Laptop", "Helix Gaming Laptop 16", "Laptop Sleeve 14 in"}
    assert find(shop, category=CATS["Electronics"])["total"] == 5
    assert names(find(shop, category=CATS["Gaming"])) == ["Helix Gaming Laptop 16"]


def test_brands_may_repeat_and_ignore_case(shop: SearchIndex) -> None:
    assert set(names(find(shop, brand=["stride"]))) == {"Trail Runner 2", "Everyday Socks", "Stride Gaming Chair"}
    assert find(shop, brand=["Vertex", "HELIX"])["total"] == 2


def test_price_filters_read_the_sale_price_of_the_cheapest_variant(shop: SearchIndex) -> None:
    assert set(names(find(shop, price_min=90_000, price_max=100_000))) == {"Vertex Ultrabook 14 Laptop"}
    assert names(find(shop, price_min=19_900, price_max=19_900, sort="price_asc")) == [
        "Wireless Headphones", "Stride Gaming Chair"]


def test_a_rating_floor_and_in_stock_only(shop: SearchIndex) -> None:
    assert {h["name"] for h in find(shop, rating_min=4.5)["hits"]} == {
        "Vertex Ultrabook 14 Laptop", "Laptop Sleeve 14 in", "Quasar Phone Pro"}
    in_stock = find(shop, in_stock="true", page_size=100)
    assert in_stock["total"] == 7 and all(hit["in_stock"] for hit in in_stock["hits"])
    assert find(shop, in_stock="false")["total"] == len(SHOP)


@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_orders_the_shop(shop: SearchIndex, sort: str) -> None:
    def expected_key(listing: Listing) -> Any:
        product = listing.product
        return {"price_asc": listing.price, "price_desc": -listing.price,
                "rating_desc": (-product["rating"], -product["review_count"]),
                "newest": -int(listing.id[4:]),  # listed one second apart, in number order
                "popularity": -listing.popularity, "relevance": -listing.popularity}[sort]

    hits = find(shop, sort=sort, page_size=100)["hits"]
    assert [hit["product_id"] for hit in hits] == [listing.id for listing in sorted(SHOP, key=expected_key)]


def test_a_hit_carries_what_a_result_card_shows(shop: SearchIndex) -> None:
    hit = find(shop, q="kettle")["hits"][0]
    assert {k: hit[k] for k in ("name", "brand", "category_id", "price", "sale_price", "currency", "rating",
                                 "review_count", "image", "in_stock")} == {
        "name": "Copperpot Kettle", "brand": "Copperpot", "category_id": CATS["Kitchen"], "price": 4_900,
        "sale_price": None, "currency": "USD", "rating": 1.5, "review_count": 3,
        "image": "https://img.example/8-0.jpg", "in_stock": False}
    assert hit["product_id"] == "prd_0008"
    assert find(shop, q="fast boils")["hits"][0]["highlights"]["description"] == \
        "<b>Boils</b> water &lt;<b>fast</b>&gt; &amp; quietly."


@pytest.mark.parametrize("text", [
    '"', '""', '"unclosed', "title:laptop", "name:(a OR b)", "[* TO *]", "{1 TO 2}", "laptop^100", "lap~2",
    "a AND OR NOT b", "NOT", "-laptop +kettle", "\\", "*", "?", "(((", ")))", "laptop)", "😀 ünïcødé 中文 ",
    "\x00\x07\t\n", "'; DROP TABLE products; --", "a" * 256, "ab " * 85, "laptop " * 36, "x" * 41 + " laptop",
])
def test_hostile_text_neither_crashes_nor_errors(shop: SearchIndex, text: str) -> None:
    result = find(shop, q=text, category=CATS["Electronics"], sort="relevance")
    assert 0 <= result["total"] <= len(SHOP) and len(result["hits"]) == min(result["total"], 20)
    assert {facet["value"] for facet in result["facets"]["ratings"]} == set(RATING_FLOORS)


def test_completions_come_from_names_brands_and_categories(shop: SearchIndex) -> None:
    # the most common first: a category of three products, a tag of two, then a product name
    assert shop.suggest("lap") == ["Laptops", "laptop", "Laptop Sleeve 14 in"]
    assert shop.suggest("QUAS") == ["Quasar", "Quasar Phone Pro"]
    assert shop.suggest("kitch") == ["Kitchen"]
    assert shop.suggest("str") == ["Stride", "Stride Gaming Chair"]  # "STRIDE" is the same brand: shown once
    assert shop.suggest("st") == ["Stride"]  # whole names from the third letter on
    assert shop.suggest("trail  r") == ["Trail Runner 2"]
    assert shop.suggest("s", limit=3) == ["Shoes", "Stride", "sleeve"]
    assert shop.suggest("") == [] and shop.suggest("\x1f") == [] and shop.suggest("zzz") == []


# -- keeping in step with the catalog ----------------------------------------------------------------------
def test_changes_are_searchable_after_commit_and_reload(tmp_path: Path) -> None:
    writer = SearchIndex.open(tmp_path / "search", writer_memory=30_000_000, writer_threads=1)
    reader = SearchIndex.open(tmp_path / "search")
    kettle, chair = SHOP[7], SHOP[8]
    writer.upsert([kettle.doc(), chair.doc()])
    writer.commit()
    assert writer.num_docs() == 2 and reader.num_docs() == 0  # a reader sees a commit once it reloads
    empty = find(reader, q="kettle")
    assert (empty["total"], empty["hits"], empty["facets"]["brands"]) == (0, [], [])
    reader.reload()
    assert names(find(reader, q="kettle")) == ["Copperpot Kettle"]
    assert find(reader)["facets"]["brands"] == [{"value": "Copperpot", "count": 1}, {"value": "STRIDE", "count": 1}]

    kettle.product["variants"][0]["sale_price"] = 3_900  # a price change and a restock
    writer.upsert([Listing(8, "Copperpot Kettle", "Kitchen", "Copperpot", 4_900, sale=3_900, tags=("kettle",)).doc()])
    writer.delete([chair.id])
    writer.commit()
    reader.reload()
    assert reader.num_docs() == 1
    assert [(h["price"], h["sale_price"], h["in_stock"]) for h in find(reader, q="kettle")["hits"]] == [
        (4_900, 3_900, True)]
    assert find(reader, q="chair")["total"] == 0
    assert find(reader)["facets"]["brands"] == [{"value": "Copperpot", "count": 1}]  # counted again after reload
    writer.close()


def test_an_index_of_another_layout_starts_empty_to_be_rebuilt(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path / "search", writer_memory=30_000_000, writer_threads=1)
    index.upsert([SHOP[0].doc()])
    index.commit()
    index.close()
    (tmp_path / "search" / VERSION_FILE).write_text("0\n")
    (tmp_path / "search" / "notes.txt").write_text("not the index's")
    assert SearchIndex.open(tmp_path / "search").num_docs() == 0
    assert (tmp_path / "search" / "notes.txt").exists()  # only tantivy's own files are removed


def test_a_search_replica_never_empties_or_writes_the_index(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path / "search", writer_memory=30_000_000, writer_threads=1)
    index.upsert([SHOP[0].doc()])
    index.commit()
    index.close()
    (tmp_path / "search" / VERSION_FILE).write_text("0\n")  # as if the indexer had not upgraded it yet
    reader = SearchIndex.open(tmp_path / "search", read_only=True)
    assert reader.num_docs() == 1 and (tmp_path / "search" / VERSION_FILE).read_text() == "0\n"
    with pytest.raises(RuntimeError):
        reader.upsert([SHOP[0].doc()])


# -- facets and pages over a seeded catalog, against brute force ---------------------------------------------
KINDS = ["kettle", "blender", "laptop", "phone", "sneaker", "lamp"]
BRANDS = ["Acme", "acme", "Zenith", "Orbit", "Nimbus", "Stride", ""]
LEAVES = ["Gaming", "Laptops", "Phones", "Shoes", "Kitchen", "Home", "Electronics"]


def seeded_catalog(count: int = 300, seed: int = 11) -> list[Listing]:
    rng = random.Random(seed)
    listings = []
    for number in range(count):
        kind, brand = rng.choice(KINDS), BRANDS[min(int(rng.paretovariate(1.2)) - 1, len(BRANDS) - 1)]
        price = rng.choice([500, 999, 1000, 2499, 2500, 7000, 10_000, 30_000, 99_999, 100_000, 250_000])
        listings.append(Listing(
            number, f"{brand or 'Plain'} {kind.title()} {number}", rng.choice(LEAVES), brand, price,
            sale=price * 8 // 10 if rng.random() < 0.3 else None,
            rating=rng.choice([0.0, 1.0, 2.5, 3.0, 3.99, 4.0, 5.0]), reviews=rng.randint(0, 50),
            stock=rng.choice([0, 3]), tags=(kind,), popularity=rng.randint(0, 20),
            description=f"A fine {kind}."))
    return listings


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SearchIndex, list[Listing]]]:
    listings = seeded_catalog()
    index = SearchIndex.open(tmp_path_factory.mktemp("catalog"), writer_memory=30_000_000, writer_threads=1)
    for start in range(0, len(listings), 100):  # a few commits, so a few segments
        index.upsert([listing.doc() for listing in listings[start:start + 100]])
        index.commit()
    yield index, listings
    index.close()


def keeps(listing: Listing, request: SearchRequest, without: str | None = None) -> bool:
    """Brute force: does the listing pass the request (whose text is one kind word or nothing)?"""
    product = listing.product
    checks = {
        "text": not request.q or request.q in product["tags"]
        or any(c.name.lower().startswith(request.q) for c in TREE.path(product["category_id"])),
        "category": request.category is None or request.category in listing.path,
        "brands": not request.brands or product["brand"].casefold() in {b.casefold() for b in request.brands},
        "price": (request.price_min or 0) <= listing.price <= (request.price_max or 10**12),
        "rating": request.rating_min is None or product["rating"] >= request.rating_min,
        "in_stock": not request.in_stock or sum(listing.available.values()) > 0,
    }
    return all(ok for name, ok in checks.items() if name != without)


def brute_facets(listings: list[Listing], request: SearchRequest) -> dict[str, Any]:
    def scope(without: str) -> list[Listing]:
        return [listing for listing in listings if keeps(listing, request, without)]

    categories: dict[str, int] = {}
    for listing in scope("category"):
        for category_id in listing.path:
            categories[category_id] = categories.get(category_id, 0) + 1
    brands: dict[str, int] = {}
    for listing in scope("brands"):
        if listing.product["brand"]:
            key = listing.product["brand"].casefold()
            brands[key] = brands.get(key, 0) + 1
    return {
        "categories": categories, "brands": brands,
        "price_ranges": [sum(1 for x in scope("price") if low <= x.price < (high or 10**12))
                         for low, high in PRICE_RANGES],
        "ratings": [sum(1 for x in scope("rating") if x.product["rating"] >= floor) for floor in RATING_FLOORS],
    }


@pytest.mark.parametrize("params", [
    {}, {"q": "kettle"}, {"brand": ["acme"]}, {"brand": ["Zenith", "orbit"], "in_stock": "true"},
    {"category": CATS["Electronics"]}, {"q": "laptop", "category": CATS["Laptops"], "brand": ["Nimbus"]},
    {"price_min": 1000, "price_max": 30_000, "rating_min": 3}, {"rating_min": 4, "category": CATS["Home"]},
    {"q": "lamp", "category": CATS["Home"], "brand": ["Stride"], "price_min": 2500, "rating_min": 1,
     "in_stock": "true"},
])
def test_facet_counts_match_a_brute_force_count_with_every_filter_but_their_own(
        catalog: tuple[SearchIndex, list[Listing]], params: dict[str, Any]) -> None:
    index, listings = catalog
    request = SearchRequest.from_params(**params)
    result = index.search(request)
    expected = brute_facets(listings, request)
    assert result["total"] == sum(1 for listing in listings if keeps(listing, request))
    facets = result["facets"]
    assert {f["value"]: f["count"] for f in facets["categories"]} == expected["categories"]
    assert {f["value"].casefold(): f["count"] for f in facets["brands"]} == expected["brands"]
    assert [f["count"] for f in facets["price_ranges"]] == expected["price_ranges"]
    assert [(f["from"], f["to"]) for f in facets["price_ranges"]] == list(PRICE_RANGES)
    assert [f["count"] for f in facets["ratings"]] == expected["ratings"]


@pytest.mark.parametrize("sort", SORTS)
def test_paging_through_every_page_shows_each_product_once(
        catalog: tuple[SearchIndex, list[Listing]], sort: str) -> None:
    index, listings = catalog
    seen: list[str] = []
    page, total = 1, None
    while total is None or len(seen) < total:
        result = index.search(SearchRequest(q="sneaker lamp" if sort == "relevance" else "", sort=sort, page=page,
                                            page_size=7))
        total = result["total"]
        assert result["hits"], f"page {page} is empty before all {total} were shown"
        seen += [hit["product_id"] for hit in result["hits"]]
        page += 1
    assert len(seen) == len(set(seen)) == total
    expected = [x for x in listings if sort != "relevance" or {"sneaker", "lamp"} & set(x.product["tags"])]
    assert set(seen) == {x.id for x in expected}
    past_the_end = SearchRequest(q="sneaker lamp" if sort == "relevance" else "", sort=sort, page=page, page_size=7)
    assert index.search(past_the_end)["hits"] == []
