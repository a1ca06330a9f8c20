"""Route dependencies as `Annotated` aliases, so each route says in one line what it needs.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per
dependency per request that cost more CPU than the checkout route itself (measured with py-spy).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.errors import Forbidden, Unauthorized
from serve import sessions
from serve.client_address import client_address, trusted
from serve.context import Context
from serve.tokens import AccessToken, Principal, verify_access_token

_bearer = HTTPBearer(auto_error=False)


async def get_context(request: Request) -> Context:  # async: FastAPI runs a plain def on a thread
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(get_context)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def signed_token(ctx: Ctx, credentials: Credentials) -> AccessToken:
    """A valid access token whose revocation is NOT checked yet: only for a hot route that checks it within its own
    Redis read (`sessions.revocation_of`) before it answers anything."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing_token", "Send Authorization: Bearer <access_token>")
    return verify_access_token(ctx.settings, credentials.credentials)


SignedToken = Annotated[AccessToken, Depends(signed_token)]


async def current_user(ctx: Ctx, credentials: Credentials) -> Principal:
    """The caller of a valid access token that was not revoked (one Redis round trip, `serve/sessions.py`)."""
    token = await signed_token(ctx, credentials)
    await sessions.refuse_revoked(ctx, token)
    return token.principal


CurrentUser = Annotated[Principal, Depends(current_user)]


async def presented_token(ctx: Ctx, credentials: Credentials) -> AccessToken | None:
    """The access token sent along, if it is valid, for a route that works without one (logout revokes it)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    try:
        return verify_access_token(ctx.settings, credentials.credentials)
    except Unauthorized:
        return None


PresentedToken = Annotated[AccessToken | None, Depends(presented_token)]


async def admin_user(user: CurrentUser) -> Principal:
    if not user.is_admin:
        raise Forbidden("admin_only", "Only an admin may do this")
    return user


async def seller_or_admin(user: CurrentUser) -> Principal:
    if user.role not in ("seller", "admin"):
        raise Forbidden("seller_only", "Only an approved seller or an admin may do this")
    return user


async def seller_user(user: CurrentUser) -> Principal:
    """An approved seller (its token carries the seller id), for the seller console's own views."""
    if user.role != "seller" or user.seller_id is None:
        raise Forbidden("seller_only", "Only an approved seller may do this")
    return user


AdminUser = Annotated[Principal, Depends(admin_user)]
SellerOrAdmin = Annotated[Principal, Depends(seller_or_admin)]
SellerUser = Annotated[Principal, Depends(seller_user)]


def client_ip(request: Request) -> str:
    """The caller's address: the peer, or X-Forwarded-For's as serve/client_address.py reads it behind a trusted
    proxy. Every per-address limit and counter uses this one."""
    proxies = trusted(tuple(request.app.state.ctx.settings.trusted_proxies))
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"), proxies)
