"""Spawning and stopping the platform's actors. `ray.remote` is applied here and nowhere else."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import ray

from actors.routing import SHARD_COUNTS, actor_name, shard_count
from config import Settings
from domain.errors import DomainError

log = logging.getLogger(__name__)

ACTOR_CLASSES: dict[str, str] = {
    "inventory": "actors.inventory:InventoryShard",
    "shoppers": "actors.shoppers:ShopperShard",
    "users": "actors.users:UserShard",
    "coupons": "actors.coupons:CouponShard",
    "catalog": "actors.catalog:CatalogActor",
    "search_indexer": "actors.search_indexer:SearchIndexer",
    "reviews": "actors.reviews:ReviewShard",
    "ratings": "actors.ratings:RatingFollower",
    "notifier": "actors.notifier:Notifier",
}


def actor_class(kind: str) -> type:
    module, _, name = ACTOR_CLASSES[kind].partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


def spawn(settings: Settings, kind: str, shard: int = 0) -> Any:
    """Create (or find) the named actor of one shard. It restarts itself after a crash and reloads from Redis."""
    remote_cls: Any = ray.remote(actor_class(kind))
    return remote_cls.options(
        name=actor_name(kind, shard),
        namespace=settings.ray_namespace,
        get_if_exists=True,
        lifetime="detached",
        max_restarts=-1,
        num_cpus=0,
        max_concurrency=1000,
    ).remote(settings, shard)


SCHEDULER = "scheduler"


def spawn_scheduler(settings: Settings, timeout: float = 60) -> Any:
    """The scheduler of the scheduled jobs (actors/scheduler.py): one detached actor, restarted after a crash."""
    from actors.scheduler import Scheduler

    remote_cls: Any = ray.remote(Scheduler)
    handle = remote_cls.options(
        name=SCHEDULER, namespace=settings.ray_namespace, get_if_exists=True, lifetime="detached",
        max_restarts=-1, num_cpus=0, max_concurrency=100,
    ).remote(settings)
    ray.get(handle.ready.remote(), timeout=timeout)
    return handle


def stop_scheduler(settings: Settings, timeout: float = 30) -> int:
    """Stop the scheduler and the Ray Jobs it has in flight; how many jobs were stopped."""
    try:
        handle = ray.get_actor(SCHEDULER, namespace=settings.ray_namespace)
    except ValueError:
        return 0
    try:
        stopped: Any = ray.get(handle.stop_all.remote(), timeout=timeout)
    finally:
        ray.kill(handle)
    return int(stopped)


def spawn_all(settings: Settings, timeout: float = 120) -> dict[str, list[Any]]:
    handles = {
        kind: [spawn(settings, kind, shard) for shard in range(shard_count(settings, kind))]
        for kind in SHARD_COUNTS
    }
    ray.get([h.ready.remote() for hs in handles.values() for h in hs], timeout=timeout)
    return handles


def stop_all(settings: Settings) -> None:
    for kind in SHARD_COUNTS:
        for shard in range(shard_count(settings, kind)):
            try:
                ray.kill(ray.get_actor(actor_name(kind, shard), namespace=settings.ray_namespace))
            except ValueError:
                continue


def bootstrap(settings: Settings) -> None:
    """First-start work: the admin account of BAZAAR_ADMIN_EMAIL / BAZAAR_ADMIN_PASSWORD when both are set.
    A refusal (e.g. `admin_email_taken`) is raised as the DomainError itself, not wrapped in Ray's error."""
    if settings.admin_email and settings.admin_password:
        from actors.routing import Router

        router = Router(settings)
        handle = router.owner("users", "bootstrap-admin")
        try:
            ray.get(handle.ensure_admin.remote(settings.admin_email, settings.admin_password.get_secret_value()))
        except ray.exceptions.RayTaskError as exc:
            cause: BaseException = exc
            while isinstance(cause, ray.exceptions.RayTaskError):  # wrapped once per actor it went through
                cause = cause.cause
            if isinstance(cause, DomainError):
                raise cause from None
            raise
