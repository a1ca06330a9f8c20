"""Domain errors. Each kind maps to one HTTP status in `serve/errors.py`; the code is the contract's snake_case code.

Every error keeps (code, message, details) as its args so it pickles unchanged across Ray calls.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(code, message, details)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class BadRequest(DomainError):
    """The request cannot be acted on as sent (400), e.g. checkout of an empty cart."""


class Unauthorized(DomainError):
    """Missing, expired or wrong credentials (401)."""


class PaymentDeclined(DomainError):
    """The gateway declined the payment (402)."""


class Forbidden(DomainError):
    """Authenticated but not allowed (403)."""


class NotFound(DomainError):
    """No such resource, or not the caller's (404)."""


class Conflict(DomainError):
    """The request clashes with current state (409): out of stock, already shipped, email taken."""


class Invalid(DomainError):
    """Well-formed but semantically invalid input (422)."""


class RateLimited(DomainError):
    """Too many attempts (429)."""


class Unavailable(DomainError):
    """A dependency is not answering (503)."""
