"""Rebuild the search index from the catalog in Redis, with a progress bar.

    python -m pipelines.search_index rebuild            # or: make search-index
    python -m pipelines.search_index rebuild --direct   # never through a running shop

When the shop is running (its Ray cluster is reachable: RAY_ADDRESS, or the local one), the rebuild runs inside
its search indexer actor, the index's one writer, and searches keep being answered meanwhile. Otherwise the
index under BAZAAR_SEARCH_DIR (default <data dir>/search) is rebuilt here, reading the store at the configured
Redis URL, or starting the shop's own redis-server from the data directory for the duration.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import Any

import ray
import redis
import redis.asyncio as aioredis
from tqdm import tqdm

from actors import keys
from actors.routing import actor_name
from actors.search_feed import CatalogFeed
from actors.search_indexer import move_group_to_end
from actors.search_updater import IndexUpdater
from config import Settings, load_settings
from search.index import SearchIndex
from serve.local_redis import LocalRedis
from serve.main import plain_env_overrides

POLL_SECONDS = 0.5


def running_indexer(settings: Settings) -> Any | None:
    """The search indexer of a running shop, or None when there is no cluster or no shop on it."""
    try:
        ray.init(address=settings.ray_address or "auto", namespace=settings.ray_namespace, log_to_driver=False,
                 logging_level=logging.ERROR)
    except (ConnectionError, ValueError, RuntimeError):
        return None
    try:
        return ray.get_actor(actor_name("search_indexer"), namespace=settings.ray_namespace)
    except ValueError:
        ray.shutdown()
        return None


def rebuild_through(indexer: Any, progress: bool = True) -> int:
    """Ask the running indexer to rebuild, showing its progress. Returns the searchable products."""
    ref = indexer.rebuild.remote()
    with tqdm(unit="product", desc="rebuilding search index", disable=not progress) as bar:
        while True:
            done, _ = ray.wait([ref], timeout=POLL_SECONDS)
            stats = ray.get(indexer.stats.remote())
            bar.total = stats["rebuild_total"] or bar.total
            bar.n = stats["rebuild_done"] if stats["rebuilding"] else (bar.total or 0)
            bar.refresh()
            if done:
                return int(ray.get(ref))


def rebuild_directly(settings: Settings, progress: bool = True) -> int:
    """Rebuild the index here (the shop is not running). Returns the searchable products."""
    url = settings.redis_url or f"redis://127.0.0.1:{settings.redis_port}/0"
    own_redis = None
    if not _answers(url):
        if settings.redis_url:
            raise SystemExit(f"cannot reach Redis at {settings.redis_url}")
        own_redis = LocalRedis(settings.redis_dir, settings.redis_port, settings.redis_appendfsync).start()
    try:
        return asyncio.run(_rebuild(settings, url, progress))
    finally:
        if own_redis is not None:
            own_redis.stop()


async def _rebuild(settings: Settings, url: str, progress: bool) -> int:
    try:
        index = SearchIndex.open(settings.search_dir)
    except Exception as exc:  # tantivy refuses a second writer: the shop's indexer holds the index
        raise SystemExit(f"cannot open the search index at {settings.search_dir} for writing ({exc}); "
                         "is the shop running? Run without --direct to rebuild through it") from None
    client = aioredis.from_url(url, decode_responses=True)
    try:
        # changes from now on are the indexer's when the shop starts; everything before is in this scan
        await move_group_to_end(client, settings.events_stream)
        total = await client.hlen(keys.PRODUCTS)
        with tqdm(total=total, unit="product", desc="rebuilding search index", disable=not progress) as bar:
            return await IndexUpdater(index, CatalogFeed(settings, client)).rebuild(bar.update)
    finally:
        await client.aclose()


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2).ping())
    except (redis.RedisError, ValueError):
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.search_index", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rebuild = commands.add_parser("rebuild", help="rebuild the whole index from the catalog")
    rebuild.add_argument("--direct", action="store_true", help="rebuild here even if a shop is running")
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = load_settings(**plain_env_overrides(os.environ))
    indexer = None if args.direct else running_indexer(settings)
    if indexer is not None:
        count = rebuild_through(indexer, progress=not args.quiet)
        where = "by the running shop's indexer"
    else:
        count = rebuild_directly(settings, progress=not args.quiet)
        where = f"in {settings.search_dir}"
    print(f"search index rebuilt {where}: {count} searchable products")


if __name__ == "__main__":
    main()
