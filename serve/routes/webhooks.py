"""Webhooks (docs/webhooks.md): an admin or an approved seller registers endpoints for chosen event types and
sees their delivery attempts; and the admins' view of the deliveries that were given up (dead letters)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from actors import notification_reads
from domain.errors import NotFound
from domain.webhooks import Webhook
from serve.context import Context
from serve.deps import AdminUser, Ctx, SellerOrAdmin
from serve.routes.orders import Page, PageSize
from serve.schemas import Body, PathId
from serve.tokens import Principal

router = APIRouter(tags=["webhooks"])


class WebhookBody(Body):
    url: str = Field(min_length=1, max_length=2000, examples=["https://example.com/bazaar-hook"])
    event_types: list[str] = Field(min_length=1, max_length=50, examples=[["order.created", "order.shipped"]])


def _owner(me: Principal) -> str | None:
    """Whose endpoints the caller manages: an admin all (None), anyone else their own."""
    return None if me.is_admin else me.user_id


async def _own_webhook(ctx: Context, me: Principal, webhook_id: str) -> Webhook:
    webhook = await notification_reads.webhook(ctx, webhook_id)
    if webhook is None or (_owner(me) is not None and webhook.owner_id != me.user_id):
        raise NotFound("webhook_not_found", "No such webhook", {"webhook_id": webhook_id})
    return webhook


@router.post("/v1/webhooks", status_code=201)
async def register(body: WebhookBody, me: SellerOrAdmin, ctx: Ctx) -> dict[str, Any]:
    """201 `{"webhook": {"id", "url", "event_types", "seller_id", "created_at", "secret"}}`: the signing secret is
    shown this once. 422 `invalid_webhook_url`, `invalid_event_types`, `webhook_url_not_public` (production)."""
    seller_id = None if me.is_admin else me.seller_id
    webhook = await ctx.router.handle("notifier").register_webhook.remote(me.user_id, seller_id, body.url,
                                                                         body.event_types)
    return {"webhook": webhook}


@router.get("/v1/webhooks")
async def list_webhooks(me: SellerOrAdmin, ctx: Ctx) -> dict[str, Any]:
    return {"items": [w.public() for w in await notification_reads.webhooks(ctx, _owner(me))]}


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
async def delete(webhook_id: PathId, me: SellerOrAdmin, ctx: Ctx) -> Response:
    await _own_webhook(ctx, me, webhook_id)
    await ctx.router.handle("notifier").delete_webhook.remote(webhook_id, _owner(me))
    return Response(status_code=204)


@router.get("/v1/webhooks/{webhook_id}/deliveries")
async def deliveries(webhook_id: PathId, me: SellerOrAdmin, ctx: Ctx,
                     limit: int = Query(default=50, ge=1, le=200)) -> dict[str, Any]:
    """The endpoint's latest delivery attempts, newest first: `{"items": [{"delivery_id", "event_id",
    "event_type", "attempt", "status_code", "ok", "error", "at"}]}`."""
    await _own_webhook(ctx, me, webhook_id)
    return {"items": await notification_reads.webhook_attempts(ctx, webhook_id, limit)}


@router.get("/v1/admin/notifications/dead-letters")
async def dead_letters(admin: AdminUser, ctx: Ctx, queue: Literal["mail", "webhook"] = "mail", page: Page = 1,
                       page_size: PageSize = 20) -> dict[str, Any]:
    """Mails and webhook calls given up after their attempts (or refused for good), newest first; never a mail's
    text."""
    items, total = await notification_reads.dead_letters(ctx, queue, page, page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.post("/v1/admin/notifications/dead-letters/{delivery_id}/retry")
async def retry_dead_letter(delivery_id: PathId, admin: AdminUser, ctx: Ctx,
                            queue: Literal["mail", "webhook"] = "mail") -> dict[str, Any]:
    """Send a dead letter again, with fresh attempts: 200 `{"delivery": {...}}`; 404 when there is no such one."""
    return {"delivery": await ctx.router.handle("notifier").retry_dead_letter.remote(queue, delivery_id)}
