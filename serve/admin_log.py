"""The one way to record an admin action that goes through no command of ours (an action that does goes through
`actors.admin_log.record` inside its command, in the same transaction). The entry is written by the admin's user
shard, through its persistence path, before this returns."""

from __future__ import annotations

from typing import Any

from domain.admin_log import AdminAction
from serve.context import Context
from serve.tokens import Principal


async def record_admin_action(ctx: Context, admin: Principal, action: str, target_type: str, target_id: str,
                              **details: Any) -> dict[str, Any]:
    """Record that `admin` did `action` (e.g. "order.status") to a target (e.g. "order", "ord_..."). Call it after
    the action succeeded; its details are the action's parameters (never a secret)."""
    entry = AdminAction(admin.user_id, action, target_type, target_id, details)
    recorded: dict[str, Any] = await ctx.router.owner("users", admin.user_id).record_admin_action.remote(entry)
    return recorded
