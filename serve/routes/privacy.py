"""Account privacy: a user's export of all their data, and the erasure of the account (docs/privacy.md). Only
ever the caller's own: there is no route that takes another user's id."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response

from actors import notification_reads, review_reads
from domain.errors import Conflict
from serve import sessions
from serve.deps import Ctx, CurrentUser
from serve.export import export
from serve.ratelimit import give_back_slot, take_slot
from serve.routes.auth import Password
from serve.schemas import Body

router = APIRouter(tags=["users"])


class ErasureBody(Body):
    password: Password


@router.get("/v1/me/export")
async def export_me(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """200 `{"user_id", "exported_at", "profile", "addresses", "preferences", "seller", "orders", "cart", "reviews",
    "helpful_votes", "seller_ratings"}`: everything the shop keeps about the caller."""
    return {"export": await export(ctx, me.user_id)}


@router.delete("/v1/me", status_code=204)
async def erase_me(body: ErasureBody, me: CurrentUser, ctx: Ctx) -> Response:
    """Erase the caller's account (with its current password): 204; 403 `invalid_credentials`; 409
    `admin_account` for an admin. Orders stay, pseudonymised; reviews stay, anonymised; every session ends."""
    if me.is_admin:
        raise Conflict("admin_account", "An admin account is erased by an operator, not through the API")
    bucket = f"erase:{me.user_id}"
    await take_slot(ctx, bucket, ctx.settings.password_change_attempts_per_minute)
    users = ctx.router.owner("users", me.user_id)
    await users.verify_password.remote(me.user_id, body.password)
    await give_back_slot(ctx, bucket)
    # the person's traces first, the account last: a failure midway leaves an account that can sign in and retry
    await ctx.router.owner("shoppers", me.user_id).erase_shopper.remote(me.user_id)
    reviews = [review.id for review in await review_reads.user_reviews(ctx, me.user_id)]
    groups = ctx.router.group("reviews", reviews)
    await asyncio.gather(*(ctx.router.handle("reviews", shard).anonymise.remote(me.user_id, ids)
                           for shard, ids in groups.items()))
    notifier = ctx.router.handle("notifier")  # the account's webhooks stop with it
    await asyncio.gather(*(notifier.delete_webhook.remote(w.id, me.user_id)
                           for w in await notification_reads.webhooks(ctx, me.user_id)))
    await sessions.end_all(ctx, me.user_id)
    await users.erase.remote(me.user_id)  # also its wishlist and its inbox, in the same transaction
    return Response(status_code=204)
