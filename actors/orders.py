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

from actors.fulfilment import FulfilmentCommands
from actors.store import Changes
from domain.clock import now_iso
from domain.fulfilments import UNSHIPPED


class OrderCommands(FulfilmentCommands):
    async def get_order(self, order_id: str, user_id: str | None = None) -> dict[str, Any]:
        return (await self._owned(order_id, user_id)).view()

    async def cancel(self, order_id: str, user_id: str | None, reason: str | None = None,
                     lines: dict[str, int] | None = None) -> dict[str, Any]:
        """Cancel the whole order before anything of it ships (409 `already_shipped` after), or, with `lines`, those
        units of it not shipped yet (actors/fulfilment.py): stock goes back, the money for exactly them too."""
        if lines is None:
            order = await self._owned(order_id, user_id)
            order.ensure_can_move_to("cancelled")
            reason = reason or ("cancelled by admin" if user_id is None else None)
        return await self.cancel_lines(order_id, user_id, lines, reason, "user" if user_id else "admin")

    async def advance(self, order_id: str, status: str, tracking_number: str | None = None,
                      note: str | None = None) -> dict[str, Any]:
        """Admin moves a whole order on (confirmed, packed, shipped, delivered): packing, shipping and delivering
        move every fulfilment still open (or shipped, to deliver). Shipping captures the payment first."""
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id)
            draft.ensure_can_move_to(status)
            at = now_iso()
            if status == "shipped":
                if not tracking_number:
                    draft.move_to(status, at, tracking_number=None)  # raises tracking_number_required
                assert tracking_number is not None
                open_ones = [f for f in draft.fulfilments if f.status in UNSHIPPED]
                emitted = await self._ship(draft, open_ones, None, tracking_number)
            elif status == "delivered":
                emitted = self._deliver(draft, [f for f in draft.fulfilments if f.status == "shipped"], at)
            else:
                if status == "packed":
                    for f in draft.fulfilments:
                        if f.status == "open":
                            f.move("packed", at)
                draft.move_to(status, at, note=note)
                emitted = [(f"order.{status}", {"tracking_number": draft.tracking_number})]
            if note and draft.history:
                draft.history[-1].setdefault("note", note)
            return await self.submit(lambda changes: self._record(draft, changes, _order_event_first(emitted)))

    async def chargeback(self, order_id: str, reason: str) -> dict[str, Any]:
        """The card's issuer took the order's captured money back (an admin records what the issuer reported). The
        gateway's books first (`payment.chargeback`, the fraud model's label; idempotent per order, so a retry after
        a failure below replays it), then the order (`order.charged_back`, its payment status `charged_back`).
        409 `payment_not_disputable` when nothing captured is left, `already_charged_back` the second time."""
        async with self._one_at_a_time(order_id):
            order = await self._owned(order_id, None)
            order.ensure_can_charge_back()  # refused before the gateway is asked
            assert order.payment_id is not None
            payment = await self.gateway.chargeback(order.payment_id, reason, f"{order.id}:chargeback")

            def command(changes: Changes) -> dict[str, Any]:
                order.charge_back(reason, payment["charged_back"], now_iso())
                return self._save_order(order, changes, "order.charged_back", payment_id=order.payment_id,
                                        amount=payment["charged_back"], reason=reason)

            view = await self.submit(command)
        return {"order": view, "chargeback": {"order_id": order.id, "payment_id": payment["id"],
                                              "amount": payment["charged_back"], "reason": reason,
                                              "status": payment["status"]}}


def _order_event_first(emitted: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The order's own event (order.shipped, order.delivered) first, when there is one."""
    return sorted(emitted, key=lambda item: not item[0].startswith("order."))
