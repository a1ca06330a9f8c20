"""Categories and products: browse (anyone), list and edit (sellers for their own listings, admins for any).

Writes go through the catalog actor; a product page reads committed state from Redis, with each variant's
`available` stock from the inventory's records.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field

from actors import reads, review_reads
from domain.catalog import CatalogUser, Product, ensure_visible, listing_seller
from domain.catalog_index import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, check_page
from domain.search import RESULT_WINDOW
from serve.context import Context
from serve.deps import AdminUser, Ctx, SellerOrAdmin, current_user
from serve.schemas import Body, Id, PathId
from serve.tokens import Principal

router = APIRouter(tags=["catalog"])

SpecValue = str | int | float | bool
_bearer = HTTPBearer(auto_error=False)


async def optional_user(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                        ) -> Principal | None:
    """Browsing needs no login; a token, when sent, must be valid and lets owners see their hidden listings."""
    return None if credentials is None else await current_user(ctx, credentials)


MaybeUser = Annotated[Principal | None, Depends(optional_user)]


def as_catalog_user(principal: Principal | None) -> CatalogUser | None:
    return None if principal is None else CatalogUser(principal.role, principal.seller_id)


# -- bodies -----------------------------------------------------------------------------------------------
class CategoryIn(Body):
    name: str
    parent_id: Id | None = None
    slug: str | None = None


class VariantIn(Body):
    sku: str
    attributes: dict[str, str] = Field(default_factory=dict)
    price: int
    sale_price: int | None = None
    currency: str | None = None
    images: list[str] = Field(default_factory=list)
    initial_stock: int = 0
    low_stock_threshold: int | None = None
    reorder_point: int | None = None


class ProductIn(Body):
    name: str
    description: str = ""
    category_id: Id
    brand: str = ""
    tags: list[str] = Field(default_factory=list)
    specifications: dict[str, SpecValue] = Field(default_factory=dict)
    status: Literal["draft", "active", "inactive"] = "active"
    variants: list[VariantIn]


class VariantPatchIn(Body):
    """With `id`: changes to that variant. Without: a new variant (sku, price and currency as when listing)."""

    id: Id | None = None
    sku: str | None = None
    attributes: dict[str, str] | None = None
    price: int | None = None
    sale_price: int | None = None
    currency: str | None = None
    images: list[str] | None = None
    initial_stock: int | None = None
    low_stock_threshold: int | None = None
    reorder_point: int | None = None


class ProductPatchIn(Body):
    name: str | None = None
    description: str | None = None
    category_id: Id | None = None
    brand: str | None = None
    tags: list[str] | None = None
    specifications: dict[str, SpecValue] | None = None
    status: Literal["draft", "active", "inactive", "archived"] | None = None
    variants: list[VariantPatchIn] | None = None


# -- categories -------------------------------------------------------------------------------------------
@router.get("/v1/categories")
async def list_categories(ctx: Ctx) -> dict[str, Any]:
    """200 `{"categories": [{"id", "name", "slug", "parent_id", "children": [...]}]}`."""
    return {"categories": await ctx.router.handle("catalog").category_tree.remote()}


@router.post("/v1/categories", status_code=201)
async def create_category(body: CategoryIn, ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Admin. 201 `{"category"}`; 422 `unknown_parent`; 409 `category_exists` for a sibling of the same name."""
    category = await ctx.router.handle("catalog").create_category.remote(body.name, body.parent_id, body.slug)
    return {"category": category}


# -- products ---------------------------------------------------------------------------------------------
@router.get("/v1/products")
async def list_products(
    ctx: Ctx, user: MaybeUser,
    category: Annotated[Id | None, Query(description="a category and everything below it")] = None,
    brand: Annotated[str | None, Query(max_length=80)] = None,
    seller: Annotated[Id | None, Query()] = None,
    status: Annotated[Literal["draft", "active", "inactive", "archived"] | None,
                      Query(description="not active: admins, or a seller for its own listings")] = None,
    page: Annotated[int, Query(ge=1, description=f"from 1; page * page_size is at most {RESULT_WINDOW}")] = 1,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
) -> dict[str, Any]:
    """200 `{"items", "total", "page", "page_size"}`, newest first; 422 `invalid_page` past the first 10,000
    results (as search)."""
    check_page(page, page_size)  # here, so a deep page never queues in the one catalog actor
    listing: dict[str, Any] = await ctx.router.handle("catalog").list_products.remote(
        category, brand, seller, status, page, page_size, as_catalog_user(user))
    listing["items"] = await with_stock(ctx, listing["items"])
    return listing


ViewSource = Literal["recommendation", "related", "search", "browse"]


@router.get("/v1/products/{product_id}")
async def get_product(product_id: PathId, ctx: Ctx, user: MaybeUser,
                      ref: Annotated[ViewSource | None, Query()] = None) -> dict[str, Any]:
    """200 `{"product"}` with each variant's `available`; 404 when unknown or hidden from the caller; 422 for a
    `ref` (where the shopper came from: recommendation, related, search, browse) other than those. The view is
    recorded as a `product.viewed` analytics event (sampled)."""
    stored = (await reads.products(ctx, [product_id])).get(product_id)
    product = ensure_visible(None if stored is None else Product.from_dict(stored), product_id,
                             as_catalog_user(user))
    if ctx.analytics.sampled():
        ctx.analytics.record("product.viewed", {"product_id": product_id, "user_id": user and user.user_id,
                                                "source": ref})
    return {"product": (await with_stock(ctx, [product.to_dict()]))[0]}


@router.post("/v1/products", status_code=201)
async def create_product(body: ProductIn, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """Seller or admin. 201 `{"product"}`; a seller's product is theirs, an admin's is the shop's own."""
    seller_id = listing_seller(CatalogUser(user.role, user.seller_id))
    spec = body.model_dump()
    for variant in spec["variants"]:
        variant["currency"] = variant["currency"] or ctx.settings.currency
    product = await ctx.router.handle("catalog").create_product.remote(spec, seller_id)
    return {"product": (await with_stock(ctx, [product]))[0]}


@router.patch("/v1/products/{product_id}")
async def update_product(product_id: PathId, body: ProductPatchIn, ctx: Ctx, user: SellerOrAdmin
                         ) -> dict[str, Any]:
    """Owner seller or admin. 200 `{"product"}`; 403 `not_owner`; 404; 409 for an archived product."""
    patch = body.model_dump(exclude_unset=True)
    for variant in patch.get("variants") or []:
        if "id" not in variant and not variant.get("currency"):
            variant["currency"] = ctx.settings.currency
    product = await ctx.router.handle("catalog").update_product.remote(
        product_id, patch, CatalogUser(user.role, user.seller_id))
    return {"product": (await with_stock(ctx, [product]))[0]}


async def with_stock(ctx: Context, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The products with each variant's `available` units (0 when it has no stock record), and their seller's
    `seller_rating` (`{"average", "count"}`; null for the shop's own products, 0 and 0 before the first rating)."""
    levels = await reads.stock_levels(ctx, [v["id"] for p in products for v in p["variants"]])
    ratings = await review_reads.seller_ratings(ctx, [p["seller_id"] for p in products if p.get("seller_id")])
    for product in products:
        for variant in product["variants"]:
            variant["available"] = max(0, levels.get(variant["id"], {}).get("available", 0))
        seller_id = product.get("seller_id")
        product["seller_rating"] = None if not seller_id else ratings.get(seller_id, {"average": 0.0, "count": 0})
    return products
