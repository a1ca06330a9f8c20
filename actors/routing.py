"""Which shard actor owns a key. The only module that hashes keys or names actors.

A key (SKU, user, order) belongs to shard `stable_hash(key) % count`, where the count comes from settings.
Changing a count moves keys between shards, so it is a migration, not a restart.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from actors.channel import Channel, RayCalls, channel_key
from domain.errors import Unavailable

if TYPE_CHECKING:
    from config import Settings

# actor kind -> the setting holding its shard count (None: a single actor)
SHARD_COUNTS: dict[str, str | None] = {
    "inventory": "inventory_shards",
    "shoppers": "shopper_shards",
    "users": "user_shards",
    "coupons": "coupon_shards",
    "catalog": None,
    "search_indexer": None,
    "reviews": "review_shards",
    "ratings": None,
    "notifier": None,
}

# which key routes each kind: inventory by variant id; shoppers by user id, or by order id (an order id is
# minted to hash to its shopper's shard, see `local_id`); users by user id; coupons by code; reviews by product id
# (a review id is minted to hash to its product's shard) for reviews, and by seller id for seller ratings


def stable_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def shard_count(settings: Settings, kind: str) -> int:
    setting = SHARD_COUNTS[kind]
    return 1 if setting is None else int(getattr(settings, setting))


def shard_of(settings: Settings, kind: str, key: str) -> int:
    return stable_hash(key) % shard_count(settings, kind)


def local_id(settings: Settings, kind: str, shard: int, id_kind: str) -> str:
    """A new id (`domain.ids.new_id(id_kind)`) that hashes to `shard` of `kind`: about as many tries as there
    are shards. So a shard can mint ids for keys it will own itself (a user, or an order on its shopper's
    shard), and anyone can route by the id alone."""
    from domain.ids import new_id

    count = shard_count(settings, kind)
    while True:
        candidate = new_id(id_kind)
        if stable_hash(candidate) % count == shard:
            return candidate


def actor_name(kind: str, shard: int = 0) -> str:
    return f"{kind}-{shard}"


def group_by_shard(settings: Settings, kind: str, keys: Iterable[str]) -> dict[int, list[str]]:
    groups: dict[int, list[str]] = defaultdict(list)
    for key in keys:
        groups[shard_of(settings, kind, key)].append(key)
    return dict(groups)


class Router:
    """Handles to the shard actors, looked up by name once and cached."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._handles: dict[str, Any] = {}
        self._channels: dict[tuple[str, int], Channel | RayCalls] = {}
        self._key = channel_key(settings.jwt_key()) if settings.actor_channel else b""

    def shard(self, kind: str, key: str) -> int:
        return shard_of(self.settings, kind, key)

    def group(self, kind: str, keys: Iterable[str]) -> dict[int, list[str]]:
        return group_by_shard(self.settings, kind, keys)

    def handle(self, kind: str, shard: int = 0) -> Any:
        name = actor_name(kind, shard)
        handle = self._handles.get(name)
        if handle is None:
            import ray

            try:
                handle = ray.get_actor(name, namespace=self.settings.ray_namespace)
            except ValueError:  # not there (yet, or any more): the caller's client sees a 503 and retries
                raise Unavailable("actor_unavailable", f"{name} is not running", {"actor": name}) from None
            self._handles[name] = handle
        return handle

    def owner(self, kind: str, key: str) -> Any:
        return self.handle(kind, self.shard(kind, key))

    def direct(self, kind: str, shard: int = 0) -> Channel | RayCalls:
        """The hot-path caller of one shard actor: `await router.direct(kind, shard).call(method, *args)`, over
        the actor's channel (one per process and event loop), or through Ray when `actor_channel` is off."""
        name = actor_name(kind, shard)
        slot = (name, id(asyncio.get_running_loop()))
        caller = self._channels.get(slot)
        if caller is None:
            handle = self.handle(kind, shard)
            caller = Channel(name, handle, self._key) if self._key else RayCalls(handle)
            self._channels[slot] = caller
        return caller

    def direct_owner(self, kind: str, key: str) -> Channel | RayCalls:
        return self.direct(kind, self.shard(kind, key))

    def all(self, kind: str) -> list[Any]:
        return [self.handle(kind, shard) for shard in range(shard_count(self.settings, kind))]
