"""Orders across sellers, on the shopper shard: shipping and delivering one seller's fulfilment, cancelling lines
(the shopper's, a seller's, an admin's). The rules are domain/fulfilments.py's; docs/api-fulfilment.md tells the
story.

Each command works on a *draft* of the order (a copy): the rules run on it, then the gateway and the inventory shards
are called (each call idempotent: keyed by the order, or a settlement of totals), and only then is the draft saved,
with its events and the seller ledger's entries, in one transaction. A failure anywhere before the save leaves the
order as it was; a retry replays the calls already made and finishes the job.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

from actors import keys, reads
from actors.shopper_base import ShopperBase
from actors.store import Changes
from domain import fulfilments as F
from domain.clock import iso, now
from domain.orders import Order
from domain.seller_ledger import sale_entries

Emitted = list[tuple[str, dict[str, Any]]]


class FulfilmentCommands(ShopperBase):
    # -- the seller's (or an admin's) steps ---------------------------------------------------------------------
    async def ship_fulfilment(self, fulfilment_id: str, seller_id: str | None, carrier: str | None,
                              tracking_number: str) -> dict[str, Any]:
        """A seller ships its own fulfilment (an admin any): the first shipment of an order captures the payment,
        then the units leave the shelf. 404 another seller's; 409 cancelled, shipped, or an order held for review."""
        order_id = F.order_of(fulfilment_id)
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id)
            f = F.fulfilment(draft, fulfilment_id, seller_id, admin=seller_id is None)
            emitted = await self._ship(draft, [f], carrier, tracking_number)
            return await self.submit(lambda changes: self._record(draft, changes, emitted))

    async def deliver_fulfilment(self, fulfilment_id: str, seller_id: str | None) -> dict[str, Any]:
        """The carrier's confirmation (a seller or an admin reports it). 409 unless shipped."""
        order_id = F.order_of(fulfilment_id)
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id)
            f = F.fulfilment(draft, fulfilment_id, seller_id, admin=seller_id is None)
            emitted = self._deliver(draft, [f], iso(now()))
            return await self.submit(lambda changes: self._record(draft, changes, emitted))

    # -- cancelling lines -------------------------------------------------------------------------------------
    async def cancel_lines(self, order_id: str, user_id: str | None, lines: dict[str, int] | None,
                           reason: str | None = None, by: str = "user", seller_id: str | None = None,
                           fulfilment_id: str | None = None) -> dict[str, Any]:
        """Cancel units not shipped yet: the shopper's own order (`user_id`), a seller's own fulfilment
        (`fulfilment_id`, `seller_id`), or as an admin (both None). Their stock goes back on sale; money: nothing
        captured yet -> the capture will simply be smaller (the whole order cancelled: the authorization is voided);
        captured already -> exactly those units' worth is refunded."""
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id, user_id)
            only = F.fulfilment(draft, fulfilment_id, seller_id, admin=seller_id is None) if fulfilment_id else None
            units = F.plan_cancel(draft, lines, only)
            key = cancel_key(draft, units)
            at = iso(now())
            amount = F.apply_cancel(draft, units, at, reason)
            whole = F.follow(draft, at, note=reason) and draft.status == "cancelled"
            if draft.captured and amount and draft.payment_id:  # refused before any unit goes back (a chargeback)
                F.ensure_refundable(await self.gateway.get(draft.payment_id))
            await self._settle(draft, list(units))
            refund = await self._give_back(draft, amount, key)
            emitted: Emitted = [("order.lines_cancelled", {"lines": units, "by": by, "reason": reason,
                                                           "refund_amount": refund})]
            if whole:
                emitted.append(("order.cancelled", {"reason": reason}))
            return await self.submit(lambda changes: self._record(draft, changes, emitted))

    # -- the steps, on a draft ------------------------------------------------------------------------------------
    async def _draft(self, order_id: str, user_id: str | None = None) -> Order:
        """A copy of the order to change (the one in memory stays as it is until the copy is saved)."""
        order = await self._owned(order_id, user_id)
        return Order.from_dict(order.to_dict())

    async def _ship(self, draft: Order, shipping: list[F.Fulfilment], carrier: str | None,
                    tracking_number: str) -> Emitted:
        plans = [F.plan_ship(draft, f) for f in shipping]  # every refusal before anything is called
        at = now()
        if draft.captured == 0 and draft.payment_id is not None:
            await self._capture(draft, iso(at))
        rates = await self._rates(draft)
        eta = iso(at + timedelta(days=self._lead_days(draft)))
        for f in shipping:
            F.apply_ship(draft, f, carrier, tracking_number, eta, rates, iso(at))
        await self._settle(draft, [v for plan in plans for v in plan])
        emitted: Emitted = [("fulfilment.shipped", {"fulfilment_id": f.id, "seller_id": f.seller_id,
                                                    "carrier": carrier, "tracking_number": tracking_number,
                                                    "estimated_delivery": eta}) for f in shipping]
        if F.follow(draft, iso(at)) and draft.status == "shipped":
            emitted.append(("order.shipped", {"tracking_number": tracking_number}))
        return emitted

    def _deliver(self, draft: Order, delivering: list[F.Fulfilment], at: str) -> Emitted:
        for f in delivering:
            F.apply_deliver(draft, f, at)
        emitted: Emitted = [("fulfilment.delivered", {"fulfilment_id": f.id, "seller_id": f.seller_id})
                            for f in delivering]
        if F.follow(draft, at) and draft.status == "delivered":
            emitted.append(("order.delivered", {"tracking_number": draft.tracking_number}))
        return emitted

    async def _settle(self, draft: Order, variant_ids: list[str]) -> None:
        """Bring every reservation holding these lines to the draft's shipped and released totals."""
        touched = set(variant_ids)
        calls = []
        for reservation in draft.reservations:
            mine = [v for v in reservation["variant_ids"] if v in touched]
            if mine:
                shipped, released = F.settlement(draft, mine)
                handle = self.router.owner("inventory", reservation["variant_ids"][0])
                calls.append(handle.settle.remote(reservation["id"], shipped, released))
        await asyncio.gather(*calls)

    async def _capture(self, draft: Order, at: str) -> None:
        """Capture what the order's units not cancelled are worth, and the shipping. A capture that went through
        before a crash (the order not saved) is adopted; if units were cancelled since, their worth is refunded."""
        assert draft.payment_id is not None
        amount = F.capture_amount(draft)
        payment = await self.gateway.get(draft.payment_id)
        if payment["status"] == "authorized":
            payment = await self.gateway.capture(draft.payment_id, amount, f"{draft.id}:capture")
        draft.captured, draft.refunded = payment["captured"], payment["refunded"]
        excess = draft.captured - draft.refunded - amount
        if excess > 0:
            await self.gateway.refund(draft.payment_id, excess, f"{draft.id}:capture-excess")
            draft.refunded += excess
        draft.set_payment_status(money_status(draft), at)

    async def _give_back(self, draft: Order, amount: int, key: str) -> int:
        """The money of cancelled units: the authorization voided when the whole order is cancelled before any
        capture; their worth refunded once captured. What was refunded."""
        if draft.payment_id is None:
            return 0
        if draft.captured == 0:
            if draft.status != "cancelled":
                return 0
            payment = await self.gateway.get(draft.payment_id)
            if payment["status"] == "authorized":
                await self.gateway.void(draft.payment_id, f"{draft.id}:void")
                draft.set_payment_status("voided", draft.updated_at)
                return 0
            if payment["status"] in ("captured", "partially_refunded"):  # captured before a crash: all of it back
                payment = await self.gateway.refund(draft.payment_id, None, f"{draft.id}:cancel-refund")
            draft.captured, draft.refunded = payment["captured"], payment["refunded"]
            draft.set_payment_status(money_status(draft), draft.updated_at)
            return int(payment["refunded"])
        if amount <= 0:
            return 0
        await self.gateway.refund(draft.payment_id, amount, key)
        draft.refunded += amount
        draft.set_payment_status(money_status(draft), draft.updated_at)
        return amount

    async def _rates(self, draft: Order) -> dict[str, int]:
        """variant -> the commission rate of its product's category (bps)."""
        found = await reads.products(self, (ln.product_id for ln in draft.items))
        by_category = self.settings.commission_bps_by_category
        default = self.settings.commission_bps_default
        return {ln.variant_id: by_category.get((found.get(ln.product_id) or {}).get("category_id") or "", default)
                for ln in draft.items}

    def _lead_days(self, draft: Order) -> int:
        country = str((draft.shipping_address or {}).get("country") or "").upper()
        return self.settings.delivery_lead_days.get(country, self.settings.delivery_lead_days_default)

    # -- the one transaction ---------------------------------------------------------------------------------------
    def _record(self, draft: Order, changes: Changes, emitted: Emitted) -> dict[str, Any]:
        """The draft saved with its events (every one carrying the order's id, user, status and payment status) and
        the seller ledger's entries of what shipped."""
        first, *rest = emitted
        view = self._save_order(draft, changes, first[0], **first[1])
        for event, data in rest:
            self._emit_order(changes, draft, event, **data)
        for event, data in emitted:
            if event == "fulfilment.shipped" and data["seller_id"] is not None:
                f = F.fulfilment(draft, data["fulfilment_id"])
                for entry in sale_entries(draft, f, f.shipped_at or draft.updated_at):
                    changes.hset(keys.seller_ledger(f.seller_id or ""), entry["id"], entry)
        return view


def cancel_key(order: Order, units: dict[str, int]) -> str:
    """The gateway key of a cancellation's refund: the same cancellation retried (the order as it was, the same
    units) gives the same key, any other cancellation of the order another."""
    digest = hashlib.blake2b(repr(sorted(units.items())).encode(), digest_size=8).hexdigest()
    return f"{order.id}:cancel:{sum(ln.cancelled for ln in order.items)}:{digest}"


def money_status(order: Order) -> str:
    """The order's payment status from what was captured and refunded (a chargeback stays a chargeback)."""
    if order.payment_status == "charged_back" or order.captured == 0:
        return order.payment_status
    if order.refunded == 0:
        return "paid"
    return "refunded" if order.refunded >= order.captured else "partially_refunded"
