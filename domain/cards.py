"""Card validation for the payment gateway's tokenize call.

The card number (PAN) exists only for the length of that call: it is validated here, fingerprinted, and
dropped. Error messages never repeat it (nor the cvc), so nothing downstream can echo or log it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from domain.errors import Invalid

Brand = Literal["visa", "mastercard", "amex", "discover", "other"]

MIN_LENGTH, MAX_LENGTH = 12, 19
_SEPARATORS = re.compile(r"[ -]")
_DIGITS = re.compile(r"[0-9]+")


# The sandbox's issuing countries (it has no real BIN table): the first six digits of the number (the BIN) ->
# ISO 3166-1 alpha-2. Any other BIN is issued in the sandbox's home, "US". A test or the simulator picks a card of
# a country by starting a (Luhn-valid) number with one of these, e.g. 4000 5544 ... for India.
SANDBOX_HOME_COUNTRY = "US"
SANDBOX_BIN_COUNTRIES: dict[str, str] = {
    "400551": "GB", "400552": "DE", "400553": "FR", "400554": "IN", "400555": "BR",
    "400556": "NG", "400557": "RU", "400558": "CN", "400559": "JP", "400560": "CA",
}


@dataclass(frozen=True)
class Card:
    """A validated card. `number` is kept out of repr so a stray log line cannot print it."""

    number: str = field(repr=False)
    brand: Brand
    exp_month: int
    exp_year: int

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def country(self) -> str:
        """The issuing country, from the sandbox's BIN table (SANDBOX_BIN_COUNTRIES)."""
        return SANDBOX_BIN_COUNTRIES.get(self.number[:6], SANDBOX_HOME_COUNTRY)


def invalid(field_name: str, message: str) -> Invalid:
    return Invalid("invalid_card", message, {"field": field_name})


def normalize_number(card_number: str) -> str:
    """Digits only (spaces and dashes dropped), 12-19 of them, passing the Luhn check."""
    digits = _SEPARATORS.sub("", card_number) if isinstance(card_number, str) else ""
    if not _DIGITS.fullmatch(digits):
        raise invalid("card_number", "The card number must contain only digits")
    if not MIN_LENGTH <= len(digits) <= MAX_LENGTH:
        raise invalid("card_number", f"The card number must have {MIN_LENGTH} to {MAX_LENGTH} digits")
    if not luhn_valid(digits):
        raise invalid("card_number", "The card number is not valid")
    return digits


def luhn_valid(digits: str) -> bool:
    return luhn_sum(digits) % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that, appended to `body`, makes a number that passes the Luhn check (test card numbers)."""
    return str((10 - luhn_sum(body + "0")) % 10)


def luhn_sum(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total


def sandbox_card_number(country: str, serial: int = 0) -> str:
    """A 16-digit, Luhn-valid sandbox visa issued in `country` (SANDBOX_BIN_COUNTRIES, or the home country);
    `serial` tells cards of one country apart. Approved by the sandbox like any card not on its test lists."""
    bins = [b for b, c in SANDBOX_BIN_COUNTRIES.items() if c == country]
    if not bins and country != SANDBOX_HOME_COUNTRY:
        raise ValueError(f"the sandbox issues no cards in {country!r}")
    body = f"{bins[0] if bins else '411111'}{serial:09d}"
    if len(body) != 15:
        raise ValueError("serial must be under 10**9")
    return body + luhn_check_digit(body)


def card_brand(digits: str) -> Brand:
    """The brand from the number's leading digits (IIN ranges)."""
    two, three, four, six = (int(digits[:n]) for n in (2, 3, 4, 6))
    if digits.startswith("4"):
        return "visa"
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if four == 6011 or 644 <= three <= 649 or two == 65 or 622126 <= six <= 622925:
        return "discover"
    return "other"


def normalize_expiry(exp_month: int, exp_year: int, today: datetime) -> tuple[int, int]:
    """(month, four-digit year); a two-digit year means 20YY. A card is good to the end of its month, UTC."""
    if not _is_int(exp_month) or not 1 <= exp_month <= 12:
        raise invalid("exp_month", "The expiry month must be 1 to 12")
    if not _is_int(exp_year) or not 0 <= exp_year <= 9999:
        raise invalid("exp_year", "The expiry year is not valid")
    year = exp_year + 2000 if exp_year < 100 else exp_year
    if is_expired(exp_month, year, today):
        raise invalid("exp_year", "The card has expired")
    return exp_month, year


def is_expired(exp_month: int, exp_year: int, today: datetime) -> bool:
    today = today.astimezone(UTC)
    return (exp_year, exp_month) < (today.year, today.month)


def validate_cvc(cvc: str, brand: Brand) -> None:
    length = 4 if brand == "amex" else 3
    if not isinstance(cvc, str) or len(cvc) != length or not _DIGITS.fullmatch(cvc):
        raise invalid("cvc", f"The security code must be {length} digits")


def validate_card(card_number: str, exp_month: int, exp_year: int, cvc: str, today: datetime) -> Card:
    """Check everything a gateway checks before it issues a token; raise Invalid("invalid_card") otherwise."""
    digits = normalize_number(card_number)
    brand = card_brand(digits)
    month, year = normalize_expiry(exp_month, exp_year, today)
    validate_cvc(cvc, brand)
    return Card(digits, brand, month, year)


class CardFingerprint:
    """HMAC-SHA256 of the card number under a secret: one card always gives the same fingerprint (so velocity
    per card works without storing the number), and without the secret it cannot be turned back into a number.
    The key is derived from the secret with a purpose label, so a secret shared with another use stays apart."""

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        if not raw:
            raise ValueError("a card fingerprint needs a non-empty secret")
        self._key = hmac.new(raw, b"bazaar/card-fingerprint/v1", hashlib.sha256).digest()

    def __call__(self, card_number: str) -> str:
        digits = _SEPARATORS.sub("", card_number)
        return hmac.new(self._key, digits.encode(), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "CardFingerprint(<secret>)"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
