"""Registration, login, refresh-token rotation, logout and "log out everywhere".

Sessions (refresh-token families, rotation with reuse detection, revocation of access tokens) are kept by
`serve/sessions.py`; these routes only call it. Login reads the email index and the user straight from committed
state and checks the password on the process's password-hashing gate (never on the event loop), behind the
per-email and per-address backoff of serve/login_guard.py.

Registration is rate limited per client address (serve/client_address.py) in fixed one-minute windows in Redis
(INCR, EXPIRE NX); the user shard hashes the password on its own gate.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field, StringConstraints

from actors import reads
from config import Settings
from domain.errors import Unauthorized
from domain.users import User, email_key
from serve import login_guard, sessions
from serve.context import Context
from serve.deps import Ctx, CurrentUser, PresentedToken, client_ip
from serve.ratelimit import take_slot
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
async def login(body: LoginBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    user = await login_guard.signed_in(ctx, body.email, body.password, client_ip(request))
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
