"""The caller's own cart. There is no cart id in any path: a user can only ever reach their own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from domain.carts import Cart
from serve import carts
from serve.deps import Ctx, CurrentUser
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
    return await carts.view(ctx, await carts.load_cart(ctx, user.user_id))


@router.post("/items")
async def add_item(body: AddItem, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    available = await carts.purchasable(ctx, body.product_id, body.variant_id)
    cart = await carts.cart_owner(ctx, user.user_id).add_item.remote(
        user.user_id, body.product_id, body.variant_id, body.quantity, available)
    return await carts.view(ctx, Cart.from_dict(cart))


@router.patch("/items/{variant_id}")
async def set_quantity(variant_id: PathId, body: SetQuantity, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    current = await carts.load_cart(ctx, user.user_id)
    line = current.lines.get(variant_id)
    available = await carts.purchasable(ctx, line.product_id, variant_id) if line and body.quantity else 0
    cart = await carts.cart_owner(ctx, user.user_id).set_quantity.remote(
        user.user_id, variant_id, body.quantity, available)
    return await carts.view(ctx, Cart.from_dict(cart))


@router.delete("/items/{variant_id}")
async def remove_item(variant_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    cart = await carts.cart_owner(ctx, user.user_id).remove_item.remote(user.user_id, variant_id)
    return await carts.view(ctx, Cart.from_dict(cart))
