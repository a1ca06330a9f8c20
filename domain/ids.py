"""Opaque ids: a three-letter kind, an underscore, and a ULID (time-ordered, 26 Crockford base32 characters)."""

from __future__ import annotations

import hashlib
import re
import secrets

from ulid import ULID

ID_PATTERN = r"^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$"
_ID_RE = re.compile(ID_PATTERN)

KINDS = {
    "usr": "user",
    "adr": "address",
    "sel": "seller",
    "pot": "payout account token (domain/payouts.py)",
    "pur": "purchase order (domain/stock_watch.py)",
    "cat": "category",
    "prd": "product",
    "var": "variant",
    "ord": "order",
    "chk": "checkout",
    "rsv": "reservation",
    "tok": "payment token",
    "pay": "payment",
    "ref": "refund",
    "pyt": "payout to a seller (the gateway's id)",
    "evt": "event",
    "ses": "session (a refresh-token family)",
    "run": "run of a scheduled job (actors/scheduler.py)",
    "rev": "review",
    "adm": "entry of the admin audit log",
    "ntf": "notification (its id is derived from its subject, person and kind: domain/notices.py)",
    "whk": "webhook endpoint",
    "dlv": "delivery of a mail or a webhook",
}


def new_id(kind: str) -> str:
    assert kind in KINDS, f"unknown id kind {kind!r}"
    return f"{kind}_{ULID()}"


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def secret_id(kind: str) -> str:
    """An id of the usual shape that is also unguessable: 26 random Crockford characters (130 bits from the
    OS's CSPRNG), no timestamp, no sequence. For bearer-like ids such as payment tokens."""
    assert kind in KINDS, f"unknown id kind {kind!r}"
    first = secrets.choice("01234567")  # a ULID's first character is at most 7; keeps the pattern's range
    return f"{kind}_{first}{''.join(secrets.choice(_CROCKFORD) for _ in range(25))}"


def is_id(value: str, kind: str | None = None) -> bool:
    return bool(_ID_RE.match(value)) and (kind is None or value.startswith(kind + "_"))


def derived_id(kind: str, *parts: str) -> str:
    """An id of the usual shape that is a function of `parts` (BLAKE2b, 125 bits): the same subject always gets
    the same id, so writing it twice is writing it once (a notification re-made after a crash)."""
    assert kind in KINDS, f"unknown id kind {kind!r}"
    value = int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).digest(), "big") >> 3
    chars = []
    for _ in range(25):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{kind}_{_CROCKFORD[value & 7]}{''.join(reversed(chars))}"
