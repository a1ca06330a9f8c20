"""The checkout saga, run by the shopper shard that owns the shopper (steps and their record: domain/checkout.py).

    plan (reads only: cart, offers and stock, idempotency record, address, card, quote, fraud)
    -> start: the saga and the Idempotency-Key record, durable         (one group-committed transaction)
    -> authorize the payment, keyed by the saga id                      (the gateway; none when the total is 0)
    -> sell every line on its inventory shard, all or nothing per shard (one coalesced call per shard)
    -> finish: order, cart, idempotency result, velocity               (one group-committed transaction)

A failure after the start is made durable as "compensating" before anything is undone (units released, the
authorization voided), so a crash mid-way is finished or compensated by the recovery timer, never half-done.
One checkout per shopper runs at a time: the same Idempotency-Key again joins the one running; another key
while one is unfinished is 409 `checkout_in_progress`. The client learns one generic `payment_declined` for every
refusal of the payment (the specific reason goes to the event stream), so card testing learns nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from typing import Any

from actors import keys, reads
from actors.fraud_model import checkout_signals
from actors.shopper_base import ShopperBase
from actors.store import Changes, dumps
from domain.carts import Cart
from domain.catalog import Offer
from domain.checkout import CheckoutRequest, Saga, order_lines, reservation_groups, short_lines, unsellable
from domain.clock import epoch, now_iso
from domain.errors import BadRequest, Conflict, DomainError, Invalid, NotFound, PaymentDeclined
from domain.fraud import with_score
from domain.ids import new_id
from domain.orders import Order, OrderLine
from domain.payments import CardInfo
from domain.pricing import CouponRule
from domain.revocation import Revocation
from domain.serial import encode
from domain.users import Address

log = logging.getLogger(__name__)
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
VELOCITY_WINDOW_SECONDS = 3600
RECOVERY_AGE_SECONDS = 2.0
DECLINED = "payment_declined"


@dataclass(frozen=True)
class CheckoutResult:
    created: bool  # 201 for the checkout that placed the order, 200 when a retry finds it placed
    order: dict[str, Any]


@dataclass
class Attempt:
    """The checkout a shopper has running: requests with its key join it, others are refused."""

    idempotency_key: str
    request_hash: str
    outcome: asyncio.Future[CheckoutResult]


def declined() -> PaymentDeclined:
    return PaymentDeclined(DECLINED, "The payment was declined")


def _card_subjects(card: CardInfo) -> list[tuple[str, str]]:
    return [("card", card.fingerprint), ("declined-card", card.fingerprint)]


async def _known(card: CardInfo) -> CardInfo:
    return card


class CheckoutSaga(ShopperBase):
    # -- the entry point -------------------------------------------------------------------------------------
    async def checkout(self, user_id: str, idempotency_key: str, request: CheckoutRequest, request_hash: str,
                       client_ip: str, revocation: Revocation | None = None) -> CheckoutResult:
        """`revocation`: the caller's access token, when the API replica left its check to this checkout's first
        read; nothing is answered or changed for a revoked one (401 `token_revoked`)."""
        await self.fresh()  # the sagas in memory are Redis's, not a failed batch's
        if revocation is not None and (user_id in self._attempts or self._waiting(user_id) is not None):
            await reads.refuse_revoked(self, revocation)  # no read of ours comes first
        # read after the last await: a retry or the recovery timer may have started this shopper's attempt meanwhile,
        # and nothing may come between these reads and `_attempt` taking the shopper's place
        running = self._attempts.get(user_id)
        waiting = self._waiting(user_id)
        if running is not None:
            self._check_same_request(running.idempotency_key, running.request_hash, idempotency_key, request_hash)
            return await asyncio.shield(running.outcome)
        if waiting is not None:  # interrupted by a crash; recovery (or a retry with its key) finishes it
            self._check_same_request(waiting.idempotency_key, waiting.request_hash, idempotency_key, request_hash)
        return await self._attempt(user_id, idempotency_key, request_hash, self._checkout(
            user_id, idempotency_key, request, request_hash, client_ip, revocation))

    def _waiting(self, user_id: str) -> Saga | None:
        return next((s for s in self.sagas.values() if s.user_id == user_id), None)

    @staticmethod
    def _check_same_request(key: str, request_hash: str, given_key: str, given_hash: str) -> None:
        if key != given_key:
            raise Conflict("checkout_in_progress", "Another checkout of this shopper is not finished yet; retry it "
                           "with its own Idempotency-Key, or wait")
        if request_hash != given_hash:
            raise Invalid("idempotency_key_reused", "This Idempotency-Key was used with a different request")

    async def _attempt(self, user_id: str, key: str, request_hash: str, work: Any) -> CheckoutResult:
        attempt = Attempt(key, request_hash, asyncio.get_running_loop().create_future())
        self._attempts[user_id] = attempt
        try:
            result: CheckoutResult = await work
        except asyncio.CancelledError:
            attempt.outcome.cancel()
            raise
        except BaseException as exc:
            attempt.outcome.set_exception(exc)
            attempt.outcome.exception()  # retrieved: nobody may be waiting to join
            raise
        else:
            attempt.outcome.set_result(result)
            return result
        finally:
            if self._attempts.get(user_id) is attempt:
                del self._attempts[user_id]
            else:  # `checkout` and `tick` never let two overlap; say so loudly if they ever do
                log.error("two checkout attempts of shopper %s overlapped", user_id)

    async def _checkout(self, user_id: str, key: str, request: CheckoutRequest, request_hash: str,
                        client_ip: str, revocation: Revocation | None) -> CheckoutResult:
        cart = await self._cart(user_id)
        since = epoch() - VELOCITY_WINDOW_SECONDS
        known = self.gateway.known_token(request.payment_token, user_id)  # a saved card: no round trip for it
        subjects = [("user", user_id), ("ip", client_ip), ("declined-user", user_id), ("declined-ip", client_ip),
                    *(_card_subjects(known) if known else [])]
        planned, card = await asyncio.gather(  # one or two round trips at once; errors count in this order:
            reads.checkout_reads(self, user_id, key, ((ln.product_id, v) for v, ln in cart.lines.items()),
                                 True, subjects, since, revocation),
            self._card(request.payment_token, user_id) if known is None else _known(known), return_exceptions=True)
        if isinstance(planned, BaseException):
            raise planned
        offers, available, records = planned
        replayed = await self._replay(records.idempotency, request_hash)
        if replayed is not None:
            return replayed
        lines = self._sellable(cart, offers, available)
        address = self._address(request, records.user)
        if isinstance(card, BaseException):  # a replay above needs no token: it may have expired since
            raise card
        recent = records.recent if known else {
            **records.recent, **await reads.recent_counts(self, _card_subjects(card), since)}
        quote = self.pricing.quote(((ln.variant_id, ln.price, ln.quantity) for ln in lines), request.coupon_code)
        assessment = self.fraud.assess(
            quote.total, recent[("user", user_id)] + 1, recent[("card", card.fingerprint)] + 1,
            (recent[("declined-user", user_id)], recent[("declined-card", card.fingerprint)],
             recent[("declined-ip", client_ip)]))
        account_created_at = records.user.created_at if records.user is not None else None
        score = self.fraud_model.score(checkout_signals(quote.total, card, records.history, recent, user_id,
                                                        client_ip, account_created_at, address))
        assessment = with_score(assessment, score, self.fraud_model.threshold)
        if assessment.decision == "decline":
            await self.submit(lambda changes: self._record_refusal(user_id, card, client_ip, assessment.reasons,
                                                                   changes))
            raise declined()
        saga_id = new_id("chk")
        saga = Saga(saga_id, self._new_order_id(), await self._order_number(), user_id, key, request_hash, lines,
                    quote, address, request.payment_token, card, client_ip, assessment.decision == "hold",
                    assessment.reasons, reservation_groups(saga_id, lines, lambda v: self.router.shard("inventory", v)),
                    epoch(), fraud_score=score, history=records.history, account_created_at=account_created_at)
        await self.submit(lambda changes: self._record_start(saga, changes))
        return CheckoutResult(True, await self._drive(saga))

    async def _replay(self, record: dict[str, Any] | None, request_hash: str) -> CheckoutResult | None:
        """The answer to a key used before: its order, or its unfinished saga driven on; None for a new key."""
        if record is None:
            return None
        if record["request_hash"] != request_hash:
            raise Invalid("idempotency_key_reused", "This Idempotency-Key was used with a different request")
        if record["state"] == "completed":
            order = await self._order(record["order_id"])
            assert order is not None, "a completed checkout's order is written in the same transaction"
            return CheckoutResult(False, order.view())
        saga = self.sagas.get(record["saga_id"])
        return None if saga is None else CheckoutResult(True, await self._drive(saga))

    def _sellable(self, cart: Cart, offers: dict[str, Offer], available: dict[str, int]) -> list[OrderLine]:
        """The cart's lines at today's prices, if every one is on sale and in stock now (an early refusal; the
        inventory shards still decide)."""
        if not cart.lines:
            raise BadRequest("empty_cart", "The cart is empty")
        gone = unsellable(cart, offers) + [v for v, o in offers.items() if o.currency != self.settings.currency]
        if gone:
            raise Conflict("out_of_stock", "Some items can no longer be bought",
                           {"items": [{"variant_id": v, "requested": cart.lines[v].quantity, "available": 0}
                                      for v in dict.fromkeys(gone)]})
        lines = order_lines(cart, offers)
        short = short_lines(lines, available)
        if short:
            raise Conflict("out_of_stock", "Not enough stock for some items", {"items": short})
        return lines

    @staticmethod
    def _address(request: CheckoutRequest, user: Any) -> dict[str, Any]:
        if request.shipping_address is not None:
            return asdict(Address.create(new_id("adr"), dict(request.shipping_address)))
        if user is None:
            raise Invalid("invalid_address", "Give a shipping_address or the id of a saved one")
        return asdict(user.address(request.shipping_address_id))

    async def _card(self, token: str, user_id: str) -> CardInfo:
        try:
            return await self.gateway.token_info(token, user_id)
        except NotFound:
            raise Invalid("invalid_payment_token", "The payment token is not valid") from None

    # -- driving the saga (also after a crash) --------------------------------------------------------------
    async def _drive(self, saga: Saga) -> dict[str, Any]:
        """Run the saga from its recorded step to its end: the order's view, or the refusal raised."""
        if saga.step == "compensating":
            await self._undo(saga)
            raise self._refusal(saga)
        coupon = self._limited_coupon(saga)
        if coupon is not None:  # a use of a limited coupon is claimed before anything is charged
            try:
                await self.router.owner("coupons", coupon[0]).claim.remote(
                    coupon[0], saga.id, saga.order_id, saga.user_id, coupon[1].max_uses, coupon[1].max_uses_per_user)
            except DomainError as exc:  # used up, or this shopper has used it already
                await self._fail(saga, "coupon_unavailable")
                raise exc from None
        if saga.needs_payment:
            try:
                payment = await self.gateway.authorize(saga.token, saga.user_id, saga.quote.total,
                                                       saga.quote.currency, saga.id, saga.order_id)
            except DomainError as exc:  # the token expired or vanished before the first authorization
                await self._fail(saga, exc.code)
                raise self._refusal(saga) from None
            saga.payment_id = payment["id"]
            if payment["status"] != "authorized":
                await self._fail(saga, f"{DECLINED}:{payment.get('decline_code')}")
                raise self._refusal(saga)
        sales = await asyncio.gather(*(self._seller(group.shard).submit((group.id, group.lines))
                                       for group in saga.reservations), return_exceptions=True)
        refused = [result for result in sales if isinstance(result, DomainError)]
        down = [result for result in sales if isinstance(result, BaseException) and result not in refused]
        if down:  # a shard that is down: the saga stays as it is for the recovery timer
            raise down[0]
        if refused:
            await self._fail(saga, "out_of_stock")
            raise Conflict("out_of_stock", "Not enough stock for some items",
                           {"items": [item for exc in refused for item in (exc.details or {}).get("items", [])]})
        cart = await self._cart(saga.user_id)  # the finishing transaction takes the bought lines out of it
        return await self.submit(lambda changes: self._record_finish(saga, cart, changes))

    async def _fail(self, saga: Saga, reason: str) -> None:
        """Make the compensation durable first, then undo: a crash in between is compensated on recovery."""
        saga.step, saga.failure = "compensating", reason
        await self.submit(lambda changes: changes.hset(keys.sagas(self.shard), saga.id, encode(saga)))
        await self._undo(saga)

    async def _undo(self, saga: Saga) -> None:
        """Every unit released and the authorization voided (both idempotent), then the saga forgotten."""
        await self._release([{"id": group.id, "variant_ids": list(group.lines)} for group in saga.reservations])
        if saga.payment_id is not None and (await self.gateway.get(saga.payment_id))["status"] == "authorized":
            await self.gateway.void(saga.payment_id, f"{saga.id}:void")
        coupon = self._limited_coupon(saga)
        if coupon is not None:
            await self.router.owner("coupons", coupon[0]).release.remote(coupon[0], saga.id)
        await self.submit(lambda changes: self._record_failure(saga, changes))

    def _limited_coupon(self, saga: Saga) -> tuple[str, CouponRule] | None:
        code = saga.quote.coupon
        rule = self.pricing.coupons.get(code) if code else None
        return (code, rule) if code and rule is not None and rule.limited else None

    @staticmethod
    def _refusal(saga: Saga) -> DomainError:
        reason = saga.failure or ""
        if reason == "out_of_stock":
            return Conflict("out_of_stock", "Not enough stock for some items",
                            {"items": [{"variant_id": v, "requested": q} for v, q in saga.purchased.items()]})
        if reason == "invalid_payment_token":
            return Invalid("invalid_payment_token", "The payment token is not valid")
        if reason == "coupon_unavailable":
            return Invalid("invalid_coupon", "This coupon can no longer be used", {"coupon_code": saga.quote.coupon})
        return declined()

    # -- the saga's transactions ------------------------------------------------------------------------------
    def _record_start(self, saga: Saga, changes: Changes) -> None:
        self.sagas[saga.id] = saga
        changes.hset(keys.sagas(self.shard), saga.id, encode(saga))
        changes.set(keys.idempotency(saga.user_id, saga.idempotency_key),
                    dumps({"state": "in_progress", "saga_id": saga.id, "request_hash": saga.request_hash}),
                    IDEMPOTENCY_TTL_SECONDS)
        changes.emit("checkout.started", saga_id=saga.id, user_id=saga.user_id, order_id=saga.order_id,
                     total=saga.quote.total, held_for_review=saga.held_for_review)

    def _record_finish(self, saga: Saga, cart: Cart, changes: Changes) -> dict[str, Any]:
        order = Order.place(held_for_review=saga.held_for_review,
                            payment_status="authorized" if saga.needs_payment else "paid", **saga.order_fields())
        at = epoch()
        changes.zadd(keys.user_orders(order.user_id), order.id, at)
        changes.zadd(keys.ORDERS_BY_TIME, order.id, at)
        if saga.held_for_review:
            changes.zadd(keys.HELD_ORDERS, order.id, at)
        for seller_id in {line.seller_id for line in order.items if line.seller_id is not None}:
            changes.zadd(keys.seller_orders(seller_id), order.id, at)
        changes.hset(keys.fraud_history(self.shard), saga.user_id,
                     encode(saga.history.after(order.total, saga.card.fingerprint)))
        view = self._save_order(order, changes, "order.created", order_number=order.order_number,
                                total=order.total, currency=order.currency,
                                items=[{"variant_id": i.variant_id, "quantity": i.quantity, "price": i.price,
                                        "seller_id": i.seller_id} for i in order.items], **saga.order_signals())
        cart = self.carts.setdefault(saga.user_id, cart)
        if cart.remove_purchased(order.id, saga.purchased, now_iso()):
            self._save_cart(cart, changes, "cart.checked_out", order_id=order.id)
        self._forget(saga, changes)
        changes.set(keys.idempotency(saga.user_id, saga.idempotency_key),
                    dumps({"state": "completed", "order_id": order.id, "request_hash": saga.request_hash}),
                    IDEMPOTENCY_TTL_SECONDS)
        self._count(changes, ("user", saga.user_id), ("card", saga.card.fingerprint), ("ip", saga.client_ip),
                    member=order.id)
        changes.emit("checkout.completed", saga_id=saga.id, user_id=saga.user_id, order_id=order.id)
        return view

    def _record_failure(self, saga: Saga, changes: Changes) -> None:
        self._forget(saga, changes)
        changes.delete(keys.idempotency(saga.user_id, saga.idempotency_key))  # a retry may try again
        if (saga.failure or "").startswith(DECLINED):
            self._count(changes, ("declined-user", saga.user_id), ("declined-card", saga.card.fingerprint),
                        ("declined-ip", saga.client_ip), member=saga.id)
        changes.emit("checkout.failed", saga_id=saga.id, user_id=saga.user_id, order_id=saga.order_id,
                     reason=saga.failure)

    def _record_refusal(self, user_id: str, card: CardInfo, client_ip: str, reasons: list[str],
                        changes: Changes) -> None:
        """A checkout the fraud rules declined before anything was started: counted as a decline."""
        member = new_id("chk")
        self._count(changes, ("declined-user", user_id), ("declined-card", card.fingerprint),
                    ("declined-ip", client_ip), member=member)
        changes.emit("checkout.failed", saga_id=member, user_id=user_id, order_id=None,
                     reason=f"{DECLINED}:risk", fraud_reasons=reasons)

    def _forget(self, saga: Saga, changes: Changes) -> None:
        self.sagas.pop(saga.id, None)
        changes.hdel(keys.sagas(self.shard), saga.id)

    @staticmethod
    def _count(changes: Changes, *subjects: tuple[str, str], member: str) -> None:
        at = epoch()
        for kind, subject in subjects:
            key = keys.velocity(kind, subject)
            changes.zadd(key, member, at)
            changes.trim_zset(key, at - VELOCITY_WINDOW_SECONDS, VELOCITY_WINDOW_SECONDS)

    # -- recovery ------------------------------------------------------------------------------------------------
    async def tick(self) -> None:
        """Drive every saga left unfinished by a crash (not one a request is driving) to its end; look for a newer
        approved fraud model when it is time to."""
        if self.fraud_model.due():
            await asyncio.to_thread(self.fraud_model.refresh)
        await self.fresh()
        stale = [s for s in list(self.sagas.values())
                 if s.user_id not in self._attempts and s.created_at < epoch() - RECOVERY_AGE_SECONDS]
        for saga in stale:
            if saga.id not in self.sagas or saga.user_id in self._attempts:
                continue
            try:
                await self._attempt(saga.user_id, saga.idempotency_key, saga.request_hash, self._recover(saga))
                log.info("recovered checkout %s", saga.id)
            except DomainError as exc:
                log.info("recovered checkout %s by compensation: %s", saga.id, exc.code)
            except Exception:
                log.exception("checkout %s still cannot finish; will retry", saga.id)

    async def _recover(self, saga: Saga) -> CheckoutResult:
        return CheckoutResult(True, await self._drive(saga))

    async def unfinished(self) -> list[str]:
        return sorted(self.sagas)
