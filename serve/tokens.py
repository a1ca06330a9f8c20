"""JWT access tokens (short-lived, HS256) and opaque refresh tokens (stored hashed in Redis, revocable).

An access token names its session (`ses`, the refresh-token family it was issued in) and the user's token
generation (`gen`) so that `serve/sessions.py` can revoke it before it expires."""

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


@dataclass(frozen=True)
class AccessToken:
    """A verified access token: who it is for, and what `serve/sessions.py` checks to know it is not revoked."""

    principal: Principal
    jti: str
    session: str  # the session (refresh-token family) it was issued in; "" in tokens from before sessions
    generation: int  # the user's token generation when it was issued
    expires: int  # epoch seconds


def issue_access_token(settings: Settings, principal: Principal, session: str = "", generation: int = 0) -> str:
    now = int(time.time())
    claims = {
        "sub": principal.user_id,
        "role": principal.role,
        "sid": principal.seller_id,
        "ses": session,
        "gen": generation,
        "typ": "access",
        "iat": now,
        "exp": now + settings.jwt_access_ttl_seconds,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_key(), algorithm="HS256")


_VERIFIED: OrderedDict[tuple[str, str], AccessToken] = OrderedDict()  # (key, token) -> the verified token
VERIFIED_KEPT = 10_000


def verify_access_token(settings: Settings, token: str) -> AccessToken:
    """A valid access token, by its signature and expiry; whether it was revoked is `serve/sessions.py`'s to say.
    A token's signature is checked once per replica and the outcome kept (a token never changes); its expiry is
    checked on every use."""
    verified = _VERIFIED.get((settings.jwt_key(), token))
    if verified is not None:
        if time.time() < verified.expires:
            return verified
        raise Unauthorized("token_expired", "The access token has expired; refresh it")
    verified = _verify(settings, token)
    _VERIFIED[(settings.jwt_key(), token)] = verified
    if len(_VERIFIED) > VERIFIED_KEPT:
        _VERIFIED.popitem(last=False)
    return verified


def _verify(settings: Settings, token: str) -> AccessToken:
    try:
        claims = jwt.decode(token, settings.jwt_key(), algorithms=["HS256"],
                            options={"require": ["exp", "sub", "jti"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token_expired", "The access token has expired; refresh it") from None
    except jwt.PyJWTError:
        raise Unauthorized("invalid_token", "The access token is not valid") from None
    if claims.get("typ") != "access" or claims.get("role") not in ("customer", "seller", "admin"):
        raise Unauthorized("invalid_token", "The access token is not valid")
    principal = Principal(user_id=claims["sub"], role=claims["role"], seller_id=claims.get("sid"))
    return AccessToken(principal, str(claims["jti"]), str(claims.get("ses") or ""), int(claims.get("gen") or 0),
                       int(claims["exp"]))


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def secret_digest(token: str) -> str:
    """Refresh and password-reset tokens are stored by digest only, so a Redis dump cannot be replayed as tokens."""
    return hashlib.sha256(token.encode()).hexdigest()
