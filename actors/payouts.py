"""Payouts to sellers, on the user shard owning the seller's user (the single writer of its payout entries; the
shopper shards write its sales and refunds). Rules: domain/seller_ledger.py.

A payout is recorded `pending` in the seller's ledger (durable, with its id) before the gateway is asked, then
`paid` with the `seller.payout_paid` event once the gateway answered. The gateway call is idempotent by the payout's
id, and a pending payout is finished by the next run before anything new is paid, so a crash between the two never
pays twice nor loses a payout. Payout runs on one shard go one at a time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from actors import keys, reads
from actors.payments import SandboxGateway
from actors.routing import Router
from actors.shard import ShardActor
from actors.store import Changes
from domain.clock import now_iso
from domain.seller_ledger import entry, payout_id, totals


class PayoutCommands(ShardActor):
    router: Router
    _payout_gateway: SandboxGateway | None = None
    _payout_lock: asyncio.Lock | None = None

    @property
    def redis(self) -> aioredis.Redis:
        """For the read model (actors/reads.py)."""
        return self.store.redis

    async def pay_out(self, seller_id: str) -> list[dict[str, Any]]:
        """Pay the seller its balance, if positive: the payouts made (or finished) by this run."""
        if self._payout_lock is None:
            self._payout_lock = asyncio.Lock()
        if self._payout_gateway is None:
            self._payout_gateway = SandboxGateway(self.store.redis, self.settings)
        async with self._payout_lock:
            entries = await reads.seller_ledger(self, seller_id)
            pending = [e for e in entries if e["kind"] == "payout" and e.get("status") == "pending"]
            balance = totals(entries)["balance"]
            if not pending and balance > 0:
                made = entry(f"{payout_id(seller_id, entries)}:payout", "payout", -balance, now_iso(),
                             payout_id=payout_id(seller_id, entries), seller_id=seller_id, status="pending",
                             currency=self.settings.currency)
                await self.submit(lambda changes: changes.hset(keys.seller_ledger(seller_id), made["id"], made))
                pending = [made]
            return [await self._finish(seller_id, e, self._payout_gateway) for e in pending]

    async def _finish(self, seller_id: str, pending: dict[str, Any], gateway: SandboxGateway) -> dict[str, Any]:
        paid = await gateway.payout(await self._recipient(seller_id), -pending["amount"], pending["currency"],
                                    pending["payout_id"])
        done = {**pending, "status": "paid", "paid_at": paid["at"], "gateway_id": paid["id"]}

        def command(changes: Changes) -> dict[str, Any]:
            changes.hset(keys.seller_ledger(seller_id), done["id"], done)
            changes.emit("seller.payout_paid", seller_id=seller_id, payout_id=done["payout_id"],
                         amount=paid["amount"], currency=paid["currency"])
            return done

        return await self.submit(command)

    async def _recipient(self, seller_id: str) -> str:
        """Where the gateway pays: the seller's tokenized payout account (domain/payouts.py), or, for a seller that
        applied without one (the sandbox accepts it), the seller's id."""
        seller = await reads.seller(self, seller_id) or {}
        return (seller.get("payout") or {}).get("token") or seller_id
