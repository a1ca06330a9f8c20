"""The built-in sandbox payment gateway, as a remote gateway's client library would be: an async object that each
process needing a gateway makes for itself (the shopper shards, the API replicas for tokenizing), so no single
actor sits on the checkout path. A real gateway's client can replace it (domain.payments.PaymentGateway).

The sandbox keeps its own books in Redis, as a remote gateway keeps them in its own database (these keys are the
gateway's, not the shop's; see actors/keys.py):
    payment_token(token)            CardToken JSON, expiring with the token (never a card number or cvc)
    PAYMENTS                        hash payment_id -> Payment JSON
    payment_idempotency("op:key")   {"request", "result"} of one call, kept for IDEMPOTENCY_DAYS
The rules are domain.payments.PaymentBook's. A call reads the payment and its idempotency record, applies the
rule in Python, and writes the result with one Lua script that checks nothing changed meanwhile (compare and
set, retried on a conflict), so concurrent clients in many processes never lose an update and a key is never
used twice. The script also appends the payment's events to the stream in the same atomic step.

`latency_seconds` makes every call wait that long first, like a network round trip to a real gateway.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from actors import keys
from actors.store import Event, dumps
from domain.cards import CardFingerprint, validate_card
from domain.clock import iso, now
from domain.errors import Conflict, NotFound, Unavailable
from domain.ids import new_id, secret_id
from domain.payments import (
    CardInfo,
    CardToken,
    Payment,
    PaymentBook,
    Receipt,
    check_amount,
    check_currency,
    check_key,
    sandbox_outcome,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from config import Settings
    from domain.payments import PaymentGateway

IDEMPOTENCY_DAYS = 30
CONFLICT_RETRIES = 8
TOKENS_KEPT = 10_000  # tokens a client keeps in memory once read (they never change; expiry is checked on use)

# KEYS: payments hash, idempotency key, stream. ARGV: payment id, the payment JSON read before ('' for none),
# the new payment JSON, the idempotency record, its TTL, the stream's maxlen, then 4 fields per event.
# Returns {1} written, {0, record} when the key was recorded meanwhile, {2} when the payment changed meanwhile.
_WRITE = """
local recorded = redis.call('GET', KEYS[2])
if recorded then return {0, recorded} end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return {2} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[5])
for i = 7, #ARGV, 4 do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*',
             'id', ARGV[i], 'type', ARGV[i + 1], 'at', ARGV[i + 2], 'data', ARGV[i + 3])
