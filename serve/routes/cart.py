"""The caller's own cart. There is no cart id in any path: a user can only ever reach their own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from actors import reads
from serve import carts
from serve.deps import Ctx, CurrentUser, SignedToken
from serve.schemas import Body, Id, PathId

router = APIRouter(prefix="/v1/cart", tags=["cart"])


class AddItem(Body):
    product_id: Id
    variant_id: Id
    quantity: int = Field(ge=1, le=10_000)


class SetQuantity(Body):
    quantity: int = Field(ge=0, le=10_000)


@router.get("")
async def get_cart(ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    return await carts.view(ctx, await reads.cart(ctx, user.user_id))


@router.post("/items")
async def add_item(body: AddItem, ctx: Ctx, token: SignedToken) -> dict[str, Any]:
    """The token's revocation is checked in the one read of the offer and stock, before the cart is touched."""
    known = await carts.purchasable(ctx, body.product_id, body.variant_id, token)
    user_id = token.principal.user_id
    cart = await carts.shopper(ctx, user_id).call(
        "add_item", user_id, body.product_id, body.variant_id, body.quantity, known[1][body.variant_id])
    return await carts.view(ctx, cart, known)


@router.patch("/items/{variant_id}")
async def set_quantity(variant_id: PathId, body: SetQuantity, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    line = (await reads.cart(ctx, user.user_id)).lines.get(variant_id)
    known = await carts.purchasable(ctx, line.product_id, variant_id) if line and body.quantity else None
    available = known[1][variant_id] if known else 0
    cart = await carts.shopper(ctx, user.user_id).call("set_quantity", user.user_id, variant_id,
                                                                  body.quantity, available)
    return await carts.view(ctx, cart, known)


@router.delete("/items/{variant_id}")
async def remove_item(variant_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    cart = await carts.shopper(ctx, user.user_id).call("remove_item", user.user_id, variant_id)
    return await carts.view(ctx, cart)
