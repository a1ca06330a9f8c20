from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import Conflict, Invalid, NotFound, PaymentDeclined
from domain.ids import is_id
from domain.payments import APPROVE, CAPTURE_FAILS, CardToken, Payment, PaymentBook, sandbox_outcome

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)


def token(outcome: str = APPROVE, exp_year: int = 2031, name: str = "tok_a") -> CardToken:
    return CardToken(name, "visa", "4242", 12, exp_year, "f" * 64, "Ada", outcome, "2030-06-01T00:00:00.000Z")


def authorized(book: PaymentBook, amount: int = 10_000, key: str = "auth-1") -> Payment:
    result = book.authorize(token(), amount, "USD", key, "chk_1", NOW).result
    assert result["status"] == "authorized"
    return book.get(result["id"])


def test_the_sandbox_test_cards_decide_the_outcome() -> None:
    assert sandbox_outcome("4242424242424242") == APPROVE
    assert sandbox_outcome("4000000000000002") == "card_declined"
    assert sandbox_outcome("4000000000009995") == "insufficient_funds"
    assert sandbox_outcome("5555555555554444") == APPROVE
    assert sandbox_outcome("4000000000000341") == CAPTURE_FAILS


def test_the_capture_fails_card_is_authorized_but_its_capture_refused_changing_nothing() -> None:
    book = PaymentBook()
    result = book.authorize(token(CAPTURE_FAILS), 2_000, "USD", "k", "chk_1", NOW).result
    assert result["status"] == "authorized"
    before = book.get(result["id"]).to_dict()
    with pytest.raises(PaymentDeclined) as caught:
        book.capture(result["id"], None, "cap", NOW)
    assert caught.value.code == "capture_failed"
    assert book.get(result["id"]).to_dict() == before and "capture:cap" not in book.records
    assert book.void(result["id"], "v", NOW).result["status"] == "voided"


def test_an_approved_card_is_authorized_with_an_event() -> None:
    receipt = PaymentBook().authorize(token(), 12_345, "USD", "k", "chk_1", NOW)
    assert is_id(receipt.result["id"], "pay")
    assert {k: receipt.result[k] for k in ("status", "amount", "currency", "captured", "refunded", "brand",
                                           "last4", "decline_code")} == {
        "status": "authorized", "amount": 12_345, "currency": "USD", "captured": 0, "refunded": 0,
        "brand": "visa", "last4": "4242", "decline_code": None}
    assert [t for t, _ in receipt.events] == ["payment.authorized"]
    assert receipt.record is not None and receipt.record[0] == "authorize:k"


@pytest.mark.parametrize("outcome", ["card_declined", "insufficient_funds"])
def test_a_declined_card_is_a_declined_payment_not_an_error(outcome: str) -> None:
    receipt = PaymentBook().authorize(token(outcome), 500, "USD", "k", "chk_1", NOW)
    assert receipt.result["status"] == "declined" and receipt.result["decline_code"] == outcome
    assert [t for t, _ in receipt.events] == ["payment.declined"]


def test_a_card_that_expired_since_tokenization_is_declined() -> None:
    receipt = PaymentBook().authorize(token(exp_year=2029), 500, "USD", "k", "chk_1", NOW)
    assert (receipt.result["status"], receipt.result["decline_code"]) == ("declined", "expired_card")


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, "100"])
def test_amounts_are_positive_integers(amount: object) -> None:
    book = PaymentBook()
    with pytest.raises(Invalid) as caught:
        book.authorize(token(), amount, "USD", "k", "chk_1", NOW)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_amount"
    assert book.payments == {} and book.records == {}


def test_full_capture_then_partial_refunds_down_to_fully_refunded() -> None:
    book = PaymentBook()
    payment = authorized(book)
    assert book.capture(payment.id, None, "cap", NOW).result["captured"] == 10_000
    first = book.refund(payment.id, 3_000, "r1", NOW).result
    assert (first["status"], first["refunded"]) == ("partially_refunded", 3_000)
    rest = book.refund(payment.id, None, "r2", NOW)
    assert (rest.result["status"], rest.result["refunded"]) == ("refunded", 10_000)
    assert [r["amount"] for r in rest.result["refunds"]] == [3_000, 7_000]
    assert [t for t, _ in rest.events] == ["payment.refunded"]
    with pytest.raises(Conflict) as caught:
        book.refund(payment.id, 1, "r3", NOW)
    assert caught.value.code == "payment_not_refundable"


def test_a_partial_capture_is_allowed_once_and_bounds_the_refunds() -> None:
    book = PaymentBook()
    payment = authorized(book)
    assert book.capture(payment.id, 6_000, "cap", NOW).result["status"] == "captured"
    with pytest.raises(Conflict):
        book.capture(payment.id, 1_000, "cap-again", NOW)
    with pytest.raises(Invalid) as caught:
        book.refund(payment.id, 6_001, "r1", NOW)
    assert caught.value.code == "amount_exceeds_captured"
    assert book.refund(payment.id, None, "r1", NOW).result["refunded"] == 6_000


def test_capture_can_not_exceed_the_authorization_and_changes_nothing_when_refused() -> None:
    book = PaymentBook()
    payment = authorized(book)
    before = payment.to_dict()
    with pytest.raises(Invalid) as caught:
        book.capture(payment.id, 10_001, "cap", NOW)
    assert caught.value.code == "amount_exceeds_authorized"
    assert payment.to_dict() == before and "capture:cap" not in book.records