end
return {1}
"""


class SandboxGateway:
    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self.redis = redis
        self.stream = settings.events_stream
        self.maxlen = settings.events_maxlen
        self.latency_seconds = settings.payment_gateway_latency_ms / 1000
        self.token_ttl_seconds = settings.payment_token_ttl_seconds
        # keyed by the platform secret (stable across restarts, so per-card velocity survives them)
        self.fingerprint = CardFingerprint(settings.jwt_key())
        self._write = redis.register_script(_WRITE)
        self._tokens: OrderedDict[str, CardToken] = OrderedDict()  # a token never changes: kept once read

    # -- tokens ---------------------------------------------------------------------------------------
    async def tokenize(self, customer: str, card_number: str, exp_month: int, exp_year: int, cvc: str,
                       holder_name: str | None = None) -> dict[str, Any]:
        """{"token", "brand", "last4", "exp_month", "exp_year", "expires_at"}; Invalid("invalid_card")."""
        await self._round_trip()
        moment = now()
        card = validate_card(card_number, exp_month, exp_year, cvc, moment)
        token = CardToken(secret_id("tok"), card.brand, card.last4, card.exp_month, card.exp_year,
                          self.fingerprint(card.number), holder_name, sandbox_outcome(card.number), iso(moment),
                          customer, iso(moment + timedelta(seconds=self.token_ttl_seconds)), card.country)
        await self.redis.set(keys.payment_token(token.token), dumps(token.to_dict()), ex=self.token_ttl_seconds)
        return token.public()

    async def token_info(self, token: str, customer: str) -> CardInfo:
        return (await self._card(token, customer)).info()

    def known_token(self, token: str, customer: str) -> CardInfo | None:
        """`token_info` without a round trip, when this client has read the token before (else None)."""
        card = self._tokens.get(token)
        return card.info() if card is not None and card.usable_by(customer, now()) else None

    async def _card(self, token: str, customer: str) -> CardToken:
        card = self._tokens.get(token)
        if card is None:
            raw = await self.redis.get(keys.payment_token(token)) if isinstance(token, str) else None
            card = self._keep(raw)
        return self._usable(card, customer)

    def _keep(self, raw: str | None) -> CardToken | None:
        if raw is None:
            return None
        card = CardToken.from_dict(json.loads(raw))
        self._tokens[card.token] = card
        if len(self._tokens) > TOKENS_KEPT:
            self._tokens.popitem(last=False)
        return card

    @staticmethod
    def _usable(card: CardToken | None, customer: str) -> CardToken:
        """The token's card if `customer` may use it now. Unknown, expired and someone else's tokens are refused
        alike, so a caller learns nothing about tokens that are not theirs."""
        if card is None or not card.usable_by(customer, now()):
            raise NotFound("invalid_payment_token", "No such payment token")
        return card

    # -- payments -------------------------------------------------------------------------------------
    async def authorize(self, token: str, customer: str, amount: int, currency: str, idempotency_key: str,
                        reference: str) -> dict[str, Any]:
        """The payment, authorized or declined (a decline is a result, not an error)."""
        await self._round_trip()
        card = self._tokens.get(token)
        recorded = None
        if card is None or not card.usable_by(customer, now()):
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(keys.payment_token(token))
            pipe.get(keys.payment_idempotency(f"authorize:{idempotency_key}"))
            raw_card, recorded = await pipe.execute()
            if recorded is None:
                card = self._usable(self._keep(raw_card), customer)
            else:  # a replay is answered from its record (the token may have expired since): only ids compared
                card = CardToken(token, "", "", 0, 0, "", None, "", "", customer)
        # with the token known, a new authorization is one round trip: the write refuses it if the key was
        # recorded meanwhile, and the next attempt answers from the record
        return await self._once("authorize", idempotency_key, None, lambda book: book.authorize(
            card, amount, currency, idempotency_key, reference, now()), recorded)

    async def capture(self, payment_id: str, amount: int | None, idempotency_key: str,
                      currency: str | None = None) -> dict[str, Any]:
        await self._round_trip()
        return await self._once("capture", idempotency_key, payment_id, lambda book: book.capture(
            payment_id, amount, idempotency_key, now(), currency))

    async def void(self, payment_id: str, idempotency_key: str) -> dict[str, Any]:
        await self._round_trip()
        return await self._once("void", idempotency_key, payment_id, lambda book: book.void(
            payment_id, idempotency_key, now()))

    async def refund(self, payment_id: str, amount: int | None, idempotency_key: str,
                     currency: str | None = None) -> dict[str, Any]:
        await self._round_trip()
        return await self._once("refund", idempotency_key, payment_id, lambda book: book.refund(
            payment_id, amount, idempotency_key, now(), currency))

    async def chargeback(self, payment_id: str, reason: str, idempotency_key: str) -> dict[str, Any]:
        await self._round_trip()
        return await self._once("chargeback", idempotency_key, payment_id, lambda book: book.chargeback(
            payment_id, reason, idempotency_key, now()))

    async def get(self, payment_id: str) -> dict[str, Any]:
        await self._round_trip()
        raw = await self.redis.hget(keys.PAYMENTS, payment_id)  # type: ignore[misc]
        if raw is None:
            raise NotFound("payment_not_found", "No such payment", {"payment_id": payment_id})
        return Payment.from_dict(json.loads(raw)).to_dict()

    async def payout(self, recipient: str, amount: int, currency: str, idempotency_key: str) -> dict[str, Any]:
        """Pay a seller: {"id", "recipient", "amount", "currency", "status": "paid", "at"}. The same key with the
        same arguments answers the recorded payout and pays nothing more; with others, Conflict."""
        await self._round_trip()
        check_amount(amount)
        check_currency(currency)
        check_key(idempotency_key)
        request = {"recipient": recipient, "amount": amount, "currency": currency}
        result = {"id": new_id("pyt"), **request, "status": "paid", "at": iso(now())}
        key = keys.gateway_payout(idempotency_key)
        if not await self.redis.set(key, dumps({"request": request, "result": result}), nx=True,
                                    ex=IDEMPOTENCY_DAYS * 86400):
            recorded = json.loads(await self.redis.get(key) or "null")
            if recorded is None or recorded["request"] != request:
                raise Conflict("idempotency_conflict", "This idempotency key was already used for another payout")
            result = recorded["result"]
        return result

    # -- one call, once -------------------------------------------------------------------------------
    async def _once(self, operation: str, key: str, payment_id: str | None,
                    act: Callable[[PaymentBook], Receipt], recorded: str | None = None) -> dict[str, Any]:
        """Apply a PaymentBook rule to the payment as stored, and store the outcome only if neither the payment
        nor the idempotency key changed meanwhile; otherwise read again and re-apply. A new payment (no
        `payment_id`) needs only the idempotency record read, which the caller may have read already."""
        scoped = f"{operation}:{key}"
        current: str | None = None
        for attempt in range(CONFLICT_RETRIES):
            if payment_id is not None:
                pipe = self.redis.pipeline(transaction=False)
                pipe.get(keys.payment_idempotency(scoped))
                pipe.hget(keys.PAYMENTS, payment_id)
                recorded, current = await pipe.execute()
            elif attempt:
                recorded = await self.redis.get(keys.payment_idempotency(scoped))
            book = PaymentBook({payment_id: Payment.from_dict(json.loads(current))} if current and payment_id else {},
                               {scoped: json.loads(recorded)} if recorded else {})
            receipt = act(book)  # a replay returns the recorded result; a broken rule raises, changing nothing
            if receipt.payment is None or receipt.record is None:
                return receipt.result
            payment = receipt.payment
            events = [Event(type, data) for type, data in receipt.events]
            written = await self._write(
                keys=[keys.PAYMENTS, keys.payment_idempotency(scoped), self.stream],
                args=[payment.id, current or "", dumps(payment.to_dict()), dumps(receipt.record[1]),
                      IDEMPOTENCY_DAYS * 86400, self.maxlen,
                      *(value for event in events for value in event.fields().values())])
            if int(written[0]) == 1:
                return receipt.result
        raise Unavailable("gateway_busy", "The payment could not be recorded; retry")

    async def _round_trip(self) -> None:
        if self.latency_seconds > 0:
            await asyncio.sleep(self.latency_seconds)


if TYPE_CHECKING:

    def _is_a_gateway(gateway: SandboxGateway) -> PaymentGateway:
        return gateway
