"""The sandbox payment gateway as one actor: the `PaymentBook` rules plus their persistence.

Redis (see actors/keys.py):
    PAYMENT_TOKENS       token -> CardToken JSON (brand, last4, expiry, fingerprint, holder, sandbox outcome)
    PAYMENTS             payment_id -> Payment JSON
    PAYMENT_IDEMPOTENCY  "<operation>:<key>" -> {"request", "result"}
Payments and idempotency records are loaded at start; tokens never change once written, so they are read
from Redis when used. The card number and cvc are never stored, logged or returned.

Errors: an unknown token raises NotFound("invalid_payment_token") (404; the checkout saga may present it as
422); an unknown payment NotFound("payment_not_found"); a wrong state Conflict("payment_not_capturable" /
"payment_not_voidable" / "payment_not_refundable"); a bad amount Invalid("invalid_amount" /
"amount_exceeds_authorized" / "amount_exceeds_captured"); a reused key with other arguments
Conflict("idempotency_conflict"). A declined card is not an error: authorize returns status "declined".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors import keys
from actors.shard import ShardActor
from actors.store import Changes, load_hash
from config import Settings
from domain.cards import CardFingerprint, validate_card
from domain.clock import now, now_iso
from domain.errors import NotFound
from domain.ids import new_id
from domain.payments import CardToken, PaymentBook, Receipt, sandbox_outcome

if TYPE_CHECKING:
    from domain.payments import PaymentGateway


class PaymentsActor(ShardActor):
    kind = "payments"

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.book = PaymentBook()
        # Keyed by the platform secret (stable across restarts, so per-card velocity survives them).
        self.fingerprint = CardFingerprint(settings.jwt_key())
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        self.book = PaymentBook.restore(load_hash(client, keys.PAYMENTS), load_hash(client, keys.PAYMENT_IDEMPOTENCY))

    # -- tokens ---------------------------------------------------------------------------------------
    async def tokenize(self, card_number: str, exp_month: int, exp_year: int, cvc: str,
                       holder_name: str | None = None) -> dict[str, Any]:
        """{"token", "brand", "last4", "exp_month", "exp_year"}; Invalid("invalid_card") for a bad card."""
        card = validate_card(card_number, exp_month, exp_year, cvc, now())
        token = CardToken(new_id("tok"), card.brand, card.last4, card.exp_month, card.exp_year,
                          self.fingerprint(card.number), holder_name, sandbox_outcome(card.number), now_iso())

        def command(changes: Changes) -> dict[str, Any]:
            changes.hset(keys.PAYMENT_TOKENS, token.token, token.to_dict())
            return token.public()

        return await self.submit(command)

    async def token_info(self, token: str) -> dict[str, Any]:
        """{"token", "brand", "last4", "exp_month", "exp_year", "fingerprint"}."""
        return (await self._card(token)).info()

    # -- payments -------------------------------------------------------------------------------------
    async def authorize(self, token: str, amount: int, currency: str, idempotency_key: str,
                        reference: str) -> dict[str, Any]:
        card = await self._card(token)
        return await self.submit(
            lambda changes: _persist(changes, self.book.authorize(card, amount, currency, idempotency_key,
                                                                  reference, now())))

    async def capture(self, payment_id: str, amount: int | None, idempotency_key: str,
                      currency: str | None = None) -> dict[str, Any]:
        return await self.submit(
            lambda changes: _persist(changes, self.book.capture(payment_id, amount, idempotency_key, now(),
                                                                currency)))

    async def void(self, payment_id: str, idempotency_key: str) -> dict[str, Any]:
        return await self.submit(
            lambda changes: _persist(changes, self.book.void(payment_id, idempotency_key, now())))

    async def refund(self, payment_id: str, amount: int | None, idempotency_key: str,
                     currency: str | None = None) -> dict[str, Any]:
        return await self.submit(
            lambda changes: _persist(changes, self.book.refund(payment_id, amount, idempotency_key, now(),
                                                               currency)))

    async def get(self, payment_id: str) -> dict[str, Any]:
        # Through the queue, so a read never shows a change that is not yet durable.
        return await self.submit(lambda changes: self.book.get(payment_id).to_dict())

    async def _card(self, token: str) -> CardToken:
        data = await self.store.hget_json(keys.PAYMENT_TOKENS, token) if isinstance(token, str) else None
        if data is None:
            raise NotFound("invalid_payment_token", "No such payment token")
        return CardToken.from_dict(data)


def _persist(changes: Changes, receipt: Receipt) -> dict[str, Any]:
    if receipt.payment is not None:
        changes.hset(keys.PAYMENTS, receipt.payment.id, receipt.payment.to_dict())
    if receipt.record is not None:
        changes.hset(keys.PAYMENT_IDEMPOTENCY, *receipt.record)
    for type, data in receipt.events:
        changes.emit(type, **data)
    return receipt.result


if TYPE_CHECKING:

    def _is_a_gateway(actor: PaymentsActor) -> PaymentGateway:
        return actor
