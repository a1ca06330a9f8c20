"""The notifier on the session's real Redis and Ray: events that other work will emit (fulfilments, returns,
reviews, purchase orders), written here in the documented entry format, notify the right people once they are
emitted; and a notifier killed (ray.kill, then SIGKILL of its process) in the middle of a burst loses and repeats
no notification."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from typing import Any

import ray
import redis
import redis.asyncio as aioredis

from actors import keys
from actors.deliveries import Batch, Deliveries
from actors.event_ids import new_event_id, now_iso_ms
from config import Settings
from tests.e2e.test_notifications import inbox, inbox_with
from tests.e2e.test_wishlist_and_webhooks import seller_account
from tests.notify_support import Mailbox
from tests.shop import Shop
from tests.support import wait_until


def emit(client: redis.Redis, settings: Settings, type: str, **data: Any) -> str:
    """An event as an actor writes it (docs/events.md "An entry")."""
    event_id = new_event_id()
    client.xadd(settings.events_stream, {"id": event_id, "type": type, "at": now_iso_ms(),
                                         "data": json.dumps(data, sort_keys=True, separators=(",", ":"))})
    return event_id


def test_events_other_work_will_emit_notify_the_right_people(shop: Shop, settings: Settings,
                                                             redis_client: redis.Redis) -> None:
    shopper, seller = shop.register(), seller_account(shop)
    product = shop.product(stock=3, owner=seller)  # stocked when listed: no restock event of its own
    variant_id = product["variants"][0]["id"]
    assert shop.http.post("/v1/me/wishlist", json={"product_id": product["id"], "variant_id": variant_id},
                          headers=shopper.headers).status_code == 201
    user_id, order_id = shopper.user["id"], "ord_01ARZ3NDEKTSV4RRFFQ69G5FAV"
    emit(redis_client, settings, "fulfilment.shipped", user_id=user_id, order_id=order_id, fulfilment_id="ful_1",
         tracking_number="TRACK-9", status="shipped")
    emit(redis_client, settings, "fulfilment.delivered", user_id=user_id, order_id=order_id, fulfilment_id="ful_1")
    emit(redis_client, settings, "return.approved", user_id=user_id, order_id=order_id, return_id="ret_1")
    emit(redis_client, settings, "return.refunded", user_id=user_id, order_id=order_id, return_id="ret_1",
         amount=1250, currency="USD")
    emit(redis_client, settings, "order.lines_cancelled", user_id=user_id, order_id=order_id, refund_amount=0)
    # the 3 units of a received purchase order (its inventory.adjusted): the variant had none before it
    emit(redis_client, settings, "inventory.adjusted", variant_id=variant_id, delta=3, available=3, on_hand=3,
         reason="purchase order received", actor="purchase_order", shard=0)
    emit(redis_client, settings, "inventory.low_stock", variant_id=variant_id, available=1, threshold=2,
         reorder_point=5, seller_id=_seller_id(shop, seller), shard=0)
    held = emit(redis_client, settings, "review.held", review_id="rev_1", product_id=product["id"],
                user_id=user_id, reasons=["link"])

    box = inbox_with(shop, shopper, ["order_shipped", "order_delivered", "return_approved", "refund_issued",
                                     "back_in_stock"])
    texts = {n["kind"]: n for n in box["items"]}
    assert "TRACK-9" in texts["order_shipped"]["body"] and "12.50 USD" in texts["refund_issued"]["body"]
    assert inbox_with(shop, seller, ["low_stock"])["items"][0]["data"]["variant_id"] == variant_id
    admin_box = wait_until(lambda: [n for n in inbox(shop, shop.admin, page_size=100)["items"]
                                    if n["kind"] == "review_held" and n["data"]["review_id"] == "rev_1"])
    assert len(admin_box) == 1 and held


def _seller_id(shop: Shop, seller: Any) -> str:
    return str(shop.http.get("/v1/sellers/me", headers=seller.headers).json()["seller"]["id"])


def test_a_notifier_killed_mid_burst_loses_and_repeats_nothing(shop: Shop, settings: Settings,
                                                              redis_client: redis.Redis, mailbox: Mailbox) -> None:
    shoppers = [shop.register() for _ in range(4)]
    handle = ray.get_actor("notifier-0", namespace=settings.ray_namespace)
    per_shopper = 60
    returns = iter(range(10**6))

    def burst(count: int) -> None:
        for _ in range(count):
            for shopper in shoppers:
                emit(redis_client, settings, "return.approved", user_id=shopper.user["id"],
                     order_id="ord_01ARZ3NDEKTSV4RRFFQ69G5FAV", return_id=f"ret_{next(returns)}")

    burst(per_shopper // 3)
    old_pid = ray.get(handle.ready.remote())["pid"]
    ray.kill(handle, no_restart=False)  # Ray's own kill, restarted
    burst(per_shopper // 3)
    pid = wait_until(lambda: (p := ray.get(handle.ready.remote(), timeout=5)["pid"]) != old_pid and p)
    os.kill(pid, signal.SIGKILL)  # the process dies mid-work, as in a crash
    burst(per_shopper - 2 * (per_shopper // 3))
    wait_until(lambda: ray.get(handle.ready.remote(), timeout=5)["pid"] != pid, timeout=60)

    for shopper in shoppers:
        box = wait_until(lambda s=shopper: (b := inbox(shop, s, page_size=100))["total"] >= per_shopper and b, 90)
        ids = [n["id"] for n in box["items"]]
        assert box["total"] == per_shopper and len(set(ids)) == per_shopper  # none lost, none twice
        seqs = sorted(n["seq"] for n in box["items"])
        assert seqs == list(range(1, per_shopper + 1))  # each added once: no seq spent on a repeat
        # mail is at-least-once: one sent just before the kill, not yet marked sent, goes again with the same
        # Message-ID (receivers deduplicate by it, docs/notifications.md); never a mail for a notice twice over
        message_ids = wait_until(lambda s=shopper: len(ids := {m["Message-ID"] for m in mailbox.to(s.email)})
                                 >= per_shopper and ids, 90)
        assert len(message_ids) == per_shopper


def test_an_inbox_keeps_its_newest_and_a_repeated_write_adds_nothing(settings: Settings,
                                                                     redis_client: redis.Redis) -> None:
    user_id = "usr_01ARZ3NDEKTSV4RRFFQ69G5KPT"

    async def write(ids: list[str]) -> None:
        client = aioredis.from_url(settings.redis_url or "", decode_responses=True)
        batch = Batch()
        for notification_id in ids:
            batch.inbox(user_id, {"id": notification_id, "kind": "order_shipped"}, live_maxlen=1000, kept=2)
        await Deliveries(client).record(batch, {}, "notifier")
        await client.aclose()

    asyncio.run(write(["ntf_1", "ntf_2", "ntf_3"]))
    asyncio.run(write(["ntf_3"]))  # read again after a crash: already there
    assert redis_client.zrange(keys.inbox_feed(user_id), 0, -1, withscores=True) == [("ntf_2", 2.0), ("ntf_3", 3.0)]
    assert set(redis_client.hkeys(keys.inbox(user_id))) == {"ntf_2", "ntf_3"}
    assert redis_client.zcard(keys.inbox_unread(user_id)) == 2
