"""The admin audit log: what admins did to users, sellers, reviews and orders (actors/admin_log.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from actors import review_reads
from serve.deps import AdminUser, Ctx
from serve.schemas import Id

router = APIRouter(tags=["admin"])
TargetType = Literal["user", "seller", "review", "order", "product", "coupon"]


@router.get("/v1/admin/audit-log")
async def audit_log(ctx: Ctx, admin: AdminUser, target_type: TargetType | None = None,
                    target_id: Annotated[Id | None, Query()] = None, admin_id: Annotated[Id | None, Query()] = None,
                    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                    page_size: Annotated[int, Query(ge=1, le=100)] = 50) -> dict[str, Any]:
    """Admins only. 200 `{"items": [{"id", "admin_id", "action", "target_type", "target_id", "details", "at"}],
    "total", "page", "page_size"}`, newest first, filtered by target and/or admin."""
    items, total = await review_reads.audit_page(ctx, target_type, target_id, admin_id, page, page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}