def test_void_only_an_uncaptured_authorization() -> None:
    book = PaymentBook()
    payment = authorized(book)
    assert book.void(payment.id, "v", NOW).result["status"] == "voided"
    for attempt in (lambda: book.capture(payment.id, None, "c", NOW), lambda: book.refund(payment.id, None, "r", NOW)):
        with pytest.raises(Conflict):
            attempt()
    captured = authorized(book, key="auth-2")
    book.capture(captured.id, None, "c2", NOW)
    with pytest.raises(Conflict) as caught:
        book.void(captured.id, "v2", NOW)
    assert caught.value.code == "payment_not_voidable"


def test_an_authorization_must_be_captured_before_it_is_refunded() -> None:
    book = PaymentBook()
    payment = authorized(book)
    with pytest.raises(Conflict):
        book.refund(payment.id, 100, "r", NOW)


def test_a_declined_payment_can_not_be_captured() -> None:
    book = PaymentBook()
    declined = book.authorize(token("card_declined"), 500, "USD", "k", "chk_1", NOW).result
    with pytest.raises(Conflict):
        book.capture(declined["id"], None, "c", NOW)


def test_currency_must_match_the_payment() -> None:
    book = PaymentBook()
    payment = authorized(book)
    with pytest.raises(Invalid) as caught:
        book.capture(payment.id, None, "c", NOW, currency="EUR")
    assert caught.value.code == "currency_mismatch"
    with pytest.raises(Invalid) as bad:
        book.authorize(token(), 100, "usd", "k2", "chk_2", NOW)
    assert bad.value.code == "invalid_currency"


def test_a_retried_authorize_returns_the_same_payment_and_charges_once() -> None:
    book = PaymentBook()
    first = book.authorize(token(), 10_000, "USD", "k", "chk_1", NOW)
    again = book.authorize(token(), 10_000, "USD", "k", "chk_1", NOW)
    assert again.result == first.result
    assert again.payment is None and again.record is None and again.events == ()
    assert len(book.payments) == 1


def test_a_replay_returns_the_recorded_reply_even_after_later_changes() -> None:
    book = PaymentBook()
    payment = authorized(book)
    captured = book.capture(payment.id, None, "cap", NOW).result
    book.refund(payment.id, 500, "r1", NOW)
    assert book.capture(payment.id, None, "cap", NOW).result == captured
    assert book.refund(payment.id, 500, "r1", NOW).result["refunded"] == 500
    assert book.get(payment.id).refunded == 500


def test_the_same_key_with_other_arguments_is_a_conflict() -> None:
    book = PaymentBook()
    book.authorize(token(), 10_000, "USD", "k", "chk_1", NOW)
    with pytest.raises(Conflict) as caught:
        book.authorize(token(), 9_999, "USD", "k", "chk_1", NOW)
    assert caught.value.code == "idempotency_conflict"
    payment = authorized(book, key="k2")
    book.capture(payment.id, None, "shared", NOW)
    book.refund(payment.id, 100, "shared", NOW)  # keys are scoped per operation
    with pytest.raises(Conflict):
        book.refund(payment.id, 200, "shared", NOW)
    assert book.get(payment.id).refunded == 100


def test_unknown_payments_and_empty_keys_are_refused() -> None:
    book = PaymentBook()
    with pytest.raises(NotFound):
        book.capture("pay_missing", None, "c", NOW)
    with pytest.raises(Invalid) as caught:
        book.authorize(token(), 100, "USD", "", "chk_1", NOW)
    assert caught.value.code == "invalid_idempotency_key"


def test_a_book_restored_from_its_records_continues_where_it_left_off() -> None:
    book = PaymentBook()
    payment = authorized(book)
    book.capture(payment.id, 4_000, "cap", NOW)
    payments = {pid: p.to_dict() for pid, p in book.payments.items()}
    restored = PaymentBook.restore(payments, dict(book.records))
    assert restored.get(payment.id).to_dict() == book.get(payment.id).to_dict()
    assert restored.capture(payment.id, 4_000, "cap", NOW).payment is None  # still a replay
    assert restored.refund(payment.id, None, "r", NOW).result["status"] == "refunded"


def test_a_chargeback_takes_back_what_was_captured_and_not_refunded_once() -> None:
    book = PaymentBook()
    payment = authorized(book)
    with pytest.raises(Conflict):
        book.chargeback(payment.id, "fraudulent", "cb-1", NOW)  # nothing captured yet
    book.capture(payment.id, None, "cap-1", NOW)
    book.refund(payment.id, 2_500, "ref-1", NOW)
    receipt = book.chargeback(payment.id, "fraudulent", "cb-2", NOW)
    assert (receipt.result["status"], receipt.result["charged_back"]) == ("charged_back", 7_500)
    [(kind, data)] = receipt.events
    assert kind == "payment.chargeback"
    assert (data["order_id"], data["amount"], data["reason"]) == ("chk_1", 7_500, "fraudulent")
    assert book.chargeback(payment.id, "fraudulent", "cb-2", NOW).events == ()  # a replay
    with pytest.raises(Conflict):
        book.chargeback(payment.id, "fraudulent", "cb-3", NOW)
