"""Returns on the shopper shard: requested by the shopper, approved or rejected by the seller (or an admin), received
with the units' condition and refunded (rules: domain/returns.py).

Receiving is the one step that calls out: the units go back to their inventory shards (`restock`, keyed by the
return's id) and the refund goes through the gateway (keyed by the return's id), then the return, the order's money
and the seller ledger's entries are saved in one transaction. A retry after a failure replays both calls and
records the return once; a return already refunded answers as it is.
"""

from __future__ import annotations

import asyncio
from typing import Any

from actors import keys
from actors.fulfilment import FulfilmentCommands, money_status
from actors.store import Changes
from domain import returns as R
from domain.clock import epoch, iso, now
from domain.fulfilments import ensure_refundable, order_of
from domain.seller_ledger import refund_entries


class ReturnCommands(FulfilmentCommands):
    async def request_return(self, order_id: str, user_id: str | None, lines: dict[str, int],
                             reason: str) -> list[dict[str, Any]]:
        """One return per seller of the delivered units asked for, within the return window."""
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id, user_id)
            at = now()
            made = R.request(draft, lines, reason, at, self.settings.return_window_days, iso(at))

            def command(changes: Changes) -> list[dict[str, Any]]:
                self._save_order(draft, changes, "return.requested", return_id=made[0].id, lines=made[0].lines,
                                 reason=reason, seller_id=made[0].seller_id)
                for other in made[1:]:
                    self._emit_order(changes, draft, "return.requested", return_id=other.id, lines=other.lines,
                               reason=reason, seller_id=other.seller_id)
                for found in made:
                    if found.seller_id is not None:
                        changes.zadd(keys.seller_returns(found.seller_id), found.id, epoch())
                return [_view(found) for found in made]

            return await self.submit(command)

    async def decide_return(self, return_id: str, seller_id: str | None, approve: bool,
                            reason: str | None = None) -> dict[str, Any]:
        """Approve or reject (`seller_id` None: an admin). The same decision again changes nothing."""
        order_id = order_of(return_id)
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id)
            found = R.find(draft, return_id, seller_id, admin=seller_id is None)
            if not R.decide(found, approve, reason, iso(now())):
                return _view(found)
            event = "return.approved" if approve else "return.rejected"

            def command(changes: Changes) -> dict[str, Any]:
                self._save_order(draft, changes, event, return_id=found.id, seller_id=found.seller_id,
                                 **({} if approve else {"reason": reason}))
                return _view(found)

            return await self.submit(command)

    async def receive_return(self, return_id: str, seller_id: str | None, condition: str) -> dict[str, Any]:
        """The units are back: on the shelf (resellable) or in the damaged bin; their worth is refunded, once."""
        order_id = order_of(return_id)
        async with self._one_at_a_time(order_id):
            draft = await self._draft(order_id)
            found = R.find(draft, return_id, seller_id, admin=seller_id is None)
            if found.status in ("received", "refunded"):
                return _view(found)
            amount = R.refund_amount(draft, found)
            if amount > 0 and draft.payment_id is not None:  # refused before any unit comes back (a chargeback)
                ensure_refundable(await self.gateway.get(draft.payment_id))
            await self._restock(found, condition)
            if amount > 0 and draft.payment_id is not None:
                await self.gateway.refund(draft.payment_id, amount, f"{found.id}:refund")
            at = iso(now())
            f = next(f for f in draft.fulfilments if f.id == found.fulfilment_id)
            entries = refund_entries(draft, found.id, found.lines, f.commission_bps, at)
            R.apply_refund(draft, found, condition, amount, at)
            draft.set_payment_status(money_status(draft), at)

            def command(changes: Changes) -> dict[str, Any]:
                self._save_order(draft, changes, "return.received", return_id=found.id, seller_id=found.seller_id,
                                 condition=condition)
                self._emit_order(changes, draft, "return.refunded", return_id=found.id, seller_id=found.seller_id,
                           amount=amount, currency=draft.currency)
                if found.seller_id is not None:
                    for entry in entries:
                        changes.hset(keys.seller_ledger(found.seller_id), entry["id"], entry)
                return _view(found)

            return await self.submit(command)

    async def _restock(self, found: R.Return, condition: str) -> None:
        groups = self.router.group("inventory", found.lines)
        await asyncio.gather(*(self.router.handle("inventory", shard).restock.remote(
            f"{found.id}-{shard}", {v: found.lines[v] for v in variant_ids}, condition)
            for shard, variant_ids in groups.items()))


def _view(found: R.Return) -> dict[str, Any]:
    from domain.serial import to_builtins

    return dict(to_builtins(found))
