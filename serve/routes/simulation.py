"""The simulation clock (docs/simulation.md): only a shop started with `BAZAAR_ENV=simulation` has this route.

Anywhere else (production, local, test) the router is not even mounted (serve/api.py), so the path is a plain 404,
and the route refuses on its own too should it ever be mounted elsewhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime

from actors.simulation_clock import set_simulation_clock
from domain.clock import iso
from domain.errors import NotFound
from serve.deps import AdminUser, Ctx
from serve.schemas import Body

router = APIRouter(tags=["simulation"])


class ClockIn(Body):
    now: AwareDatetime  # ISO 8601 with a time zone, e.g. 2026-01-05T09:00:00Z


@router.post("/v1/admin/simulation/clock")
async def move_clock(body: ClockIn, ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Admin, simulation only: the shop's business clock (order times, events' `at`) reads `now` from here on, in
    every process within half a second. 200 `{"clock": {"now", "offset_seconds"}}`; 404 outside a simulation."""
    if ctx.settings.env != "simulation":
        raise NotFound("not_found", "Not Found")
    offset = await set_simulation_clock(ctx.redis, body.now)
    return {"clock": {"now": iso(body.now), "offset_seconds": offset}}
