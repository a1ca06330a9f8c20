"""Products and their variants: what a listing is, what makes it valid, who may see and edit it.

A product is a listing (name, brand, category, specifications); each variant is one buyable SKU with its own
attributes (color, size, storage), price and images. Money is an int of minor units beside an ISO currency.
Field cleaning is in `domain/catalog_fields.py`, changes to an existing product in `domain/catalog_patch.py`.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from domain.catalog_fields import (
    CURRENCY_RE,
    DESCRIPTION_MAX,
    MAX_VARIANTS,
    SKU_RE,
    clean_attributes,
    clean_brand,
    clean_images,
    clean_name,
    clean_specifications,
    clean_tags,
    clean_text,
    count,
    money,
    refuse_unknown,
)
from domain.errors import Forbidden, Invalid, NotFound
from domain.ids import is_id, new_id

STATUSES = ("draft", "active", "inactive", "archived")
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "inactive", "archived"}),
    "active": frozenset({"inactive", "archived"}),
    "inactive": frozenset({"active", "archived"}),
    "archived": frozenset(),
}
VARIANT_FIELDS = frozenset({"sku", "attributes", "price", "sale_price", "currency", "images"})
STOCK_FIELDS = frozenset({"initial_stock", "low_stock_threshold", "reorder_point"})
PRODUCT_FIELDS = frozenset({"name", "description", "category_id", "brand", "tags", "specifications", "status",
                            "variants"})


@dataclass(frozen=True, slots=True)
class CatalogUser:
    """Who is looking at or changing the catalog (the domain's view of an authenticated principal)."""

    role: str
    seller_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def owns(self, product: Product) -> bool:
        return self.role == "seller" and self.seller_id is not None and product.seller_id == self.seller_id


@dataclass(slots=True)
class Variant:
    id: str
    sku: str
    attributes: dict[str, str]
    price: int
    sale_price: int | None
    currency: str
    images: list[str] = field(default_factory=list)

    @property
    def unit_price(self) -> int:
        """What a shopper pays for one: the sale price while there is one."""
        return self.price if self.sale_price is None else self.sale_price

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sku": self.sku, "attributes": dict(self.attributes), "price": self.price,
                "sale_price": self.sale_price, "currency": self.currency, "images": list(self.images)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Variant:
        return cls(data["id"], data["sku"], dict(data.get("attributes") or {}), int(data["price"]),
                   data.get("sale_price"), data["currency"], list(data.get("images") or []))


@dataclass(slots=True)
class Product:
    id: str
    name: str
    description: str
    category_id: str
    brand: str
    tags: list[str]
    seller_id: str | None
    status: str
    specifications: dict[str, Any]
    variants: list[Variant]
    created_at: str
    updated_at: str
    rating: float = 0.0
    review_count: int = 0
    seller_suspended: bool = False  # its seller is suspended: hidden from shoppers and not for sale

    @property
    def listed(self) -> bool:
        """Shown to shoppers and for sale."""
        return self.status == "active" and not self.seller_suspended

    def variant(self, variant_id: str) -> Variant:
        for variant in self.variants:
            if variant.id == variant_id:
                return variant
        raise NotFound("variant_not_found", "No such variant of this product", {"variant_id": variant_id})

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description, "category_id": self.category_id,
                "brand": self.brand, "tags": list(self.tags), "seller_id": self.seller_id, "status": self.status,
                "rating": self.rating, "review_count": self.review_count,
                "specifications": dict(self.specifications), "created_at": self.created_at,
                "updated_at": self.updated_at, "variants": [v.to_dict() for v in self.variants],
                "seller_suspended": self.seller_suspended}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Product:
        return cls(data["id"], data["name"], data.get("description", ""), data["category_id"], data.get("brand", ""),
                   list(data.get("tags") or []), data.get("seller_id"), data["status"],
                   dict(data.get("specifications") or {}), [Variant.from_dict(v) for v in data["variants"]],
                   data["created_at"], data["updated_at"], float(data.get("rating", 0.0)),
                   int(data.get("review_count", 0)), bool(data.get("seller_suspended", False)))


