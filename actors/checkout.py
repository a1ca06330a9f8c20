"""Checkout as a saga, run by the checkout shard that owns the shopper (by user id).

    plan (cart, prices, address, card, quote, fraud)  ->  persist saga + idempotency record
    reserve on every inventory shard (one call per shard, all or nothing, TTL)
    authorize the payment (keyed by saga id)          ->  persist the payment id
    commit the reservations -> place the order -> take the bought lines out of the cart
    finish: forget the saga, record the idempotency result and the fraud velocity, in one transaction

Each step is idempotent and keyed, and the saga's progress is in Redis, so after a crash the shard drives
every unfinished saga again on its own timer: to the order, or to a clean compensation (reservations
released, authorization voided). One shopper's checkouts are serialized, so a retried Idempotency-Key can
never run twice at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict
from typing import Any

from actors import keys
from actors.coalesce import Coalescer
from actors.reads import variant_offers
from actors.routing import Router
from actors.shard import ShardActor
from actors.store import Changes, load_hash
from config import Settings
from domain.carts import Cart
from domain.checkout import CheckoutPlan, plan_lines, short_items
from domain.clock import epoch
from domain.errors import BadRequest, Conflict, DomainError, Invalid, NotFound, PaymentDeclined
from domain.fraud import FraudRules
from domain.ids import new_id
from domain.pricing import PricingRules
from domain.users import Address, User

log = logging.getLogger(__name__)
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
VELOCITY_WINDOW_SECONDS = 3600
RECOVERY_AGE_SECONDS = 2.0


class CheckoutShard(ShardActor):
    kind = "checkout"
    tick_seconds = 2.0

    def __init__(self, settings: Settings, shard: int) -> None:
        self.sagas: dict[str, dict[str, Any]] = {}
        self.router = Router(settings)
        self.pricing = PricingRules.from_settings(settings)
        self.fraud = FraudRules.from_settings(settings)
        self._user_locks: dict[str, asyncio.Lock] = {}
        self._driving: set[str] = set()
        self._batchers: dict[tuple[str, int], Coalescer[tuple[Any, ...], Any]] = {}
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        self.sagas = load_hash(client, keys.sagas(self.shard))

    @property
    def redis(self) -> Any:
        return self.store.redis

    # -- the entry point -------------------------------------------------------------------------------
    async def checkout(self, user_id: str, idempotency_key: str, request: dict[str, Any],
                       request_hash: str) -> dict[str, Any]:
        """{"status": 201 | 200, "order": {...}}; domain errors for out of stock, declines and bad input."""
        async with self._user_lock(user_id):
            record = await self.store.get_json(keys.idempotency(user_id, idempotency_key))
            if record is not None:
                if record["request_hash"] != request_hash:
                    raise Invalid("idempotency_key_reused", "This Idempotency-Key was used with a different request")
                if record["state"] == "completed":
                    order = await self.router.owner("orders", record["order_id"]).get.remote(record["order_id"])
                    return {"status": 200, "order": order}
                saga = self.sagas.get(record["saga_id"])
                if saga is not None:  # interrupted mid-way: finish it now
                    return {"status": 201, "order": await self._drive(saga)}
            saga = await self._plan(user_id, idempotency_key, request, request_hash)
            await self.submit(lambda changes: self._record_start(saga, changes))
            return {"status": 201, "order": await self._drive(saga)}

    # -- planning (reads only; nothing to undo if it fails) ----------------------------------------------
    async def _plan(self, user_id: str, idempotency_key: str, request: dict[str, Any],
                    request_hash: str) -> dict[str, Any]:
        raw_cart = await self.redis.hget(keys.carts(self.router.shard("carts", user_id)), user_id)
        cart = Cart.from_dict(json.loads(raw_cart)) if raw_cart else Cart(user_id)
        if not cart.lines:
            raise BadRequest("empty_cart", "The cart is empty")
        offers = await variant_offers(self, ((line.product_id, line.variant_id) for line in cart.lines.values()))
        unsellable = short_items(cart, offers)
        if unsellable:
            raise Conflict("out_of_stock", "Some items can no longer be bought",
                           {"items": [{"variant_id": v, "requested": cart.lines[v].quantity, "available": 0}
                                      for v in unsellable]})
        lines = plan_lines(cart, offers)
        address = await self._shipping_address(user_id, request)
        try:
            card = await self.router.handle("payments").token_info.remote(request["payment_token"])
        except NotFound:
            raise Invalid("invalid_payment_token", "The payment token is not valid") from None
        quote = self.pricing.quote(((ln["variant_id"], ln["price"], ln["quantity"]) for ln in lines),
                                   request.get("coupon_code"))
        user_recent, card_recent = await self._velocity(user_id, card["fingerprint"])
        assessment = self.fraud.assess(quote.total, user_recent + 1, card_recent + 1)  # counting this one
        if assessment.decision == "decline":
            raise PaymentDeclined("payment_declined", "The payment was declined", {"reason": "risk_review"})
        plan = CheckoutPlan.make(
            saga_id=new_id("chk"), order_id=new_id("ord"), user_id=user_id, idempotency_key=idempotency_key,
            request_hash=request_hash, lines=lines, quote=quote.to_dict(), address=address,
            token=request["payment_token"], card=card, held_for_review=assessment.decision == "hold",
            fraud_reasons=assessment.reasons, reservation_groups=self.router.group("inventory", cart.lines),
            now=epoch())
        return plan.to_dict()

    async def _shipping_address(self, user_id: str, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("shipping_address") is not None:
            return asdict(Address.create(new_id("adr"), dict(request["shipping_address"])))
        raw = await self.redis.hget(keys.users(self.router.shard("users", user_id)), user_id)
        if raw is None:
            raise Invalid("invalid_address", "Give a shipping_address or the id of a saved one")
        return asdict(User.from_dict(json.loads(raw)).address(request["shipping_address_id"]))

    async def _velocity(self, user_id: str, fingerprint: str) -> tuple[int, int]:
        since = epoch() - VELOCITY_WINDOW_SECONDS
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcount(keys.velocity("user", user_id), since, "+inf")
        pipe.zcount(keys.velocity("card", fingerprint), since, "+inf")
        user_recent, card_recent = await pipe.execute()
        return int(user_recent), int(card_recent)

    # -- driving the saga (also used to resume after a crash) ---------------------------------------------
    async def _drive(self, saga: dict[str, Any]) -> dict[str, Any]:
        self._driving.add(saga["id"])
        try:
            return await self._steps(saga)
        finally:
            self._driving.discard(saga["id"])

    async def _steps(self, saga: dict[str, Any]) -> dict[str, Any]:
        failures = await self._each_reservation(saga, "reserve")
        if failures:
            short = [item for exc in failures for item in (exc.details or {}).get("items", [])]
            await self._compensate(saga, "out_of_stock")
            raise Conflict("out_of_stock", "Not enough stock for some items", {"items": short})
        if saga["payment_id"] is None:
            payment = await self.router.handle("payments").authorize.remote(
                saga["token"], saga["quote"]["total"], saga["quote"]["currency"], saga["id"], saga["order_id"])
            if payment["status"] != "authorized":
                await self._compensate(saga, "payment_declined")
                raise PaymentDeclined("payment_declined", "The card was declined",
                                      {"decline_code": payment.get("decline_code")})
            saga["payment_id"] = payment["id"]
            await self.submit(lambda changes: self._record_step(saga, "authorized", changes))
        failures = await self._each_reservation(saga, "commit")
        if failures:
            await self._compensate(saga, "reservation_expired")
            raise Conflict("out_of_stock", "The reserved stock was released before payment finished",
                           {"items": [{"variant_id": ln["variant_id"], "requested": ln["quantity"]}
                                      for ln in saga["lines"]]})
        order = await self.router.owner("orders", saga["order_id"]).place.remote(
            saga["order_id"], CheckoutPlan.order_fields(saga), saga["held_for_review"])
        await self.router.owner("carts", saga["user_id"]).remove_purchased.remote(
            saga["user_id"], saga["order_id"], {ln["variant_id"]: ln["quantity"] for ln in saga["lines"]})
        await self.submit(lambda changes: self._record_finish(saga, changes))
        return order

    async def _each_reservation(self, saga: dict[str, Any], method: str) -> list[DomainError]:
        """`reserve` or `commit` on every inventory shard of the saga at once, coalesced with the other
        checkouts of this shard that are bound for the same inventory shards; the refusals come back (a shard
        that is down raises, and the saga stays persisted for the recovery timer)."""
        calls = []
        for group in saga["reservations"]:
            batcher = self._batcher(method, self.router.shard("inventory", group["variant_ids"][0]))
            calls.append(batcher.submit((group["id"], group["lines"]) if method == "reserve" else (group["id"],)))
        results = await asyncio.gather(*calls, return_exceptions=True)
        failures = []
        for result in results:
            if isinstance(result, DomainError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
        return failures

    def _batcher(self, method: str, shard: int) -> Coalescer[tuple[Any, ...], Any]:
        batcher = self._batchers.get((method, shard))
        if batcher is None:
            handle = self.router.handle("inventory", shard)
            if method == "reserve":
                batcher = Coalescer(lambda items: handle.reserve_many.remote(items))
            else:
                batcher = Coalescer(lambda items: handle.commit_many.remote([rid for (rid,) in items]))
            self._batchers[(method, shard)] = batcher
        return batcher

    async def _compensate(self, saga: dict[str, Any], reason: str) -> None:
        """Undo a saga that cannot finish: every reservation released, any authorization voided."""
        await asyncio.gather(*(self.router.owner("inventory", g["variant_ids"][0]).release.remote(g["id"])
                               for g in saga["reservations"]))
        if saga["payment_id"] is not None:
            await self.router.handle("payments").void.remote(saga["payment_id"], f"{saga['id']}:void")
        await self.submit(lambda changes: self._record_failure(saga, reason, changes))

    # -- persistence of the saga's progress ------------------------------------------------------------
    def _record_start(self, saga: dict[str, Any], changes: Changes) -> None:
        self.sagas[saga["id"]] = saga
        changes.hset(keys.sagas(self.shard), saga["id"], saga)
        changes.set(keys.idempotency(saga["user_id"], saga["idempotency_key"]),
                    {"state": "in_progress", "saga_id": saga["id"], "request_hash": saga["request_hash"]},
                    IDEMPOTENCY_TTL_SECONDS)
        changes.emit("checkout.started", saga_id=saga["id"], user_id=saga["user_id"], order_id=saga["order_id"],
                     total=saga["quote"]["total"], held_for_review=saga["held_for_review"])

    def _record_step(self, saga: dict[str, Any], step: str, changes: Changes) -> None:
        saga["step"] = step
        changes.hset(keys.sagas(self.shard), saga["id"], saga)

    def _record_finish(self, saga: dict[str, Any], changes: Changes) -> None:
        self.sagas.pop(saga["id"], None)
        changes.hdel(keys.sagas(self.shard), saga["id"])
        changes.set(keys.idempotency(saga["user_id"], saga["idempotency_key"]),
                    {"state": "completed", "order_id": saga["order_id"], "request_hash": saga["request_hash"]},
                    IDEMPOTENCY_TTL_SECONDS)
        changes.zadd(keys.velocity("user", saga["user_id"]), saga["order_id"], epoch())
        changes.zadd(keys.velocity("card", saga["card"]["fingerprint"]), saga["order_id"], epoch())
        changes.emit("checkout.completed", saga_id=saga["id"], user_id=saga["user_id"], order_id=saga["order_id"])

    def _record_failure(self, saga: dict[str, Any], reason: str, changes: Changes) -> None:
        self.sagas.pop(saga["id"], None)
        changes.hdel(keys.sagas(self.shard), saga["id"])
        changes.delete(keys.idempotency(saga["user_id"], saga["idempotency_key"]))  # a retry may try again
        changes.emit("checkout.failed", saga_id=saga["id"], user_id=saga["user_id"], reason=reason)

    # -- recovery --------------------------------------------------------------------------------------
    async def tick(self) -> None:
        stale = [s for s in list(self.sagas.values())
                 if s["id"] not in self._driving and s["created_at"] < epoch() - RECOVERY_AGE_SECONDS]
        for saga in stale:
            async with self._user_lock(saga["user_id"]):
                if saga["id"] not in self.sagas or saga["id"] in self._driving:
                    continue
                try:
                    await self._drive(saga)
                    log.info("recovered checkout %s", saga["id"])
                except DomainError as exc:
                    log.info("recovered checkout %s by compensation: %s", saga["id"], exc.code)
                except Exception:
                    log.exception("checkout %s still cannot finish; will retry", saga["id"])

    def _user_lock(self, user_id: str) -> asyncio.Lock:
        return self._user_locks.setdefault(user_id, asyncio.Lock())

    async def unfinished(self) -> list[str]:
        return sorted(self.sagas)
