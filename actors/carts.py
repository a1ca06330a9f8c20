"""The cart shard: single writer of the carts of the users that hash to it (not one process per user).

Carts load lazily from Redis on first use; Serve reads committed carts straight from Redis to show them.
"""

from __future__ import annotations

from typing import Any

from actors import keys
from actors.shard import ShardActor
from actors.store import Changes
from config import Settings
from domain.carts import Cart, CartLimits
from domain.clock import now_iso


class CartShard(ShardActor):
    kind = "carts"

    def __init__(self, settings: Settings, shard: int) -> None:
        self.carts: dict[str, Cart] = {}
        self.limits = CartLimits(settings.max_line_quantity, settings.max_cart_lines)
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        self.carts = {}  # carts load on demand; after a failed write, forget and reread

    async def _cart(self, user_id: str) -> Cart:
        cart = self.carts.get(user_id)
        if cart is None:
            raw = await self.store.hget_json(keys.carts(self.shard), user_id)
            cart = self.carts.setdefault(user_id, Cart.from_dict(raw) if raw else Cart(user_id))
        return cart

    def _save(self, cart: Cart, changes: Changes, event: str, **data: Any) -> dict[str, Any]:
        changes.hset(keys.carts(self.shard), cart.user_id, cart.to_dict())
        changes.emit(event, user_id=cart.user_id, **data)
        return cart.to_dict()

    async def get(self, user_id: str) -> dict[str, Any]:
        return (await self._cart(user_id)).to_dict()

    async def add_item(self, user_id: str, product_id: str, variant_id: str, quantity: int,
                       available: int) -> dict[str, Any]:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> dict[str, Any]:
            line = cart.add(product_id, variant_id, quantity, available, self.limits, now_iso())
            return self._save(cart, changes, "cart.item_added", product_id=product_id, variant_id=variant_id,
                              quantity=line.quantity)

        return await self.submit(command)

    async def set_quantity(self, user_id: str, variant_id: str, quantity: int, available: int) -> dict[str, Any]:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> dict[str, Any]:
            cart.set_quantity(variant_id, quantity, available, self.limits, now_iso())
            return self._save(cart, changes, "cart.item_updated", variant_id=variant_id, quantity=quantity)

        return await self.submit(command)

    async def remove_item(self, user_id: str, variant_id: str) -> dict[str, Any]:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> dict[str, Any]:
            cart.remove(variant_id, now_iso())
            return self._save(cart, changes, "cart.item_removed", variant_id=variant_id)

        return await self.submit(command)

    async def remove_purchased(self, user_id: str, order_id: str, purchased: dict[str, int]) -> dict[str, Any]:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> dict[str, Any]:
            if not cart.remove_purchased(order_id, purchased, now_iso()):
                return cart.to_dict()
            return self._save(cart, changes, "cart.checked_out", order_id=order_id)

        return await self.submit(command)
