"""The direct channel into a shard actor (actors/channel.py), on a real local Ray and redis-server, attacked and
killed the way a stranger on the network and a crash would.

Shard indices 96+ are never assigned by the platform's routing, so these actors can be killed freely.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import struct
from typing import Any

import pytest
import ray

from actors.channel import Channel, ChannelLost, channel_key
from actors.inventory import InventoryShard
from config import Settings
from domain.errors import Conflict
from domain.inventory import Reservation
from tests.support import restart_and_wait, wait_until

pytestmark = pytest.mark.ray


def standalone_shard(settings: Settings, shard: int) -> Any:
    return ray.remote(InventoryShard).options(max_restarts=-1, num_cpus=0, max_concurrency=1000).remote(settings, shard)


def call(channel: Channel, method: str, *args: Any) -> Any:
    async def once() -> Any:
        try:
            return await channel.call(method, *args)
        finally:
            channel.close()

    return asyncio.run(once())


def level(shard: Any, variant_id: str) -> dict[str, Any]:
    return ray.get(shard.levels.remote([variant_id]))[variant_id]  # type: ignore[no-any-return]


def test_a_call_on_the_channel_answers_as_a_ray_call_would(platform: Settings) -> None:
    shard = standalone_shard(platform, 96)
    ray.get(shard.create_stock.remote([{"variant_id": "var-ch1", "on_hand": 3}]))
    channel = Channel("inventory-96", shard, channel_key(platform.jwt_key()))
    results = call(channel, "reserve_many", [("rsv-ch1-a", {"var-ch1": 2}), ("rsv-ch1-b", {"var-ch1": 2})], None, True)
    assert isinstance(results[0], Reservation) and results[0].status == "committed"
    assert isinstance(results[1], Conflict) and results[1].code == "out_of_stock"  # the refusal, as raised
    assert level(shard, "var-ch1")["committed"] == 2
    assert call(channel, "release_many", ["rsv-ch1-a"])[0].status == "released"
    assert level(shard, "var-ch1")["available"] == 3


def test_a_caller_without_the_platform_secret_is_refused_and_changes_nothing(platform: Settings) -> None:
    shard = standalone_shard(platform, 97)
    ray.get(shard.create_stock.remote([{"variant_id": "var-ch2", "on_hand": 5}]))
    stranger = Channel("inventory-97", shard, channel_key("not-the-platform-secret-" * 2))
    with pytest.raises(ChannelLost):
        call(stranger, "reserve_many", [("rsv-ch2", {"var-ch2": 5})], None, True)
    # by hand: a request sent before (instead of) the proof is never read as a request
    host, port = ray.get(shard.channel_address.remote())
    assert host == "127.0.0.1"  # a Ray the shop started itself: nothing off this machine needs to reach it
    payload = pickle.dumps(("reserve_many", ([("rsv-ch2-raw", {"var-ch2": 5})], None, True)))
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.recv(16)
        conn.sendall(struct.pack("!IQ", len(payload), 1) + payload)
        conn.settimeout(10)
        assert conn.recv(4096) == b""  # closed without an answer
    after = level(shard, "var-ch2")
    assert (after["reserved"], after["committed"], after["available"]) == (0, 0, 5)


def test_only_the_methods_the_actor_lists_can_be_called(platform: Settings) -> None:
    shard = standalone_shard(platform, 98)
    ray.get(shard.create_stock.remote([{"variant_id": "var-ch3", "on_hand": 5}]))
    channel = Channel("inventory-98", shard, channel_key(platform.jwt_key()))
    with pytest.raises(PermissionError):
        call(channel, "adjust", "var-ch3", -5, "a stranger's write")
    assert level(shard, "var-ch3")["on_hand"] == 5


@pytest.mark.parametrize("kill", ["sigkill", "ray.kill"])
def test_after_the_actor_dies_the_next_call_reaches_its_new_process(platform: Settings, kill: str) -> None:
    shard = standalone_shard(platform, 99)
    variant = f"var-ch4-{kill}"
    ray.get(shard.create_stock.remote([{"variant_id": variant, "on_hand": 10}]))
    channel = Channel("inventory-99", shard, channel_key(platform.jwt_key()))

    async def scenario() -> tuple[list[Any], list[Any]]:
        first = await channel.call("reserve_many", [(f"rsv-{kill}-1", {variant: 1})], None, True)
        old_pid = ray.get(shard.ready.remote())["pid"]
        if kill == "sigkill":
            os.kill(old_pid, signal.SIGKILL)
            await asyncio.to_thread(wait_until, lambda: ray.get(shard.ready.remote(), timeout=5)["pid"] != old_pid)
        else:
            await asyncio.to_thread(restart_and_wait, shard)
        again = await asyncio.gather(*(channel.call("reserve_many", [(f"rsv-{kill}-{i}", {variant: 1})], None, True)
                                       for i in range(2, 5)), return_exceptions=True)
        channel.close()
        return first, again

    first, again = asyncio.run(scenario())
    assert first[0].status == "committed"
    # the old connection's end is seen by the first call after the kill at the latest; the calls are then answered
    # by the new process, or refused as "may or may not have run" (ChannelLost), never lost silently
    answered = [r[0] for r in again if not isinstance(r, BaseException)]
    assert all(isinstance(r, ChannelLost) for r in again if isinstance(r, BaseException))
    after = call(channel, "reserve_many", [(f"rsv-{kill}-5", {variant: 1})], None, True)
    assert after[0].status == "committed"
    assert level(shard, variant)["committed"] == 2 + len(answered)


def test_a_lost_call_crosses_a_process_boundary_as_itself() -> None:
    """An actor whose own call on a channel was lost passes ChannelLost on to its caller: it must unpickle."""
    lost = pickle.loads(pickle.dumps(ChannelLost("inventory-0", "the connection broke")))
    assert isinstance(lost, ChannelLost) and (lost.actor, lost.reason) == ("inventory-0", "the connection broke")
