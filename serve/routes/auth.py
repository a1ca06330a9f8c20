"""Registration, login, refresh-token rotation, logout and "log out everywhere".

Sessions (refresh-token families, rotation with reuse detection, revocation of access tokens) are kept by
`serve/sessions.py`; these routes only call it. Login reads the email index and the user straight from committed
state and checks the password in a worker thread, so the event loop never blocks on argon2.

Rate limits are fixed one-minute windows in Redis (INCR, EXPIRE NX). Login: every attempt takes a slot *before*
its password is checked (so parallel guesses cannot slip past the limit) and a successful login gives its slot
back, so in effect failed attempts per email are counted. Registration: every attempt per client IP counts.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, StringConstraints

from actors import reads
from config import Settings
from domain.errors import Unauthorized
from domain.passwords import Passwords
from domain.users import User, email_key
from serve import sessions
from serve.context import Context
from serve.deps import Ctx, CurrentUser, PresentedToken, client_ip
from serve.ratelimit import give_back_slot, take_slot
from serve.schemas import Body
from serve.tokens import Principal, issue_access_token

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


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> Passwords:
    return Passwords(time_cost, memory_kib, parallelism)


def _passwords(settings: Settings) -> Passwords:
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


async def _issue_tokens(ctx: Context, user: User) -> dict[str, Any]:
    """A new session for the user (at login) and its first pair of tokens."""
    return _token_pair(ctx.settings, user, await sessions.start(ctx, user.id))


def _token_pair(settings: Settings, user: User, grant: sessions.Grant) -> dict[str, Any]:
    principal = Principal(user.id, user.role, user.seller_id)
    access = issue_access_token(settings, principal, grant.session, grant.generation)
    return {"access_token": access, "refresh_token": grant.refresh_token, "token_type": "bearer",
            "expires_in": settings.jwt_access_ttl_seconds}


@router.post("/v1/auth/register", status_code=201)
async def register(body: RegisterBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    await take_slot(ctx, f"register:{client_ip(request)}", ctx.settings.register_per_minute_per_ip)
    shard = ctx.router.owner("users", email_key(body.email))  # any shard may create; it mints a local id
    user = await shard.register.remote(body.email, body.password, body.first_name, body.last_name, body.phone)
    return {"user": user}


@router.post("/v1/auth/login")
async def login(body: LoginBody, ctx: Ctx) -> dict[str, Any]:
    bucket = f"login:{email_key(body.email)}"
    await take_slot(ctx, bucket, ctx.settings.login_attempts_per_minute)
    user = await reads.user_by_email(ctx, body.email)
    passwords = _passwords(ctx.settings)
    # an unknown email still pays for a hash check, so the two failures look the same from outside
    if not await asyncio.to_thread(passwords.verify, user.password_hash if user else None, body.password):
        raise Unauthorized("invalid_credentials", "The email or password is not correct")
    assert user is not None
    await give_back_slot(ctx, bucket)
    if passwords.needs_rehash(user.password_hash):
        await ctx.router.owner("users", user.id).rehash_password.remote(user.id, body.password)
    return await _issue_tokens(ctx, user)


@router.post("/v1/auth/refresh")
async def refresh(body: RefreshBody, ctx: Ctx) -> dict[str, Any]:
    grant = await sessions.rotate(ctx, body.refresh_token)
    user = await reads.user(ctx, grant.user_id)
    if user is None:
        await sessions.end(ctx, grant.refresh_token)
        raise Unauthorized("invalid_refresh_token", "The refresh token is expired, revoked or unknown")
    return _token_pair(ctx.settings, user, grant)  # role and seller_id as they are now, e.g. a newly approved seller


@router.post("/v1/auth/logout", status_code=204)
async def logout(body: RefreshBody, token: PresentedToken, ctx: Ctx) -> Response:
    """The refresh token's session ends, with its access tokens; so does the access token sent along, if any."""
    await sessions.end(ctx, body.refresh_token)
    if token is not None:
        await sessions.revoke_access_token(ctx, token)
    return Response(status_code=204)


@router.post("/v1/auth/logout-all", status_code=204)
async def logout_all(me: CurrentUser, ctx: Ctx) -> Response:
    """Every session of the caller ends, and every access token issued to them so far is refused."""
    await sessions.end_all(ctx, me.user_id)
    return Response(status_code=204)
