from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.cards import CardFingerprint, card_brand, is_expired, luhn_valid, validate_card
from domain.errors import Invalid

TODAY = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
VISA = "4242424242424242"


def card_error(**overrides: object) -> Invalid:
    args: dict[str, object] = {"card_number": VISA, "exp_month": 12, "exp_year": 2031, "cvc": "123", "today": TODAY}
    args.update(overrides)
    with pytest.raises(Invalid) as caught:
        validate_card(**args)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_card"
    return caught.value


def test_a_good_visa_is_accepted_with_brand_last4_and_expiry() -> None:
    card = validate_card("4242 4242-4242 4242", 7, 2031, "123", TODAY)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 7, 2031)
    assert card.number == VISA


def test_the_card_number_never_shows_in_repr() -> None:
    card = validate_card(VISA, 7, 2031, "123", TODAY)
    assert VISA not in repr(card) and VISA not in str(card)


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "visa"),
        ("4000056655665556", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("371449635398431", "amex"),
        ("6011111111111117", "discover"),
        ("6445644564456445", "discover"),
        ("6221260000000000", "discover"),
        ("3056930009020004", "other"),  # Diners
        ("3566002020360505", "other"),  # JCB
    ],
)
def test_brands_are_told_apart_by_their_leading_digits(number: str, brand: str) -> None:
    assert card_brand(number) == brand


def test_luhn_accepts_the_check_digit_and_refuses_a_single_typo() -> None:
    assert luhn_valid(VISA)
    assert not luhn_valid("4242424242424241")
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


BAD_NUMBERS = ["4242424242424241", "42424242424", "4" * 20, "4242abcd42424242", "", "\uff14" * 16]


@pytest.mark.parametrize("number", BAD_NUMBERS)  # bad Luhn, too short, too long, letters, empty, full-width
def test_bad_numbers_are_refused_without_echoing_them(number: str) -> None:
    error = card_error(card_number=number)
    assert error.details == {"field": "card_number"}
    if number:
        assert number not in error.message and number not in str(error.details)


def test_a_card_is_good_until_the_end_of_its_expiry_month_utc() -> None:
    assert not is_expired(6, 2030, TODAY)
    assert is_expired(5, 2030, TODAY)
    last_moment = datetime(2030, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert not is_expired(6, 2030, last_moment)
    assert is_expired(6, 2030, datetime(2030, 7, 1, tzinfo=UTC))


def test_expired_or_impossible_expiry_is_refused() -> None:
    assert card_error(exp_month=5, exp_year=2030).details == {"field": "exp_year"}
    assert card_error(exp_month=13).details == {"field": "exp_month"}
    assert card_error(exp_month=0).details == {"field": "exp_month"}
    assert card_error(exp_year=-1).details == {"field": "exp_year"}


def test_a_two_digit_year_means_this_century() -> None:
    assert validate_card(VISA, 1, 31, "123", TODAY).exp_year == 2031
    assert card_error(exp_year=29).details == {"field": "exp_year"}


def test_cvc_is_three_digits_and_four_for_amex() -> None:
    assert card_error(cvc="12").details == {"field": "cvc"}
    assert card_error(cvc="1234").details == {"field": "cvc"}
    assert card_error(cvc="12a").details == {"field": "cvc"}
    assert validate_card("378282246310005", 1, 2031, "1234", TODAY).brand == "amex"
    assert card_error(card_number="378282246310005", cvc="123").details == {"field": "cvc"}


def test_fingerprint_is_stable_per_card_and_secret_and_hides_the_number() -> None:
    fingerprint = CardFingerprint("secret-one")
    first = fingerprint(VISA)
    assert first == fingerprint("4242 4242 4242 4242") == CardFingerprint("secret-one")(VISA)
    assert first != fingerprint("5555555555554444")
    assert first != CardFingerprint("secret-two")(VISA)
    assert VISA not in first and len(first) == 64
    assert "secret-one" not in repr(fingerprint)
