"""Order commands of the shopper shard (orders are placed by the checkout saga, actors/checkout.py).

Cancelling and shipping touch the inventory shards and the payment gateway. Those calls are idempotent and
keyed by the order, and they run before the order's own status change, one change per order at a time, so a
failure leaves the order as it was and a retry finishes the job. Shipping captures the money before it takes the
stock off the shelf: a refused capture (402 `capture_failed`) leaves both the order and the stock untouched, and
stock that could not be shipped after a capture is shipped by the retry (the capture replays) or, if the order
is cancelled instead, the captured money is refunded.
The order's `payment_status` after a cancellation says what happened to the money: "voided" when only an
authorization was released, "refunded" when captured money went back.
"""

from __future__ import annotations

from typing import Any

from actors.shopper_base import ShopperBase
from actors.store import Changes
from domain.clock import now_iso
from domain.errors import Conflict, NotFound
from domain.orders import Order

# the gateway's payment status after the money was given back -> the order's payment_status
GIVEN_BACK = {"voided": "voided", "refunded": "refunded"}


class OrderCommands(ShopperBase):
    async def _owned(self, order_id: str, user_id: str | None) -> Order:
        """The order, if `user_id` (None for an admin) may see it; another user's order is simply not found."""
        order = await self._order(order_id)
        if order is None or (user_id is not None and order.user_id != user_id):
            raise NotFound("order_not_found", "No such order", {"order_id": order_id})
        return order

    async def get_order(self, order_id: str, user_id: str | None = None) -> dict[str, Any]:
        return (await self._owned(order_id, user_id)).view()

    async def cancel(self, order_id: str, user_id: str | None, reason: str | None = None) -> dict[str, Any]:
        """Cancel before shipping: stock goes back, the authorization is voided (or the capture refunded)."""
        async with self._one_at_a_time(order_id):
            order = await self._owned(order_id, user_id)
            order.ensure_can_move_to("cancelled")
            await self._release(order.reservations)
            payment_status = await self._give_money_back(order)

            def command(changes: Changes) -> dict[str, Any]:
                at = now_iso()
                order.move_to("cancelled", at, note=reason or ("cancelled by admin" if user_id is None else None))
                order.set_payment_status(payment_status, at)
                return self._save_order(order, changes, "order.cancelled", reason=reason)

            return await self.submit(command)

    async def advance(self, order_id: str, status: str, tracking_number: str | None = None,
                      note: str | None = None) -> dict[str, Any]:
        """Admin moves an order forward (confirmed, packed, shipped, delivered). Shipping captures the payment,
        then takes the stock off the shelf."""
        async with self._one_at_a_time(order_id):
            order = await self._owned(order_id, None)
            order.ensure_can_move_to(status)
            if status == "shipped" and not tracking_number:
                order.move_to(status, now_iso(), tracking_number=None)  # raises tracking_number_required
            payment_status = order.payment_status
            if status == "shipped":  # the money first: an order whose capture is refused does not ship
                payment_status = await self._capture(order)
                await self._ship_stock(order)

            def command(changes: Changes) -> dict[str, Any]:
                at = now_iso()
                order.move_to(status, at, note=note, tracking_number=tracking_number)
                order.set_payment_status(payment_status, at)
                return self._save_order(order, changes, f"order.{status}", tracking_number=order.tracking_number)

            return await self.submit(command)

    async def chargeback(self, order_id: str, reason: str) -> dict[str, Any]:
        """The card's issuer took the order's captured money back (an admin records what the issuer reported):
        a `payment.chargeback` event from the gateway; the order itself is unchanged. Once per order."""
        order = await self._owned(order_id, None)
        if order.payment_id is None:
            raise Conflict("payment_not_disputable", "The order was not paid by card", {"order_id": order_id})
        payment = await self.gateway.chargeback(order.payment_id, reason, f"{order.id}:chargeback")
        return {"order_id": order.id, "payment_id": payment["id"], "amount": payment["charged_back"],
                "reason": reason, "status": payment["status"]}

    # -- the other shards and the gateway -------------------------------------------------------------------
    async def _ship_stock(self, order: Order) -> None:
        for reservation in order.reservations:
            await self.router.owner("inventory", reservation["variant_ids"][0]).ship.remote(reservation["id"])

    async def _give_money_back(self, order: Order) -> str:
        """Void an authorization, refund a capture; the order's payment status for what the gateway then says
        (a retry finds the payment voided or refunded already and says the same)."""
        if order.payment_id is None:  # it cost nothing: nothing to give back
            return order.payment_status
        payment = await self.gateway.get(order.payment_id)
        if payment["status"] == "authorized":
            payment = await self.gateway.void(order.payment_id, f"{order.id}:void")
        elif payment["status"] in ("captured", "partially_refunded"):
            payment = await self.gateway.refund(order.payment_id, None, f"{order.id}:cancel-refund")
        return GIVEN_BACK.get(payment["status"], order.payment_status)

    async def _capture(self, order: Order) -> str:
        """The order's payment status once captured ("paid"); a refused capture raises
        PaymentDeclined("capture_failed") and changes nothing."""
        if order.payment_id is None:
            return order.payment_status
        await self.gateway.capture(order.payment_id, None, f"{order.id}:capture")
        return "paid"