@dataclass(frozen=True, slots=True)
class Offer:
    """What a cart or a checkout needs of one variant as it is listed now."""

    product_id: str
    variant_id: str
    name: str
    status: str
    seller_id: str | None
    sku: str
    unit_price: int  # the sale price while there is one
    currency: str
    image: str | None
    seller_suspended: bool = False

    @property
    def on_sale(self) -> bool:
        return self.status == "active" and not self.seller_suspended

    @classmethod
    def find(cls, product: dict[str, Any], variant_id: str) -> Offer | None:
        """The offer of one variant of a stored product (its JSON), without building the whole product."""
        for raw in product["variants"]:
            if raw["id"] == variant_id:
                variant = Variant.from_dict(raw)
                return cls(product["id"], variant.id, product["name"], product["status"], product.get("seller_id"),
                           variant.sku, variant.unit_price, variant.currency,
                           variant.images[0] if variant.images else None, bool(product.get("seller_suspended")))
        return None


# -- building and checking ---------------------------------------------------------------------------------
def new_product(spec: dict[str, Any], seller_id: str | None, now: str, categories: Container[str],
                product_id: str | None = None, variant_ids: list[str] | None = None,
                currency: str | None = None) -> Product:
    """A checked product from a listing request; `spec` may carry each variant's stock fields too."""
    refuse_unknown(spec, PRODUCT_FIELDS, "product")
    raw_variants = spec.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise Invalid("no_variants", "A product needs at least one variant")
    if len(raw_variants) > MAX_VARIANTS:
        raise Invalid("too_many_variants", f"A product has at most {MAX_VARIANTS} variants")
    ids = variant_ids or [new_id("var") for _ in raw_variants]
    if len(ids) != len(raw_variants) or (product_id is not None and not is_id(product_id, "prd")):
        raise Invalid("invalid_id", "The product or variant ids are malformed", {"product_id": product_id})
    product = Product(
        id=product_id or new_id("prd"), name=clean_name(spec.get("name")),
        description=clean_text(spec.get("description", ""), DESCRIPTION_MAX, "invalid_description"),
        category_id=str(spec.get("category_id") or ""), brand=clean_brand(spec.get("brand", "")),
        tags=clean_tags(spec.get("tags", [])), seller_id=seller_id, status=str(spec.get("status") or "active"),
        specifications=clean_specifications(spec.get("specifications", {})),
        variants=[build_variant(raw, variant_id) for raw, variant_id in zip(raw_variants, ids, strict=True)],
        created_at=now, updated_at=now)
    check_product(product, categories, currency)
    return product


def build_variant(raw: Any, variant_id: str) -> Variant:
    if not isinstance(raw, dict):
        raise Invalid("invalid_variant", "A variant is an object")
    refuse_unknown(raw, VARIANT_FIELDS | STOCK_FIELDS, "variant")
    if not is_id(variant_id, "var"):
        raise Invalid("invalid_id", "A variant id is malformed", {"variant_id": variant_id})
    sku = raw.get("sku")
    if not isinstance(sku, str) or not SKU_RE.match(sku):
        raise Invalid("invalid_sku", "A SKU has 1 to 64 letters, digits, dots, dashes or underscores", {"sku": sku})
    currency = raw.get("currency")
    if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
        raise Invalid("invalid_currency", "A currency is a three-letter ISO code like USD", {"sku": sku})
    variant = Variant(variant_id, sku, clean_attributes(raw.get("attributes", {})), money(raw.get("price"), sku),
                      None if raw.get("sale_price") is None else money(raw.get("sale_price"), sku), currency,
                      clean_images(raw.get("images", [])))
    check_variant(variant)
    return variant


def check_variant(variant: Variant) -> None:
    if variant.sale_price is not None and variant.sale_price > variant.price:
        raise Invalid("sale_price_above_price", "A sale price cannot be above the price",
                      {"sku": variant.sku, "price": variant.price, "sale_price": variant.sale_price})


