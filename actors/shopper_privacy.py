"""An erased shopper on the shopper shard: the orders are kept for the books with the shipping address reduced to
what taxes need (domain/privacy.py), and the cart goes. The order ids and the user id stay: the user id is a
pseudonym once the account holds no personal data (docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Callable

from actors import keys
from actors.shopper_base import ShopperBase
from actors.store import Changes
from domain.orders import Order
from domain.privacy import is_pseudonymised, pseudonymised_address


class ShopperPrivacy(ShopperBase):
    async def erase_shopper(self, user_id: str) -> int:
        """Pseudonymise every order of the shopper and drop the cart; how many orders were changed. Idempotent."""
        order_ids = await self.store.redis.zrange(keys.user_orders(user_id), 0, -1)
        changed = 0
        for order_id in order_ids:
            async with self._one_at_a_time(order_id):
                order = await self._order(order_id)
                if order is None or order.user_id != user_id or is_pseudonymised(order.shipping_address):
                    continue
                await self.submit(self._pseudonymise(order))
                changed += 1
        await self._cart(user_id)

        def drop_cart(changes: Changes) -> None:
            self.carts.pop(user_id, None)
            changes.hdel(keys.carts(self.shard), user_id)
            changes.emit("cart.erased", user_id=user_id)

        await self.submit(drop_cart)
        return changed

    def _pseudonymise(self, order: Order) -> Callable[[Changes], None]:
        def command(changes: Changes) -> None:
            order.shipping_address = pseudonymised_address(order.shipping_address)
            self._save_order(order, changes, "order.pseudonymised")

        return command
