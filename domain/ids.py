"""Opaque ids: a three-letter kind, an underscore, and a ULID (time-ordered, 26 Crockford base32 characters)."""

from __future__ import annotations

import re

from ulid import ULID

ID_PATTERN = r"^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$"
_ID_RE = re.compile(ID_PATTERN)

KINDS = {
    "usr": "user",
    "adr": "address",
    "sel": "seller",
    "cat": "category",
    "prd": "product",
    "var": "variant",
    "ord": "order",
    "chk": "checkout",
    "rsv": "reservation",
    "tok": "payment token",
    "pay": "payment",
    "ref": "refund",
    "evt": "event",
}


def new_id(kind: str) -> str:
    assert kind in KINDS, f"unknown id kind {kind!r}"
    return f"{kind}_{ULID()}"


def is_id(value: str, kind: str | None = None) -> bool:
    return bool(_ID_RE.match(value)) and (kind is None or value.startswith(kind + "_"))
