"""The review shard and the rating follower against the session's real Redis and Ray: a review and its rating event
are one transaction, a restarted shard knows every review it acknowledged, and a restarted follower still brings
every rating to the catalog."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import ray
import redis

from actors.reviews import ReviewShard
from actors.routing import actor_name, shard_of
from config import Settings
from domain.errors import Conflict
from domain.ids import new_id
from tests.reviews_world import product_page, published_review
from tests.shop import Shop
from tests.support import restart_and_wait, wait_until

pytestmark = pytest.mark.ray


def events_about(client: redis.Redis, settings: Settings, product_id: str) -> list[str]:
    entries: Any = client.xrevrange(settings.events_stream, count=2000)
    return [e["type"] for _, e in reversed(entries) if json.loads(e["data"]).get("product_id") == product_id]


def test_a_review_and_its_rating_are_one_transaction_and_survive_a_restart(platform: Settings,
                                                                         redis_client: redis.Redis) -> None:
    product_id = new_id("prd")  # a product of no catalog: this in-process shard is its only writer
    shard = shard_of(platform, "reviews", product_id)

    async def story() -> None:
        first = ReviewShard(platform, shard)
        review = await first.write(product_id, None, "usr_a", "Ada L.", None, 4, "Good", "Works well")
        assert review["state"] == "published"
        restarted = ReviewShard(platform, shard)  # loads what Redis has
        with pytest.raises(Conflict):
            await restarted.write(product_id, None, "usr_a", "Ada L.", None, 5, "Again", "Twice")
        assert restarted.book.rating(product_id) == (4.0, 1)
        await restarted.moderate(review["id"], "reject", "usr_admin", "off topic")
        assert ReviewShard(platform, shard).book.rating(product_id) == (0.0, 0)

    asyncio.run(story())
    assert events_about(redis_client, platform, product_id) == [
        "review.submitted", "review.published", "product.rating_changed",
        "review.rejected", "product.rating_changed"]


def test_ratings_reach_the_catalog_across_a_restart_of_the_follower(shop: Shop, platform: Settings) -> None:
    bell = shop.product()
    published_review(shop, bell, rating=3)
    follower = ray.get_actor(actor_name("ratings"), namespace=platform.ray_namespace)
    restart_and_wait(follower)
    published_review(shop, bell, rating=5)
    wait_until(lambda: (page := product_page(shop, bell))["rating"] == 4.0 and page["review_count"] == 2)
