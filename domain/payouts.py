"""A seller's payout account (where the shop pays what it owes the seller), tokenized on arrival.

The clear account number (an IBAN, or a bank account and routing number) exists only for the length of the
tokenize call: it is checked here and dropped. What the shop keeps is a `PayoutAccount`: an unguessable token,
the kind, the last four characters and the country. The built-in sandbox keeps nothing else (a real payout
provider's client would hand the number to the provider and keep its token the same way). Error messages never
repeat the number, so nothing downstream can echo or log it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from domain.errors import Invalid
from domain.ids import secret_id

PayoutKind = Literal["iban", "bank_account"]

_SEPARATORS = re.compile(r"[ -]")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_ACCOUNT = re.compile(r"^[0-9]{4,17}$")
_ROUTING = re.compile(r"^[0-9]{9}$")


@dataclass(frozen=True)
class PayoutAccount:
    """What the shop stores of a payout account: never the number itself."""

    token: str
    kind: PayoutKind
    last4: str
    country: str
    holder_name: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PayoutAccount:
        return cls(**data)


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, letters as numbers, the whole mod 97 is 1."""
    if not _IBAN.match(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def routing_number_is_valid(routing: str) -> bool:
    """An ABA routing number: nine digits whose 3-7-1 weighted sum is a multiple of 10."""
    if not _ROUTING.match(routing):
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def tokenize(holder_name: str, iban: str | None = None, account_number: str | None = None,
             routing_number: str | None = None) -> PayoutAccount:
    """A token for an IBAN, or for a (US) bank account number with its routing number; Invalid otherwise."""
    holder = (holder_name or "").strip()
    if not 2 <= len(holder) <= 120:
        raise Invalid("invalid_payout_details", "account_holder has 2 to 120 characters", {"field": "account_holder"})
    if (iban is None) == (account_number is None):
        raise Invalid("invalid_payout_details", "Give either an iban or an account_number with a routing_number")
    if iban is not None:
        clean = _SEPARATORS.sub("", iban).upper()
        if not iban_is_valid(clean):
            raise Invalid("invalid_payout_details", "The IBAN is not valid", {"field": "iban"})
        return PayoutAccount(secret_id("pot"), "iban", clean[-4:], clean[:2], holder)
    number = _SEPARATORS.sub("", account_number or "")
    if not _ACCOUNT.match(number):
        raise Invalid("invalid_payout_details", "An account number has 4 to 17 digits", {"field": "account_number"})
    routing = _SEPARATORS.sub("", routing_number or "")
    if not routing_number_is_valid(routing):
        raise Invalid("invalid_payout_details", "The routing number is not valid", {"field": "routing_number"})
    return PayoutAccount(secret_id("pot"), "bank_account", number[-4:], "US", holder)
