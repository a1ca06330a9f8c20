"""JWT access tokens (short-lived, HS256) and opaque refresh tokens (stored hashed in Redis, revocable)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import jwt

from config import Settings
from domain.errors import Unauthorized

Role = Literal["customer", "seller", "admin"]


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    seller_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_access_token(settings: Settings, principal: Principal) -> str:
    now = int(time.time())
    claims = {
        "sub": principal.user_id,
        "role": principal.role,
        "sid": principal.seller_id,
        "typ": "access",
        "iat": now,
        "exp": now + settings.jwt_access_ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_key(), algorithm="HS256")


_VERIFIED: OrderedDict[tuple[str, str], tuple[Principal, int]] = OrderedDict()  # (key, token) -> (who, exp)
VERIFIED_KEPT = 10_000


def decode_access_token(settings: Settings, token: str) -> Principal:
    """The principal of a valid access token. A token's signature is checked once per replica and the outcome
    kept (a token never changes); its expiry is checked on every use."""
    cached = _VERIFIED.get((settings.jwt_key(), token))
    if cached is not None:
        principal, expires = cached
        if time.time() < expires:
            return principal
        raise Unauthorized("token_expired", "The access token has expired; refresh it")
    principal, expires = _verify(settings, token)
    _VERIFIED[(settings.jwt_key(), token)] = (principal, expires)
    if len(_VERIFIED) > VERIFIED_KEPT:
        _VERIFIED.popitem(last=False)
    return principal


def _verify(settings: Settings, token: str) -> tuple[Principal, int]:
    try:
        claims = jwt.decode(token, settings.jwt_key(), algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token_expired", "The access token has expired; refresh it") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid_token", "The access token is not valid") from None
    if claims.get("typ") != "access" or claims.get("role") not in ("customer", "seller", "admin"):
        raise Unauthorized("invalid_token", "The access token is not valid")
    return Principal(user_id=claims["sub"], role=claims["role"], seller_id=claims.get("sid")), int(claims["exp"])


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_digest(token: str) -> str:
    """Refresh tokens are stored by digest only, so a Redis dump cannot be replayed as tokens."""
    return hashlib.sha256(token.encode()).hexdigest()
