"""The order shard: single writer of the orders that hash to it (by order id).

Cancelling and shipping touch other shards (inventory, payments). Those calls are idempotent and keyed by
the order, and they run before the order's own status change under a per-order lock, so a failure leaves the
order as it was and a retry finishes the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from actors import keys
from actors.routing import Router
from actors.shard import ShardActor
from actors.store import Changes
from config import Settings
from domain.clock import epoch, now_iso
from domain.errors import NotFound
from domain.orders import Order

ORDER_NUMBER_START = 100000


class OrderShard(ShardActor):
    kind = "orders"

    def __init__(self, settings: Settings, shard: int) -> None:
        self.orders: dict[str, Order] = {}
        self.router = Router(settings)
        self._locks: dict[str, asyncio.Lock] = {}
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        self.orders = {}  # orders load on demand

    async def _find(self, order_id: str) -> Order | None:
        order = self.orders.get(order_id)
        if order is None:
            raw = await self.store.get_json(keys.order(order_id))
            if raw is not None:
                order = self.orders.setdefault(order_id, Order.from_dict(raw))
        return order

    async def _order(self, order_id: str, user_id: str | None) -> Order:
        """The order, if `user_id` (None for an admin) may see it; another user's order is simply not found."""
        order = await self._find(order_id)
        if order is None or (user_id is not None and order.user_id != user_id):
            raise NotFound("order_not_found", "No such order", {"order_id": order_id})
        return order

    @asynccontextmanager
    async def _locked(self, order_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(order_id, asyncio.Lock())
        async with lock:
            yield
        if not lock.locked() and not lock._waiters:
            self._locks.pop(order_id, None)

    def _save(self, order: Order, changes: Changes, event: str, **data: Any) -> dict[str, Any]:
        changes.set(keys.order(order.id), order.to_dict())
        changes.emit(event, order_id=order.id, user_id=order.user_id, status=order.status,
                     payment_status=order.payment_status, **data)
        return order.view()

    # -- commands --------------------------------------------------------------------------------------
    async def place(self, order_id: str, fields: dict[str, Any], held_for_review: bool) -> dict[str, Any]:
        """Create the order of a finished checkout. Idempotent by order id (a resumed saga calls it again)."""
        async with self._locked(order_id):
            existing = await self._find(order_id)
            if existing is not None:
                return existing.view()
            number = await self.store.redis.incr(keys.ORDER_NUMBER_SEQ)
            order = Order.place(id=order_id, order_number=f"BZ-{ORDER_NUMBER_START + number}",
                                held_for_review=held_for_review, **fields)

            def command(changes: Changes) -> dict[str, Any]:
                self.orders[order.id] = order
                changes.zadd(keys.user_orders(order.user_id), order.id, epoch())
                changes.zadd(keys.ORDERS_BY_TIME, order.id, epoch())
                return self._save(order, changes, "order.created", order_number=order.order_number,
                                  total=order.total, currency=order.currency,
                                  items=[{"variant_id": i.variant_id, "quantity": i.quantity, "price": i.price,
                                          "seller_id": i.seller_id} for i in order.items])

            return await self.submit(command)

    async def get(self, order_id: str, user_id: str | None = None) -> dict[str, Any]:
        return (await self._order(order_id, user_id)).view()

    async def cancel(self, order_id: str, user_id: str | None, reason: str | None = None) -> dict[str, Any]:
        """Cancel before shipping: stock goes back, the authorization is voided (or the capture refunded)."""
        async with self._locked(order_id):
            order = await self._order(order_id, user_id)
            order.ensure_can_move_to("cancelled")
            await self._release_stock(order)
            payment_status = await self._give_money_back(order)

            def command(changes: Changes) -> dict[str, Any]:
                at = now_iso()
                order.move_to("cancelled", at, note=reason or ("cancelled by admin" if user_id is None else None))
                order.set_payment_status(payment_status, at)
                return self._save(order, changes, "order.cancelled", reason=reason)

            return await self.submit(command)

    async def advance(self, order_id: str, status: str, tracking_number: str | None = None,
                      note: str | None = None) -> dict[str, Any]:
        """Admin moves an order forward (confirmed, packed, shipped, delivered). Shipping captures the payment
        and takes the stock off the shelf."""
        async with self._locked(order_id):
            order = await self._order(order_id, None)
            order.ensure_can_move_to(status)
            if status == "shipped" and not tracking_number:
                order.move_to(status, now_iso(), tracking_number=None)  # raises tracking_number_required
            payment_status = order.payment_status
            if status == "shipped":
                await self._ship_stock(order)
                payment_status = await self._capture(order)

            def command(changes: Changes) -> dict[str, Any]:
                at = now_iso()
                order.move_to(status, at, note=note, tracking_number=tracking_number)
                order.set_payment_status(payment_status, at)
                return self._save(order, changes, f"order.{status}", tracking_number=order.tracking_number)

            return await self.submit(command)

    # -- the other shards ------------------------------------------------------------------------------
    def _inventory(self, reservation: dict[str, Any]) -> Any:
        return self.router.owner("inventory", reservation["variant_ids"][0])

    async def _release_stock(self, order: Order) -> None:
        await asyncio.gather(*(self._inventory(r).release.remote(r["id"]) for r in order.reservations))

    async def _ship_stock(self, order: Order) -> None:
        await asyncio.gather(*(self._inventory(r).ship.remote(r["id"]) for r in order.reservations))

    async def _give_money_back(self, order: Order) -> str:
        if order.payment_id is None:
            return order.payment_status
        payments = self.router.handle("payments")
        payment = await payments.get.remote(order.payment_id)
        if payment["status"] == "authorized":
            await payments.void.remote(order.payment_id, f"{order.id}:void")
        elif payment["status"] in ("captured", "partially_refunded"):
            await payments.refund.remote(order.payment_id, None, f"{order.id}:cancel-refund")
        return "refunded"

    async def _capture(self, order: Order) -> str:
        if order.payment_id is None:
            return order.payment_status
        await self.router.handle("payments").capture.remote(order.payment_id, None, f"{order.id}:capture")
        return "paid"
