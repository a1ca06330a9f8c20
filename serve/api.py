"""The FastAPI application of one Serve replica: routers, error mapping, body limits, and the API's docs.

The docs (/docs, /redoc) and the schema they read (/openapi.json) are on in local development and tests (the
contract fuzz test reads the schema); with BAZAAR_ENV=production they are off unless BAZAAR_API_DOCS=true, so a
public shop does not hand out a map of every operation, admin ones included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from config import Settings
from serve import errors
from serve.context import Context
from serve.routes import (
    analytics,
    audit_log,
    auth,
    cart,
    catalog,
    checkout,
    fulfilment,
    health,
    inventory,
    jobs,
    notifications,
    orders,
    passwords,
    payments,
    privacy,
    recommendations,
    reviews,
    search,
    seller_orders,
    seller_ratings,
    seller_stock,
    sellers,
    simulation,
    stock,
    users,
    webhooks,
    wishlist,
)

# Routes are matched in this order, by FastAPI and again by Serve (to name the route in its metrics), one by one:
# the shop's busiest paths come first (matching took an eighth of a replica's CPU with checkout near the end).
# `stock` before `inventory`: its /v1/inventory/purchase-orders is not a variant id
ROUTERS = [health, cart, checkout, search, catalog, recommendations, orders, payments, stock, inventory, auth,
           passwords, users, sellers, seller_stock, analytics, jobs, fulfilment, seller_orders, reviews,
           seller_ratings, privacy, audit_log, notifications, wishlist, webhooks]


def docs_enabled(settings: Settings) -> bool:
    return settings.api_docs if settings.api_docs is not None else settings.env != "production"


def create_api(settings: Settings) -> FastAPI:
    docs = docs_enabled(settings)
    app = FastAPI(
        title="Bazaar API",
        version="1",
        description="Shoppers, sellers and admins of the Bazaar marketplace. Errors are "
        '`{"error": {"code", "message", "details"}}`.',
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.ctx = Context.create(settings)
    errors.install(app)
    routers = [*ROUTERS, simulation] if settings.env == "simulation" else ROUTERS  # never in production
    for module in routers:  # every status an operation can answer is in the OpenAPI, with the error body
        statuses = (503,) if module is health else errors.CHECKOUT_ERRORS if module is checkout else errors.API_ERRORS
        app.include_router(module.router, responses=errors.documented(statuses))
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def api_builder(settings: Settings) -> Callable[[], FastAPI]:
    """Serve evaluates the builder inside each replica (it must be a plain function, not a partial)."""

    def build() -> FastAPI:
        return create_api(settings)

    return build


class BodyLimit:
    """Refuses bodies over the limit with 413, whether or not the client declared a Content-Length."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:  # FastAPI passes HTTPExceptions from body reading through unchanged
                    raise StarletteHTTPException(413, f"The body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, send: Any) -> None:
        body = errors.error_response(413, "payload_too_large", f"The body exceeds {self.max_bytes} bytes").body
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
