"""What an erased account leaves behind (docs/privacy.md): orders stay for the books, without the person."""

from __future__ import annotations

from typing import Any

KEPT_ADDRESS_FIELDS = ("country", "state")  # where the goods went, as far as taxes need it
ERASED = "erased"


def pseudonymised_address(address: dict[str, Any]) -> dict[str, Any]:
    """A shipping address reduced to its country and state: no name, street, city, postcode or phone."""
    return {**{name: address.get(name) for name in KEPT_ADDRESS_FIELDS}, ERASED: True}


def is_pseudonymised(address: dict[str, Any]) -> bool:
    return bool(address.get(ERASED))
