"""Becoming and being a seller: a logged-in user applies (its payout account tokenized on arrival), an admin
approves or rejects it, and may later suspend and reinstate it. The approved user's next token (refresh or login)
carries the seller role and seller_id. A suspended seller's listings leave the shop until it is reinstated."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from actors import reads
from domain import payouts
from domain.errors import NotFound
from serve.context import Context
from serve.deps import AdminUser, Ctx, CurrentUser
from serve.routes.users import own_user
from serve.schemas import Body, PathId

router = APIRouter(tags=["sellers"])


class PayoutDetailsIn(Body):
    """Where the shop pays the seller: an IBAN, or a US bank account number with its routing number. Tokenized on
    arrival; only the token, the kind and the last four characters are kept."""

    account_holder: str = Field(min_length=2, max_length=120)
    iban: str | None = Field(default=None, max_length=42)
    account_number: str | None = Field(default=None, max_length=24)
    routing_number: str | None = Field(default=None, max_length=12)


class SellerAddressIn(Body):
    street: str = Field(max_length=200)
    city: str = Field(max_length=100)
    state: str = Field(default="", max_length=100)
    zip_code: str = Field(max_length=16)
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2, e.g. US")


class SellerApplicationBody(Body):
    store_name: str = Field(max_length=80, examples=["Ada's Engines"], description="the display name shoppers see")
    description: str | None = Field(default=None, max_length=2000)
    legal_name: str | None = Field(default=None, max_length=120)
    address: SellerAddressIn | None = None
    payout: PayoutDetailsIn | None = None


class ReasonBody(Body):
    reason: str = Field(min_length=1, max_length=500)


def seller_view(seller: dict[str, Any]) -> dict[str, Any]:
    """A seller as the API shows it: the payout account masked (kind, last4, country, holder), never its token."""
    payout = seller.get("payout")
    return {**seller, "payout": None if payout is None else {k: v for k, v in payout.items() if k != "token"}}


async def seller_record(ctx: Context, seller_id: str) -> dict[str, Any]:
    seller = await reads.seller(ctx, seller_id)
    if seller is None:
        raise NotFound("seller_not_found", "No such seller", {"seller_id": seller_id})
    return seller


@router.post("/v1/sellers", status_code=201)
async def apply(body: SellerApplicationBody, me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """201 `{"seller"}`, pending; 409 `already_applied`; 422 `invalid_payout_details` (the number is never echoed)."""
    details: dict[str, Any] = {"legal_name": body.legal_name,
                               "address": None if body.address is None else body.address.model_dump()}
    if body.payout is not None:
        p = body.payout
        details["payout"] = payouts.tokenize(p.account_holder, p.iban, p.account_number, p.routing_number).to_dict()
    shard = ctx.router.owner("users", me.user_id)
    return {"seller": seller_view(await shard.apply_seller.remote(me.user_id, body.store_name, body.description,
                                                                  details))}


@router.get("/v1/sellers/me")
async def my_application(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """200 `{"seller"}`: the caller's own application or seller profile; 404 `seller_not_found`."""
    user = await own_user(ctx, me.user_id)
    if user.seller is None:
        raise NotFound("seller_not_found", "This account has not applied to sell")
    return {"seller": seller_view(user.seller.to_dict())}


@router.get("/v1/seller/me")
async def my_seller_profile(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """The seller console's name for `GET /v1/sellers/me`."""
    return await my_application(me, ctx)


@router.get("/v1/admin/sellers")
async def list_sellers(admin: AdminUser, ctx: Ctx,
                       status: Literal["pending", "approved", "rejected", "suspended"] | None = None
                       ) -> dict[str, Any]:
    """Admin. 200 `{"items"}`: the applications (of one status), oldest first."""
    sellers = await reads.sellers(ctx)
    items = sorted((s for s in sellers if status is None or s["status"] == status), key=lambda s: s["created_at"])
    return {"items": [seller_view(s) for s in items]}


@router.post("/v1/admin/sellers/{seller_id}/approve")
async def approve(seller_id: PathId, admin: AdminUser, ctx: Ctx) -> dict[str, Any]:
    """Admin. 200 `{"seller"}` approved (again: unchanged); 409 `invalid_seller_transition` unless pending. Each
    decision here is written to the audit log in its own command's transaction."""
    user_id = (await seller_record(ctx, seller_id))["user_id"]
    return {"seller": seller_view(
        await ctx.router.owner("users", user_id).approve_seller.remote(user_id, seller_id, admin.user_id))}


@router.post("/v1/admin/sellers/{seller_id}/reject")
async def reject(seller_id: PathId, body: ReasonBody, admin: AdminUser, ctx: Ctx) -> dict[str, Any]:
    """Admin. 200 `{"seller"}` rejected with the reason; 409 `invalid_seller_transition` unless pending."""
    user_id = (await seller_record(ctx, seller_id))["user_id"]
    return {"seller": seller_view(
        await ctx.router.owner("users", user_id).reject_seller.remote(user_id, seller_id, body.reason,
                                                                        admin.user_id))}


@router.post("/v1/admin/sellers/{seller_id}/suspend")
async def suspend(seller_id: PathId, body: ReasonBody, admin: AdminUser, ctx: Ctx) -> dict[str, Any]:
    """Admin. 200 `{"seller"}` suspended: its listings leave browsing, search, recommendations and checkout;
    409 `invalid_seller_transition` unless approved. Suspending again re-applies the listings' side."""
    user_id = (await seller_record(ctx, seller_id))["user_id"]
    seller = await ctx.router.owner("users", user_id).suspend_seller.remote(user_id, seller_id, body.reason,
                                                                                   admin.user_id)
    await ctx.router.handle("catalog").sync_sellers.remote()
    return {"seller": seller_view(seller)}


@router.post("/v1/admin/sellers/{seller_id}/reinstate")
async def reinstate(seller_id: PathId, admin: AdminUser, ctx: Ctx) -> dict[str, Any]:
    """Admin. 200 `{"seller"}` approved again, its listings back; 409 `invalid_seller_transition` unless suspended."""
    user_id = (await seller_record(ctx, seller_id))["user_id"]
    seller = await ctx.router.owner("users", user_id).reinstate_seller.remote(user_id, seller_id, admin.user_id)
    await ctx.router.handle("catalog").sync_sellers.remote()
    return {"seller": seller_view(seller)}
