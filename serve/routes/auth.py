"""Registration, login, refresh-token rotation and logout.

Refresh tokens are session records, not actor state: they are written and deleted here, by digest only, at
`keys.refresh_token(digest)` with the refresh TTL. Rotation consumes the old token atomically (GETDEL), so a
refresh token works once. Login reads the email index and the user straight from committed state and checks
the password on the process's password-hashing gate (never on the event loop), behind the per-email and
per-address backoff of serve/login_guard.py.

Registration is rate limited per client address (serve/client_address.py) in fixed one-minute windows in Redis
(INCR, EXPIRE NX); the user shard hashes the password on its own gate.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, StringConstraints

from actors import keys, reads
from domain.clock import now_iso
from domain.errors import Unauthorized
from domain.users import User, email_key
from serve import login_guard
from serve.context import Context
from serve.deps import Ctx, client_ip
from serve.ratelimit import take_slot
from serve.schemas import Body
from serve.tokens import Principal, issue_access_token, new_refresh_token, refresh_digest

router = APIRouter(tags=["auth"])


# a password is taken exactly as typed (Body trims other strings); the policy itself is in domain.passwords
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=1024)]


class RegisterBody(Body):
    email: str = Field(max_length=254, examples=["ada@example.com"])
    password: Password
    first_name: str = Field(max_length=80)
    last_name: str = Field(max_length=80)
    phone: str | None = Field(default=None, max_length=24)


class LoginBody(Body):
    email: str = Field(max_length=254)
    password: Password


class RefreshBody(Body):
    refresh_token: str = Field(max_length=256)


async def _issue_tokens(ctx: Context, user: User) -> dict[str, Any]:
    settings = ctx.settings
    access = issue_access_token(settings, Principal(user.id, user.role, user.seller_id))
    refresh = new_refresh_token()
    session = json.dumps({"user_id": user.id, "issued_at": now_iso()})
    await ctx.redis.set(keys.refresh_token(refresh_digest(refresh)), session, ex=settings.jwt_refresh_ttl_seconds)
    return {"access_token": access, "refresh_token": refresh, "token_type": "bearer",
            "expires_in": settings.jwt_access_ttl_seconds}


@router.post("/v1/auth/register", status_code=201)
async def register(body: RegisterBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    await take_slot(ctx, f"register:{client_ip(request)}", ctx.settings.register_per_minute_per_ip)
    shard = ctx.router.owner("users", email_key(body.email))  # any shard may create; it mints a local id
    user = await shard.register.remote(body.email, body.password, body.first_name, body.last_name, body.phone)
    return {"user": user}


@router.post("/v1/auth/login")
async def login(body: LoginBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    user = await login_guard.signed_in(ctx, body.email, body.password, client_ip(request))
    return await _issue_tokens(ctx, user)


@router.post("/v1/auth/refresh")
async def refresh(body: RefreshBody, ctx: Ctx) -> dict[str, Any]:
    raw = await ctx.redis.getdel(keys.refresh_token(refresh_digest(body.refresh_token)))
    user = None if raw is None else await reads.user(ctx, json.loads(raw)["user_id"])
    if user is None:
        raise Unauthorized("invalid_refresh_token", "The refresh token is expired, revoked or unknown")
    return await _issue_tokens(ctx, user)  # role and seller_id as they are now, e.g. a newly approved seller


@router.post("/v1/auth/logout", status_code=204)
async def logout(body: RefreshBody, ctx: Ctx) -> Response:
    await ctx.redis.delete(keys.refresh_token(refresh_digest(body.refresh_token)))
    return Response(status_code=204)
