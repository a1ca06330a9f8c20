"""The caller's notifications: the inbox (newest first, paged, with the unread count), marking read, and the live
stream (Server-Sent Events, resumable with Last-Event-ID). Reads come from committed state; read marks go through
the notifier actor. docs/notifications.md."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from sse_starlette import EventSourceResponse

from actors import notification_reads
from domain.errors import Invalid, Unauthorized
from serve import sessions
from serve.context import Context
from serve.deps import Ctx, CurrentUser, SignedToken
from serve.routes.orders import Page, PageSize
from serve.schemas import PathId
from serve.tokens import AccessToken

router = APIRouter(tags=["notifications"])
TOKEN_CHECK_SECONDS = 30.0


@router.get("/v1/notifications")
async def inbox(me: CurrentUser, ctx: Ctx, page: Page = 1, page_size: PageSize = 20,
                unread: bool = False) -> dict[str, Any]:
    """`{"items": [{"id", "seq", "kind", "title", "body", "data", "created_at", "read"}], "total", "unread",
    "page", "page_size"}`, newest first; `unread=true` lists only the unread ones."""
    items, total, unread_count = await notification_reads.inbox_page(ctx, me.user_id, page, page_size, unread)
    return {"items": items, "total": total, "unread": unread_count, "page": page, "page_size": page_size}


@router.post("/v1/notifications/read-all", status_code=204)
async def read_all(me: CurrentUser, ctx: Ctx) -> Response:
    await ctx.router.handle("notifier").mark_all_read.remote(me.user_id)
    return Response(status_code=204)


@router.post("/v1/notifications/{notification_id}/read", status_code=204)
async def read_one(notification_id: PathId, me: CurrentUser, ctx: Ctx) -> Response:
    """204; 404 when the caller has no such notification (another user's is not found either)."""
    await ctx.router.handle("notifier").mark_read.remote(me.user_id, notification_id)
    return Response(status_code=204)


@router.get("/v1/notifications/stream", response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: notification`, `id: <seq>`, `data: <the notification JSON>`"}})
async def stream(token: SignedToken, ctx: Ctx,
                 last_event_id: Annotated[str | None, Header(max_length=20)] = None) -> EventSourceResponse:
    """Server-Sent Events: each new notification of the caller as it is made. With `Last-Event-ID` (the `seq` of
    the last one received; browsers send it when they reconnect), first every notification after it. The stream
    ends when its access token expires or is revoked (checked every `TOKEN_CHECK_SECONDS`): reconnect with a fresh
    token and Last-Event-ID."""
    await sessions.refuse_revoked(ctx, token)
    me = token.principal
    after = _seq(last_event_id)
    live = ctx.live
    queue = await live.subscribe(me.user_id)  # before the replay: nothing made meanwhile falls between the two

    async def events() -> AsyncIterator[dict[str, Any]]:
        sent = after
        try:
            if after > 0:
                for notification in await notification_reads.inbox_after(ctx, me.user_id, after):
                    yield _event(notification)
                    sent = notification["seq"]
            while True:
                try:
                    live_one = await asyncio.wait_for(queue.get(), TOKEN_CHECK_SECONDS)
                except TimeoutError:
                    if not await _still_valid(ctx, token):
                        return
                    continue
                if live_one is None:  # too slow to keep up: the client reconnects with Last-Event-ID
                    return
                if live_one["seq"] > sent:
                    yield _event(live_one)
                    sent = live_one["seq"]
        finally:
            live.unsubscribe(me.user_id, queue)

    return EventSourceResponse(events(), ping=int(ctx.settings.sse_keepalive_seconds),
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _still_valid(ctx: Context, token: AccessToken) -> bool:
    if token.expires <= time.time():
        return False
    try:
        await sessions.refuse_revoked(ctx, token)
    except Unauthorized:
        return False
    return True


def _seq(last_event_id: str | None) -> int:
    if last_event_id is None or last_event_id == "":
        return 0
    if not last_event_id.isdigit():
        raise Invalid("invalid_last_event_id", "Last-Event-ID is the seq of a notification of this stream")
    return int(last_event_id)


def _event(notification: dict[str, Any]) -> dict[str, Any]:
    return {"event": "notification", "id": str(notification["seq"]), "data": json.dumps(notification)}
