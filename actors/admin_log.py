"""Writing the admin audit log. An admin action that goes through an actor's command records its entry in that
command's `Changes` (`record`), so the action and its entry are one transaction: an action is never done without
its entry, nor logged without being done. An action that goes through no command of ours records through
`serve/admin_log.py` (`record_admin_action`), which asks the admin's user shard to write the entry.
"""

from __future__ import annotations

from actors import keys
from actors.store import Changes
from domain.admin_log import AdminAction
from domain.clock import epoch


def record(changes: Changes, action: AdminAction) -> AdminAction:
    """Add the entry to `changes`: stored, indexed by time, target and admin, and an `admin.action` event."""
    score = epoch()
    changes.hset(keys.AUDIT_LOG, action.id, action.to_dict())
    changes.zadd(keys.AUDIT_BY_TIME, action.id, score)
    changes.zadd(keys.audit_by_target(action.target_type, action.target_id), action.id, score)
    changes.zadd(keys.audit_by_admin(action.admin_id), action.id, score)
    changes.emit("admin.action", audit_id=action.id, admin_id=action.admin_id, action=action.action,
                 target_type=action.target_type, target_id=action.target_id)
    return action


def recorded(changes: Changes, admin_id: str | None, action: str, target_type: str, target_id: str,
             **details: object) -> None:
    """`record` for a command that an admin may or may not have called (`admin_id` None: not an admin action)."""
    if admin_id is not None:
        record(changes, AdminAction(admin_id, action, target_type, target_id, dict(details)))
