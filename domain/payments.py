"""Payments: the gateway interface the platform codes against, and the rules of the built-in sandbox gateway.

A real gateway implements `PaymentGateway`; `actors.payments.SandboxGateway` is the sandbox one, wrapping the
`PaymentBook` below. Money is an int of minor units with its ISO currency.

Idempotency: every money-moving call carries a caller-chosen key. The same key with the same arguments
returns the recorded reply (the payment as it was right after that call) and moves no money again; the
same key with other arguments raises Conflict("idempotency_conflict"). Keys are scoped per operation, so a
caller may use one key (say its saga id) for both the authorize and the capture of one payment.
Every operation checks first and mutates after, so a raised error has changed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, Protocol

from domain.cards import is_expired
from domain.clock import iso
from domain.errors import Conflict, Invalid, NotFound, PaymentDeclined
from domain.ids import new_id

# The sandbox's well-known test cards; any other valid card is approved.
APPROVE = "approve"
SANDBOX_DECLINES: dict[str, str] = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}
# This one is authorized, but its capture is refused (as when an authorization lapsed at the issuer): how a test
# makes the capture at shipping fail (PaymentDeclined "capture_failed", nothing changed).
CAPTURE_FAILS = "capture_fails"
SANDBOX_CAPTURE_FAILS = "4000000000000341"

Status = Literal["authorized", "captured", "partially_refunded", "refunded", "voided", "declined", "charged_back"]
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_KEY_LENGTH = 255


def sandbox_outcome(card_number: str) -> str:
    """The outcome class a sandbox card will get: "approve", a decline code, or "capture_fails"."""
    if card_number == SANDBOX_CAPTURE_FAILS:
        return CAPTURE_FAILS
    return SANDBOX_DECLINES.get(card_number, APPROVE)


class PaymentGateway(Protocol):
    """What the checkout saga and orders need from a gateway. Replies are JSON-able dicts (see Payment)."""

    async def tokenize(self, customer: str, card_number: str, exp_month: int, exp_year: int, cvc: str,
                       holder_name: str | None) -> dict[str, Any]: ...

    async def token_info(self, token: str, customer: str) -> CardInfo: ...

    async def authorize(self, token: str, customer: str, amount: int, currency: str, idempotency_key: str,
                        reference: str) -> dict[str, Any]: ...

    async def capture(self, payment_id: str, amount: int | None, idempotency_key: str) -> dict[str, Any]: ...

    async def void(self, payment_id: str, idempotency_key: str) -> dict[str, Any]: ...

    async def refund(self, payment_id: str, amount: int | None, idempotency_key: str) -> dict[str, Any]: ...

    async def chargeback(self, payment_id: str, reason: str, idempotency_key: str) -> dict[str, Any]: ...

    async def get(self, payment_id: str) -> dict[str, Any]: ...

    async def payout(self, recipient: str, amount: int, currency: str, idempotency_key: str) -> dict[str, Any]:
        """Money to a seller (`recipient`): the same key with the same arguments pays once."""
        ...


@dataclass(frozen=True)
class CardToken:
    """What a token stands for. Never the card number or the cvc. A token is unguessable, belongs to the
    shopper (`customer`) who made it and nobody else, and stops working at `expires_at`."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str
    holder_name: str | None
    outcome: str  # the sandbox outcome class, decided at tokenization since the number is not kept
    created_at: str
    customer: str = ""
    expires_at: str = ""
    country: str = ""  # the issuing country (domain.cards.Card.country); "" on tokens made before it was kept

    def public(self) -> dict[str, Any]:
        return {"token": self.token, "brand": self.brand, "last4": self.last4,
                "exp_month": self.exp_month, "exp_year": self.exp_year, "expires_at": self.expires_at}

    def info(self) -> CardInfo:
        return CardInfo(self.brand, self.last4, self.exp_month, self.exp_year, self.fingerprint, self.country)

    def usable_by(self, customer: str, now: datetime) -> bool:
        return self.customer == customer and (not self.expires_at or iso(now) < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardToken:
        return cls(**data)


@dataclass(frozen=True)
class CardInfo:
    """What a checkout may know of the card behind a token: enough for the order and the fraud rules."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str  # keyed hash of the number: the same card gives the same fingerprint, across tokens
    country: str = ""  # issuing country, ISO 3166-1 alpha-2 ("" when unknown)


@dataclass
class Payment:
    id: str
    status: Status
    amount: int  # authorized
    currency: str
    brand: str
    last4: str
    reference: str
    created_at: str
    updated_at: str
    captured: int = 0
    refunded: int = 0
    decline_code: str | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    capture_refused: bool = False  # the sandbox's capture-fails test card
    charged_back: int = 0  # taken back by the card's issuer (a disputed payment)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def authorize(cls, card: CardToken, amount: int, currency: str, reference: str, now: datetime) -> Payment:
        """Authorized, or declined (a declined payment is a result, not an error: the caller decides)."""
        check_amount(amount)
        check_currency(currency)
        decline = None if card.outcome in (APPROVE, CAPTURE_FAILS) else card.outcome
        if decline is None and is_expired(card.exp_month, card.exp_year, now):
            decline = "expired_card"
        at = iso(now)
        payment = cls(new_id("pay"), "declined" if decline else "authorized", amount, currency, card.brand,
                      card.last4, reference, at, at, decline_code=decline,
                      capture_refused=card.outcome == CAPTURE_FAILS)
        if decline:
            payment._event("payment.declined", decline_code=decline)
        else:
            payment._event("payment.authorized", brand=card.brand, last4=card.last4)
        return payment

    def capture(self, amount: int | None, now: datetime) -> None:
        """Once, for all or part of the authorized amount; the rest of the authorization is released."""
        if self.status != "authorized":
            raise Conflict("payment_not_capturable", f"A {self.status} payment cannot be captured",
                           {"status": self.status})
        amount = self.amount if amount is None else amount
        check_amount(amount)
        if amount > self.amount:
            raise Invalid("amount_exceeds_authorized", "The capture is larger than the authorized amount",
                          {"authorized": self.amount})
        if self.capture_refused:
            raise PaymentDeclined("capture_failed", "The card's issuer refused to capture the payment",
                                  {"payment_id": self.id})
        self.captured, self.status, self.updated_at = amount, "captured", iso(now)
        self._event("payment.captured", captured=amount)

    def void(self, now: datetime) -> None:
        if self.status != "authorized":
            raise Conflict("payment_not_voidable", f"A {self.status} payment cannot be voided",
                           {"status": self.status})
        self.status, self.updated_at = "voided", iso(now)
        self._event("payment.voided")

    def refund(self, amount: int | None, now: datetime) -> None:
        """Part or all of what is captured and not yet refunded; `None` refunds the rest."""
        if self.status not in ("captured", "partially_refunded"):
            raise Conflict("payment_not_refundable", f"A {self.status} payment cannot be refunded",
                           {"status": self.status})
        refundable = self.captured - self.refunded
        amount = refundable if amount is None else amount
        check_amount(amount)
        if amount > refundable:
            raise Invalid("amount_exceeds_captured", "The refund is larger than what is left to refund",
                          {"refundable": refundable})
        at = iso(now)
        refund = {"id": new_id("ref"), "amount": amount, "at": at}
        self.refunded += amount
        self.refunds.append(refund)
        self.status = "refunded" if self.refunded == self.captured else "partially_refunded"
        self.updated_at = at
        self._event("payment.refunded", refund_id=refund["id"], refund_amount=amount)

    def chargeback(self, reason: str, now: datetime) -> None:
        """The issuer takes back what was captured and not refunded (the cardholder disputed the payment)."""
        disputed = self.captured - self.refunded
        if self.status not in ("captured", "partially_refunded") or disputed <= 0:
            raise Conflict("payment_not_disputable", f"A {self.status} payment cannot be charged back",
                           {"status": self.status})
        self.charged_back, self.status, self.updated_at = disputed, "charged_back", iso(now)
        self._event("payment.chargeback", order_id=self.reference, amount=disputed, reason=reason)

    def check_currency_is(self, currency: str | None) -> None:
        if currency is not None and currency != self.currency:
            raise Invalid("currency_mismatch", f"The payment is in {self.currency}", {"currency": self.currency})

    def to_dict(self) -> dict[str, Any]:
        """Field by field (asdict deep-copies every value, the events too, on each authorization's record)."""
        data = {name: getattr(self, name) for name in _RECORDED}
        data["refunds"] = [dict(refund) for refund in self.refunds]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Payment:
        return cls(**data)

    def _event(self, type: str, **data: Any) -> None:
        self.events.append((type, {"payment_id": self.id, "reference": self.reference, "status": self.status,
                                   "amount": self.amount, "currency": self.currency, "captured": self.captured,
                                   "refunded": self.refunded, **data}))


@dataclass(frozen=True)
class Receipt:
    """One gateway call's outcome: the reply, and unless it was a replay, what to persist."""

    result: dict[str, Any]
    payment: Payment | None = None
    record: tuple[str, dict[str, Any]] | None = None  # (scoped idempotency key, {"request", "result"})
    events: tuple[tuple[str, dict[str, Any]], ...] = ()


class PaymentBook:
    """Every payment of the gateway and the idempotency record of every call, in memory; pure."""

    def __init__(self, payments: dict[str, Payment] | None = None,
                 records: dict[str, dict[str, Any]] | None = None) -> None:
        self.payments = payments or {}
        self.records = records or {}

    @classmethod
    def restore(cls, payments: dict[str, Any], records: dict[str, Any]) -> PaymentBook:
        return cls({pid: Payment.from_dict(data) for pid, data in payments.items()}, dict(records))

    def get(self, payment_id: str) -> Payment:
        payment = self.payments.get(payment_id)
        if payment is None:
            raise NotFound("payment_not_found", "No such payment", {"payment_id": payment_id})
        return payment

    def authorize(self, card: CardToken, amount: int, currency: str, key: str, reference: str,
                  now: datetime) -> Receipt:
        request = {"token": card.token, "customer": card.customer, "amount": amount, "currency": currency,
                   "reference": reference}
        return self._once("authorize", key, request,
                          lambda: Payment.authorize(card, amount, currency, reference, now))

    def capture(self, payment_id: str, amount: int | None, key: str, now: datetime,
                currency: str | None = None) -> Receipt:
        def act() -> Payment:
            payment = self.get(payment_id)
            payment.check_currency_is(currency)
            payment.capture(amount, now)
            return payment

        return self._once("capture", key, {"payment_id": payment_id, "amount": amount, "currency": currency}, act)

    def void(self, payment_id: str, key: str, now: datetime) -> Receipt:
        def act() -> Payment:
            payment = self.get(payment_id)
            payment.void(now)
            return payment

        return self._once("void", key, {"payment_id": payment_id}, act)

    def refund(self, payment_id: str, amount: int | None, key: str, now: datetime,
               currency: str | None = None) -> Receipt:
        def act() -> Payment:
            payment = self.get(payment_id)
            payment.check_currency_is(currency)
            payment.refund(amount, now)
            return payment

        return self._once("refund", key, {"payment_id": payment_id, "amount": amount, "currency": currency}, act)

    def chargeback(self, payment_id: str, reason: str, key: str, now: datetime) -> Receipt:
        def act() -> Payment:
            payment = self.get(payment_id)
            payment.chargeback(reason, now)
            return payment

        return self._once("chargeback", key, {"payment_id": payment_id, "reason": reason}, act)

    def _once(self, operation: str, key: str, request: dict[str, Any], act: Callable[[], Payment]) -> Receipt:
        check_key(key)
        scoped = f"{operation}:{key}"
        recorded = self.records.get(scoped)
        if recorded is not None:
            if recorded["request"] != request:
                raise Conflict("idempotency_conflict",
                               f"This idempotency key was already used for another {operation}")
            return Receipt(dict(recorded["result"]))
        payment = act()
        result = payment.to_dict()
        record = {"request": request, "result": result}
        self.payments[payment.id] = payment
        self.records[scoped] = record
        events = tuple(payment.events)
        payment.events.clear()
        return Receipt(dict(result), payment, (scoped, record), events)


def check_amount(amount: object) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise Invalid("invalid_amount", "An amount is a positive integer of minor units")


def check_currency(currency: object) -> None:
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise Invalid("invalid_currency", "A currency is an ISO 4217 code such as USD")


def check_key(key: object) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid("invalid_idempotency_key", f"An idempotency key is 1 to {MAX_KEY_LENGTH} characters")


_RECORDED = tuple(f.name for f in fields(Payment) if f.name != "events")  # what Payment.to_dict writes
