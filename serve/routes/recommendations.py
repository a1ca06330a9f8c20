"""Recommendations: "for you" (a signed-in shopper) and "customers also bought" (anyone), answered from each
replica's in-memory store (serve/recommendations.py, docs/recommendations.md)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from serve.deps import Ctx, SignedToken
from serve.recommendations import for_shopper, related_to
from serve.routes.catalog import MaybeUser, as_catalog_user
from serve.schemas import PathId

router = APIRouter(tags=["recommendations"])

LIMIT_DEFAULT, LIMIT_MAX = 10, 50
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description=f"how many products, 1 to {LIMIT_MAX}")]


def items(products: list[dict[str, Any]]) -> Response:
    """`{"items": [...]}` encoded here with orjson: FastAPI's encoding of some ten whole products was a good part of
    these routes' CPU (benchmarks/README.md)."""
    return Response(orjson.dumps({"items": products}), media_type="application/json")


@router.get("/v1/recommendations", response_model=None)
async def recommendations(ctx: Ctx, token: SignedToken, limit: Limit = LIMIT_DEFAULT) -> Response:
    """Signed-in shopper. 200 `{"items": [product, ...]}`: active products in stock the shopper has not ordered,
    best first, popular ones for a shopper the model does not know; each with a `link` carrying
    `?ref=recommendation`. 401 without a valid token; 422 for a limit outside 1..50."""
    return items(await for_shopper(ctx, token, limit))  # its revocation is checked with the first read


@router.get("/v1/products/{product_id}/related", response_model=None)
async def related_products(product_id: PathId, ctx: Ctx, user: MaybeUser, limit: Limit = LIMIT_DEFAULT
                           ) -> Response:
    """Anyone. 200 `{"items": [product, ...]}`: what the product's buyers (and viewers) also bought, in stock,
    never the product itself nor (for a signed-in shopper) what they ordered; each `link` carries `?ref=related`.
    404 when the product is unknown or hidden from the caller; 422 for a limit outside 1..50."""
    return items(await related_to(ctx, product_id, as_catalog_user(user), None if user is None else user.user_id,
                                  limit))