def check_product(product: Product, categories: Container[str], currency: str | None = None) -> None:
    """The invariants a stored product always holds (after creation and after every change). With `currency`
    (the shop's), every variant must be priced in it: the shop charges in one currency end to end."""
    if product.category_id not in categories:
        raise Invalid("unknown_category", "The category does not exist", {"category_id": product.category_id})
    if product.status not in STATUSES:
        raise Invalid("invalid_status", f"The status is one of {', '.join(STATUSES)}", {"status": product.status})
    if not product.variants:
        raise Invalid("no_variants", "A product needs at least one variant")
    if len(product.variants) > MAX_VARIANTS:
        raise Invalid("too_many_variants", f"A product has at most {MAX_VARIANTS} variants")
    skus = [v.sku.casefold() for v in product.variants]
    if len(set(skus)) != len(skus):
        raise Invalid("duplicate_sku", "Each variant of a product needs its own SKU")
    options = [tuple(sorted(v.attributes.items())) for v in product.variants]
    if len(set(options)) != len(options):
        raise Invalid("duplicate_variant", "Two variants of a product cannot have the same attributes")
    if len({v.currency for v in product.variants}) != 1:
        raise Invalid("mixed_currency", "All variants of a product are priced in one currency")
    if currency is not None and product.variants[0].currency != currency:
        raise Invalid("unsupported_currency", f"This shop sells in {currency} only",
                      {"currency": product.variants[0].currency, "supported": [currency]})
    for variant in product.variants:
        check_variant(variant)


def initial_stock(raw_variants: list[dict[str, Any]], variants: list[Variant]) -> list[dict[str, Any]]:
    """Stock records for new variants: on_hand from `initial_stock` (default 0); thresholds only when given,
    so the inventory's own defaults apply otherwise."""
    items: list[dict[str, Any]] = []
    for raw, variant in zip(raw_variants, variants, strict=True):
        on_hand = count(raw.get("initial_stock", 0), "initial_stock")
        item: dict[str, Any] = {"variant_id": variant.id, "on_hand": on_hand}
        for name in ("low_stock_threshold", "reorder_point"):
            if raw.get(name) is not None:
                item[name] = count(raw[name], name)
        items.append(item)
    return items


# -- who may see and change ---------------------------------------------------------------------------------
def ensure_can_edit(product: Product, user: CatalogUser) -> None:
    if not (user.is_admin or user.owns(product)):
        raise Forbidden("not_owner", "Only the seller of this product or an admin may change it",
                        {"product_id": product.id})


def listing_seller(user: CatalogUser) -> str | None:
    """Whose listing a new product is: an approved seller's own, or the shop's (None) when an admin lists it."""
    if user.is_admin:
        return None
    if user.role == "seller" and user.seller_id is not None:
        return user.seller_id
    raise Forbidden("seller_only", "Only an approved seller or an admin may list products")


def can_view(product: Product, user: CatalogUser | None) -> bool:
    """Listed products are public; drafts, inactive and archived ones, and those of a suspended seller, only to
    their seller and admins."""
    return product.listed or (user is not None and (user.is_admin or user.owns(product)))


def ensure_visible(product: Product | None, product_id: str, user: CatalogUser | None) -> Product:
    if product is None or not can_view(product, user):
        raise NotFound("product_not_found", "No such product", {"product_id": product_id})
    return product


def is_listed(product: dict[str, Any]) -> bool:
    """`Product.listed` of a stored product (its JSON), without building it."""
    return product.get("status") == "active" and not product.get("seller_suspended", False)


def listing_statuses(user: CatalogUser | None, seller_id: str | None, requested: str | None) -> frozenset[str]:
    """Which statuses a listing shows: active by default; another status only to admins and the seller itself."""
    if requested is None or requested == "active":
        return frozenset({"active"})
    if requested not in STATUSES:
        raise Invalid("invalid_status", f"The status is one of {', '.join(STATUSES)}", {"status": requested})
    if user is not None and (user.is_admin or (user.seller_id is not None and user.seller_id == seller_id)):
        return frozenset({requested})
    raise Forbidden("not_owner", "Only the seller itself or an admin may list products that are not active")
