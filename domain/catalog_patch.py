"""Changing a listing: the owner seller or an admin patches fields, reprices variants and adds new ones.

`patched` works on a copy and checks every invariant before it returns, so a refused patch changes nothing;
the caller swaps the returned product in and records the changes the `ProductUpdate` describes.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any

from domain.catalog import (
    STATUS_TRANSITIONS,
    STATUSES,
    CatalogUser,
    Product,
    Variant,
    build_variant,
    check_product,
    check_variant,
    ensure_can_edit,
    initial_stock,
)
from domain.catalog_fields import (
    DESCRIPTION_MAX,
    MAX_VARIANTS,
    clean_attributes,
    clean_brand,
    clean_images,
    clean_name,
    clean_specifications,
    clean_tags,
    clean_text,
    money,
    refuse_unknown,
)
from domain.errors import Conflict, Invalid

PATCH_FIELDS = frozenset({"name", "description", "brand", "tags", "status", "specifications", "category_id",
                          "variants"})
VARIANT_PATCH_FIELDS = frozenset({"id", "price", "sale_price", "images", "attributes"})

_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": clean_name,
    "description": lambda value: clean_text(value, DESCRIPTION_MAX, "invalid_description"),
    "brand": clean_brand,
    "tags": clean_tags,
    "specifications": clean_specifications,
    "category_id": lambda value: value if isinstance(value, str) else "",
}


@dataclass
class ProductUpdate:
    product: Product
    fields: list[str] = field(default_factory=list)
    price_changes: list[dict[str, Any]] = field(default_factory=list)
    status_change: tuple[str, str] | None = None
    stock: list[dict[str, Any]] = field(default_factory=list)  # stock records for added variants

    @property
    def changed(self) -> bool:
        return bool(self.fields)

    @property
    def added_variant_ids(self) -> list[str]:
        return [item["variant_id"] for item in self.stock]


def added_variants(patch: dict[str, Any]) -> int:
    """How many new variants a patch adds (entries of `variants` without an id): the caller names them."""
    entries = patch.get("variants")
    return sum(1 for e in entries if isinstance(e, dict) and "id" not in e) if isinstance(entries, list) else 0


def patched(product: Product, patch: dict[str, Any], user: CatalogUser, now: str, categories: Container[str],
            new_variant_ids: list[str] | None = None, currency: str | None = None) -> ProductUpdate:
    ensure_can_edit(product, user)
    if product.status == "archived":
        raise Conflict("product_archived", "An archived product cannot be changed", {"product_id": product.id})
    refuse_unknown(patch, PATCH_FIELDS, "product")
    update = ProductUpdate(Product.from_dict(product.to_dict()))
    draft = update.product
    for name, clean in _CLEANERS.items():
        if name in patch:
            value = clean(patch[name])
            if value != getattr(draft, name):
                setattr(draft, name, value)
                update.fields.append(name)
    if "status" in patch and patch["status"] != draft.status:
        update.status_change = _transition(draft.status, patch["status"])
        draft.status = patch["status"]
        update.fields.append("status")
    if "variants" in patch:
        _patch_variants(update, patch["variants"], list(new_variant_ids or []))
    check_product(draft, categories, currency)
    if update.changed:
        draft.updated_at = now
    return update


def rated(product: Product, rating: float, review_count: int) -> Product:
    """The product with the rating the reviews give it (reviews are eventual, fed by events)."""
    if not 0 <= rating <= 5 or review_count < 0:
        raise Invalid("invalid_rating", "A rating is 0 to 5 and a review count is at least 0")
    updated = Product.from_dict(product.to_dict())
    updated.rating, updated.review_count = round(float(rating), 2), int(review_count)
    return updated


def _transition(current: str, wanted: Any) -> tuple[str, str]:
    if wanted not in STATUSES:
        raise Invalid("invalid_status", f"The status is one of {', '.join(STATUSES)}", {"status": wanted})
    if wanted not in STATUS_TRANSITIONS[current]:
        raise Conflict("invalid_status_transition", f"A {current} product cannot become {wanted}",
                       {"from": current, "to": wanted})
    return current, wanted


def _patch_variants(update: ProductUpdate, entries: Any, new_ids: list[str]) -> None:
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise Invalid("invalid_variant", "variants is a list of objects")
    draft = update.product
    added: list[tuple[dict[str, Any], Variant]] = []
    touched = False
    for entry in entries:
        if "id" in entry:
            touched |= _patch_variant(update, entry)
        else:
            if not new_ids:
                raise Invalid("invalid_variant", "No id was set aside for a new variant")
            added.append((entry, build_variant(entry, new_ids.pop(0))))
    if len(draft.variants) + len(added) > MAX_VARIANTS:
        raise Invalid("too_many_variants", f"A product has at most {MAX_VARIANTS} variants")
    draft.variants.extend(variant for _, variant in added)
    update.stock = initial_stock([raw for raw, _ in added], [variant for _, variant in added])
    if touched or added:
        update.fields.append("variants")


def _patch_variant(update: ProductUpdate, entry: dict[str, Any]) -> bool:
    """Apply one existing variant's changes; True when something changed."""
    fixed = sorted(set(entry) - VARIANT_PATCH_FIELDS)
    if fixed:
        raise Invalid("immutable_field", "A variant's SKU, currency and stock do not change through the product",
                      {"fields": fixed})
    variant_id = entry["id"]
    variant = next((v for v in update.product.variants if v.id == variant_id), None)
    if variant is None:
        raise Invalid("unknown_variant", "The product has no such variant", {"variant_id": variant_id})
    before = variant.to_dict()
    if "price" in entry:
        variant.price = money(entry["price"], variant.sku)
    if "sale_price" in entry:
        variant.sale_price = None if entry["sale_price"] is None else money(entry["sale_price"], variant.sku)
    if "images" in entry:
        variant.images = clean_images(entry["images"])
    if "attributes" in entry:
        variant.attributes = clean_attributes(entry["attributes"])
    check_variant(variant)
    if (before["price"], before["sale_price"]) != (variant.price, variant.sale_price):
        update.price_changes.append({
            "variant_id": variant.id, "currency": variant.currency, "old_price": before["price"],
            "old_sale_price": before["sale_price"], "price": variant.price, "sale_price": variant.sale_price})
    return before != variant.to_dict()
