from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import cast

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from actors.routing import SHARD_COUNTS
from serve.deps import Ctx
from serve.errors import error_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(ctx: Ctx) -> JSONResponse | dict[str, object]:
    try:
        await asyncio.wait_for(cast(Awaitable[bool], ctx.redis.ping()), timeout=2)  # redis-py types it sync-or-async
        calls = [h.ready.remote() for kind in SHARD_COUNTS for h in ctx.router.all(kind)]
        await asyncio.wait_for(asyncio.gather(*calls), timeout=5)
    except Exception as exc:
        return error_response(503, "not_ready", "Not ready yet", {"reason": type(exc).__name__})
    return {"status": "ready", "actors": len(calls)}
