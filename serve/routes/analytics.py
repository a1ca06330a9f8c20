"""The analytics run's figures for admins: `GET /v1/admin/analytics` (from the DuckDB file, `analytics/report.py`)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from analytics.report import Granularity
from serve.deps import AdminUser, Ctx

router = APIRouter(tags=["analytics"])


@router.get("/v1/admin/analytics")
async def analytics(
    ctx: Ctx,
    admin: AdminUser,
    start: Annotated[date, Query(alias="from", description="first day, YYYY-MM-DD (UTC)")],
    end: Annotated[date, Query(alias="to", description="last day, YYYY-MM-DD (UTC), included")],
    granularity: Annotated[Granularity, Query(description="the series' periods")] = "day",
) -> dict[str, Any]:
    """Admin. 200 revenue, orders and average order value per period, the range's headline figures and the whole
    lake's summary; 422 a bad date, granularity or range; 503 `analytics_unavailable` before the first run."""
    # DuckDB blocks: on a thread, so the replica keeps answering meanwhile
    return await asyncio.to_thread(ctx.report.answer, start, end, granularity)
