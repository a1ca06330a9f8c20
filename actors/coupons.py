"""The coupon shard: single writer of the uses of the coupon codes that hash to it (rules: domain/coupons.py).

A checkout with a limited coupon claims a use here after its saga is durable and before it charges; undoing the
checkout releases it. Uses are kept per code in `keys.coupon_uses(code)` (saga id -> use JSON) and load on first
use of a code. Only checkouts with a limited coupon call this shard.
"""

from __future__ import annotations

from typing import Any

from actors import keys
from actors.shard import ShardActor
from actors.store import Changes, dumps
from config import Settings
from domain.clock import epoch
from domain.coupons import CouponUses, Use
from domain.serial import decode, to_builtins


class CouponShard(ShardActor):
    kind = "coupons"

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.codes: dict[str, CouponUses] = {}
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        """Codes load on first use; after a failed write, the ones in memory are read again in place."""
        for code, uses in self.codes.items():
            uses.uses = {sid: decode(raw, Use) for sid, raw in client.hscan_iter(keys.coupon_uses(code), count=1000)}

    async def _uses(self, code: str) -> CouponUses:
        await self.fresh()
        uses = self.codes.get(code)
        if uses is None:
            raw = await self.store.redis.hgetall(keys.coupon_uses(code))  # type: ignore[misc]
            uses = self.codes.setdefault(code, CouponUses(code, {sid: decode(r, Use) for sid, r in raw.items()}))
        return uses

    async def claim(self, code: str, saga_id: str, order_id: str, user_id: str, max_uses: int | None,
                    max_uses_per_user: int | None) -> None:
        """Invalid("invalid_coupon") with `reason` used_up or already_used when the limits are reached."""
        uses = await self._uses(code)

        def command(changes: Changes) -> None:
            before = len(uses.uses)
            use = uses.claim(saga_id, order_id, user_id, epoch(), max_uses, max_uses_per_user)
            if len(uses.uses) != before:
                changes.hset(keys.coupon_uses(code), saga_id, dumps(to_builtins(use)))
                changes.emit("coupon.claimed", coupon_code=code, saga_id=saga_id, order_id=order_id,
                             user_id=user_id, uses=len(uses.uses))

        await self.submit(command)

    async def release(self, code: str, saga_id: str) -> None:
        uses = await self._uses(code)

        def command(changes: Changes) -> None:
            if uses.release(saga_id) is not None:
                changes.hdel(keys.coupon_uses(code), saga_id)
                changes.emit("coupon.released", coupon_code=code, saga_id=saga_id, uses=len(uses.uses))

        await self.submit(command)

    async def uses(self, code: str) -> dict[str, str]:
        """saga id -> user id of every live use (for the audit and tests)."""
        return {sid: use.user_id for sid, use in (await self._uses(code)).uses.items()}
