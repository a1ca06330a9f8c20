"""The demo catalog's vocabulary and a deterministic generator of product listings from it.

Product i depends only on the random seed and the products before it, never on how many are asked for, so a
bigger seed run starts with exactly the products (and ids) of a smaller one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ulid import ULID

# root category -> its children (a root without children holds products itself)
CATEGORY_TREE: dict[str, list[str]] = {
    "Electronics": ["Laptops", "Phones", "Audio", "Cameras", "Wearables"],
    "Fashion": ["Men", "Women", "Shoes", "Accessories"],
    "Home": ["Kitchen", "Furniture", "Decor"],
    "Books": ["Fiction", "Non-fiction"],
    "Sports": ["Fitness", "Outdoor"],
    "Beauty": ["Skincare", "Fragrance"],
    "Toys": [],
}

COLORS = ["Black", "White", "Silver", "Navy", "Red", "Forest Green", "Sand", "Graphite", "Rose"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]


@dataclass(frozen=True)
class Department:
    """How to make listings of one leaf category: brands, product kinds, options, specifications, prices."""

    category: tuple[str, ...]
    brands: list[str]
    kinds: list[str]
    options: dict[str, list[str]]  # attribute -> values; a product varies in one of them
    specs: dict[str, list[Any]]
    price: tuple[int, int]  # minor units
    tags: list[str] = field(default_factory=list)


DEPARTMENTS = [
    Department(("Electronics", "Laptops"), ["Vertex", "Lumina", "Nimbus", "Helix", "Corvid"],
               ["Ultrabook", "Gaming Laptop", "2-in-1 Laptop", "Workstation", "Chromebook"],
               {"storage": ["256GB", "512GB", "1TB", "2TB"], "color": ["Silver", "Graphite", "Black"]},
               {"screen": ["13.3 in", "14 in", "15.6 in", "16 in"], "ram": ["8GB", "16GB", "32GB"],
                "processor": ["8-core", "10-core", "12-core"], "weight": ["1.2 kg", "1.4 kg", "2.1 kg"]},
               (39900, 249900), ["laptop", "computer", "portable"]),
    Department(("Electronics", "Phones"), ["Quasar", "Orbit", "Lumina", "Pixelon", "Zephyr"],
               ["Smartphone", "Phone Pro", "Phone Mini", "Foldable Phone"],
               {"storage": ["128GB", "256GB", "512GB"], "color": COLORS[:6]},
               {"screen": ["6.1 in", "6.5 in", "6.7 in"], "camera": ["48 MP", "50 MP", "108 MP"],
                "battery": ["4000 mAh", "4500 mAh", "5000 mAh"], "5g": [True]},
               (19900, 149900), ["phone", "smartphone", "mobile"]),
    Department(("Electronics", "Audio"), ["Sonora", "Echo Labs", "Pulse", "Bassline", "Aurion"],
               ["Wireless Earbuds", "Over-Ear Headphones", "Bluetooth Speaker", "Soundbar", "Studio Monitor"],
               {"color": ["Black", "White", "Navy", "Sand"]},
               {"battery_life": ["20 h", "30 h", "40 h"], "noise_cancelling": [True, False],
                "connectivity": ["Bluetooth 5.3", "Bluetooth 5.0", "Wired + Bluetooth"]},
               (2900, 49900), ["audio", "music", "wireless"]),
    Department(("Electronics", "Cameras"), ["Aperture", "Lumina", "Kestrel"],
               ["Mirrorless Camera", "Action Camera", "Instant Camera", "Compact Camera"],
               {"kit": ["Body only", "With 18-55mm lens", "With 24-105mm lens"]},
               {"sensor": ["APS-C", "Full frame", "1 in"], "megapixels": [20, 24, 33, 45],
                "video": ["4K 30fps", "4K 60fps", "6K"]},
               (14900, 329900), ["camera", "photography"]),
    Department(("Electronics", "Wearables"), ["Pulse", "Orbit", "Stride"],
               ["Smartwatch", "Fitness Tracker", "Sport Watch"],
               {"band_size": ["S", "M", "L"], "color": ["Black", "Silver", "Rose"]},
               {"water_resistance": ["5 ATM", "10 ATM"], "gps": [True, False], "battery_life": ["2 days", "7 days"]},
               (4900, 59900), ["wearable", "fitness", "watch"]),
    Department(("Fashion", "Men"), ["Northwind", "Harbor & Co", "Urban Thread", "Alder"],
               ["Oxford Shirt", "Chino Trousers", "Wool Sweater", "Denim Jacket", "Polo Shirt", "Rain Jacket"],
               {"size": SIZES[1:]}, {"material": ["Cotton", "Merino wool", "Linen", "Denim"],
                                      "fit": ["Slim", "Regular", "Relaxed"], "care": ["Machine wash", "Dry clean"]},
               (1900, 19900), ["men", "clothing"]),
    Department(("Fashion", "Women"), ["Maison Vale", "Urban Thread", "Lark", "Alder"],
               ["Wrap Dress", "Silk Blouse", "Cardigan", "High-Rise Jeans", "Trench Coat", "Midi Skirt"],
               {"size": SIZES[:5]}, {"material": ["Cotton", "Silk", "Viscose", "Wool blend"],
                                     "fit": ["Slim", "Regular", "Oversized"], "care": ["Machine wash", "Hand wash"]},
               (2400, 24900), ["women", "clothing"]),
    Department(("Fashion", "Shoes"), ["Stride", "Trailhead", "Maison Vale", "Northwind"],
               ["Running Shoes", "Leather Sneakers", "Chelsea Boots", "Loafers", "Trail Shoes"],
               {"size": [str(s) for s in range(6, 13)]},
               {"upper": ["Leather", "Mesh", "Suede"], "sole": ["Rubber", "EVA foam"], "width": ["Regular", "Wide"]},
               (3900, 21900), ["shoes", "footwear"]),
    Department(("Fashion", "Accessories"), ["Harbor & Co", "Lark", "Kestrel"],
               ["Leather Belt", "Canvas Backpack", "Sunglasses", "Wool Scarf", "Card Wallet"],
               {"color": ["Black", "Brown", "Navy", "Sand"]}, {"material": ["Leather", "Canvas", "Wool", "Acetate"]},
               (1500, 14900), ["accessories"]),
    Department(("Home", "Kitchen"), ["Copperpot", "Hearth", "Mistral", "Saltbox"],
               ["Chef's Knife", "Cast Iron Skillet", "Espresso Machine", "Blender", "Stand Mixer", "Kettle"],
               {"color": ["Black", "White", "Red", "Silver"]},
               {"material": ["Stainless steel", "Cast iron", "Ceramic"], "capacity": ["1 L", "1.7 L", "5 qt"],
                "dishwasher_safe": [True, False]}, (1900, 59900), ["kitchen", "cooking"]),
    Department(("Home", "Furniture"), ["Oakline", "Nordhus", "Hearth"],
               ["Dining Table", "Office Chair", "Bookshelf", "Sofa", "Bed Frame", "Coffee Table"],
               {"finish": ["Oak", "Walnut", "White", "Black"]},
               {"assembly": ["Required", "Not required"], "warranty": ["1 year", "5 years"],
                "max_load": ["100 kg", "150 kg"]}, (7900, 189900), ["furniture", "home"]),
    Department(("Home", "Decor"), ["Nordhus", "Lark", "Mistral"],
               ["Table Lamp", "Wall Mirror", "Throw Blanket", "Ceramic Vase", "Scented Candle"],
               {"color": ["White", "Sand", "Forest Green", "Graphite"]}, {"material": ["Ceramic", "Glass", "Cotton"]},
               (1200, 19900), ["decor", "home"]),
    Department(("Books", "Fiction"), ["Inkwell Press", "Harbor Books", "Lantern House"],
               ["Mystery Novel", "Science Fiction Novel", "Fantasy Saga", "Literary Novel", "Thriller"],
               {"format": ["Paperback", "Hardcover", "E-book"]},
               {"pages": [224, 320, 412, 560], "language": ["English"], "publisher_year": [2019, 2021, 2023, 2024]},
               (799, 3499), ["books", "fiction", "reading"]),
    Department(("Books", "Non-fiction"), ["Inkwell Press", "Meridian", "Lantern House"],
               ["Cookbook", "Biography", "History of Science", "Travel Guide", "Programming Handbook"],
               {"format": ["Paperback", "Hardcover", "E-book"]},
               {"pages": [256, 384, 480], "language": ["English"], "publisher_year": [2020, 2022, 2024]},
               (999, 5999), ["books", "non-fiction", "learning"]),
    Department(("Sports", "Fitness"), ["Ironleaf", "Pulse", "Stride", "Corefit"],
               ["Yoga Mat", "Adjustable Dumbbells", "Resistance Bands", "Kettlebell", "Jump Rope"],
               {"weight": ["4 kg", "8 kg", "12 kg", "16 kg"], "color": ["Black", "Forest Green", "Rose"]},
               {"material": ["Cast iron", "TPE", "Natural rubber"], "non_slip": [True, False]},
               (999, 29900), ["fitness", "gym", "training"]),
    Department(("Sports", "Outdoor"), ["Trailhead", "Summit", "Kestrel"],
               ["Hiking Backpack", "Two-Person Tent", "Sleeping Bag", "Trekking Poles", "Headlamp"],
               {"color": ["Forest Green", "Sand", "Navy", "Red"]},
               {"weight": ["0.4 kg", "1.1 kg", "2.3 kg"], "waterproof": [True, False],
                "season": ["3-season", "4-season"]}, (1999, 39900), ["outdoor", "camping", "hiking"]),
    Department(("Beauty", "Skincare"), ["Verdant", "Solace", "Mistral"],
               ["Face Serum", "Moisturizer", "Sunscreen SPF 50", "Cleansing Gel", "Eye Cream"],
               {"volume": ["30 ml", "50 ml", "100 ml"]},
               {"skin_type": ["All", "Dry", "Oily", "Sensitive"], "fragrance_free": [True, False]},
               (899, 8999), ["skincare", "beauty"]),
    Department(("Beauty", "Fragrance"), ["Solace", "Maison Vale", "Verdant"],
               ["Eau de Parfum", "Eau de Toilette", "Body Mist"], {"volume": ["30 ml", "50 ml", "100 ml"]},
               {"notes": ["Citrus, cedar", "Vanilla, amber", "Rose, musk"], "concentration": ["EDP", "EDT"]},
               (1999, 14900), ["fragrance", "beauty", "gift"]),
    Department(("Toys",), ["Brickwell", "Tumble", "Kestrel"],
               ["Building Set", "Puzzle 1000 Pieces", "Board Game", "Remote Control Car", "Plush Bear"],
               {"age": ["3+", "6+", "8+", "12+"]}, {"players": ["1", "2-4", "2-6"], "batteries": [True, False]},
               (999, 14900), ["toys", "kids", "gift"]),
]
SERIES = ["Pro", "Air", "Max", "Lite", "Plus", "Classic", "Essential", "Studio", "Go", "Prime", "One", "X"]
PRAISE = ["Built to last", "Designed for everyday use", "Loved by reviewers", "Thoughtfully made",
          "Great value", "Our customers' favourite", "Made with care"]
_ID_EPOCH_MS = 1_735_689_600_000  # 2025-01-01: the time part of the demo ids


def demo_id(kind: str, rng: random.Random, sequence: int) -> str:
    """A valid, time-ordered id drawn from the seeded generator, so a re-run makes the same ids."""
    raw = (_ID_EPOCH_MS + sequence).to_bytes(6, "big") + rng.getrandbits(80).to_bytes(10, "big")
    return f"{kind}_{ULID.from_bytes(raw)}"


class DemoCatalog:
    def __init__(self, seed: int, category_ids: dict[tuple[str, ...], str], currency: str) -> None:
        self.rng = random.Random(seed)
        self.category_ids = category_ids
        self.currency = currency

    def products(self, count: int) -> Iterator[dict[str, Any]]:
        for index in range(count):
            yield self.product(index)

    def product(self, index: int) -> dict[str, Any]:
        rng = self.rng
        department = rng.choice(DEPARTMENTS)
        brand, kind, series = rng.choice(department.brands), rng.choice(department.kinds), rng.choice(SERIES)
        name = f"{brand} {kind} {series} {rng.randint(1, 9)}"
        specs = {key: rng.choice(values) for key, values in department.specs.items()}
        product_id = demo_id("prd", rng, index)
        return {
            "id": product_id,
            "name": name,
            "description": f"{rng.choice(PRAISE)}: the {name} from {brand}. "
                           + " ".join(f"{k.replace('_', ' ').capitalize()}: {v}." for k, v in specs.items()),
            "category_id": self.category_ids[department.category],
            "brand": brand,
            "tags": [*department.tags, kind.lower()],
            "specifications": specs,
            "variants": self._variants(department, product_id, index),
        }

    def _variants(self, department: Department, product_id: str, index: int) -> list[dict[str, Any]]:
        rng = self.rng
        attribute = rng.choice(sorted(department.options))
        values = department.options[attribute]
        picked = sorted(rng.sample(range(len(values)), k=min(len(values), rng.randint(1, 3))))
        low, high = department.price
        base = rng.randint(low // 100, high // 100) * 100 - 1  # prices end in .99
        on_sale = rng.random() < 0.2
        variants = []
        for step, position in enumerate(picked):
            price = base + step * max(100, (base // 10) // 100 * 100)  # bigger options cost more
            sku = f"{department.category[-1][:3].upper()}-{index:07d}-{position}"
            variants.append({
                "id": demo_id("var", rng, index),
                "sku": sku,
                "attributes": {attribute: values[position]},
                "price": price,
                "sale_price": price * rng.randint(70, 90) // 100 if on_sale else None,
                "currency": self.currency,
                "images": [f"https://img.bazaar.example/{product_id.lower()}/{sku.lower()}-{n}.jpg" for n in (1, 2)],
                "initial_stock": 0 if rng.random() < 0.05 else rng.randint(1, 200),
            })
        return variants
