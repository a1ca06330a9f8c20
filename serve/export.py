"""A user's data, all of it, as JSON (`GET /v1/me/export`): one section per kind of data, each a function of the
user's id reading committed state. A new kind of personal data gets its section here (`@section("wishlist")`), so
an export never silently misses it; docs/privacy.md lists the sections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from actors import notification_reads, reads, review_reads
from domain.clock import now_iso
from domain.orders import customer_view
from serve.context import Context

Section = Callable[[Context, str], Awaitable[Any]]
SECTIONS: dict[str, Section] = {}


def section(name: str) -> Callable[[Section], Section]:
    def register(read: Section) -> Section:
        SECTIONS[name] = read
        return read

    return register


async def export(ctx: Context, user_id: str) -> dict[str, Any]:
    """Every section of the user's data; only ever called with the caller's own id."""
    data = {name: await read(ctx, user_id) for name, read in SECTIONS.items()}
    return {"user_id": user_id, "exported_at": now_iso(), **data}


@section("profile")
async def _profile(ctx: Context, user_id: str) -> dict[str, Any] | None:
    user = await reads.user(ctx, user_id)
    if user is None:
        return None
    view = user.public()
    for moved in ("addresses", "preferences", "seller"):  # sections of their own
        view.pop(moved, None)
    return view


@section("addresses")
async def _addresses(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    user = await reads.user(ctx, user_id)
    return [] if user is None else list(user.public()["addresses"])


@section("preferences")
async def _preferences(ctx: Context, user_id: str) -> dict[str, Any] | None:
    user = await reads.user(ctx, user_id)
    return None if user is None else dict(user.public()["preferences"])


@section("seller")
async def _seller(ctx: Context, user_id: str) -> dict[str, Any] | None:
    user = await reads.user(ctx, user_id)
    return None if user is None or user.seller is None else user.seller.to_dict()


@section("orders")
async def _orders(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    return [customer_view(order.view()) for order in await reads.shopper_orders(ctx, user_id)]


@section("cart")
async def _cart(ctx: Context, user_id: str) -> dict[str, Any]:
    return (await reads.cart(ctx, user_id)).to_dict()


@section("reviews")
async def _reviews(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    return [review.own() for review in await review_reads.user_reviews(ctx, user_id)]


@section("helpful_votes")
async def _votes(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    return [{"review_id": review_id} for review_id in await review_reads.user_votes(ctx, user_id)]


@section("seller_ratings")
async def _seller_ratings(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    return await review_reads.user_seller_ratings(ctx, user_id)


@section("wishlist")
async def _wishlist(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    return await notification_reads.wishlist(ctx, user_id)


@section("notifications")
async def _notifications(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    """The whole inbox (it keeps the newest `notifications_kept`)."""
    items, _, _ = await notification_reads.inbox_page(ctx, user_id, 1, max(1, ctx.settings.notifications_kept))
    return items


@section("webhooks")
async def _webhooks(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    """Endpoints the user registered (as a seller or an admin), without their signing secrets."""
    return [w.public() for w in await notification_reads.webhooks(ctx, user_id)]
