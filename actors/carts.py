"""Cart commands of the shopper shard. The route checks the offer and reads the stock available now; the shard
applies the cart's rules (domain/carts.py) and persists the cart before it replies. Shown carts are read from
Redis with fresh prices and stock (serve/carts.py)."""

from __future__ import annotations

from actors.shopper_base import ShopperBase
from actors.store import Changes
from domain.carts import Cart, CartLimits
from domain.clock import now_iso


class CartCommands(ShopperBase):
    @property
    def limits(self) -> CartLimits:
        return CartLimits(self.settings.max_line_quantity, self.settings.max_cart_lines)

    async def get_cart(self, user_id: str) -> Cart:
        return await self._cart(user_id)

    async def add_item(self, user_id: str, product_id: str, variant_id: str, quantity: int, available: int) -> Cart:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> Cart:
            line = cart.add(product_id, variant_id, quantity, available, self.limits, now_iso())
            return self._save_cart(cart, changes, "cart.item_added", product_id=product_id, variant_id=variant_id,
                                   quantity=line.quantity)

        return await self.submit(command)

    async def set_quantity(self, user_id: str, variant_id: str, quantity: int, available: int) -> Cart:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> Cart:
            cart.set_quantity(variant_id, quantity, available, self.limits, now_iso())
            return self._save_cart(cart, changes, "cart.item_updated", variant_id=variant_id, quantity=quantity)

        return await self.submit(command)

    async def remove_item(self, user_id: str, variant_id: str) -> Cart:
        cart = await self._cart(user_id)

        def command(changes: Changes) -> Cart:
            cart.remove(variant_id, now_iso())
            return self._save_cart(cart, changes, "cart.item_removed", variant_id=variant_id)

        return await self.submit(command)
