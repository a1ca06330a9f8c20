"""The actor channel's wire protocol in one process (actors/channel.py): answers, refusals and a cancelled call
come back to the caller; nothing is left waiting. The actor side on a real Ray:
tests/integration/test_actor_channel.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from actors.channel import Channel, ChannelLost, ChannelServer, channel_key
from domain.errors import Conflict

KEY = channel_key("a-platform-secret-of-enough-length-for-tests")


class Target:
    def __init__(self) -> None:
        self.calls: list[int] = []

    async def record(self, number: int) -> list[int]:
        self.calls.append(number)
        return list(self.calls)

    async def refuse(self) -> None:
        raise Conflict("out_of_stock", "Not enough stock", {"items": []})

    async def cancelled(self) -> None:
        raise asyncio.CancelledError()

    async def unlisted(self) -> str:
        return "should not run"


def fake_handle(server: ChannelServer) -> Any:
    async def address() -> tuple[str, int]:
        return await server.start("127.0.0.1")

    return SimpleNamespace(channel_address=SimpleNamespace(remote=address))


async def with_channel(work: Any) -> Any:
    target = Target()
    server = ChannelServer(target, frozenset({"record", "refuse", "cancelled"}), KEY)
    channel = Channel("target-0", fake_handle(server), KEY)
    try:
        return await work(channel, target)
    finally:
        channel.close()


def test_calls_are_answered_in_the_order_they_were_made() -> None:
    async def work(channel: Channel, target: Target) -> Any:
        return await asyncio.gather(*(channel.call("record", n) for n in range(20)))

    answers = asyncio.run(with_channel(work))
    assert answers[-1] == list(range(20))


def test_a_refusal_comes_back_as_the_error_raised() -> None:
    async def work(channel: Channel, target: Target) -> Any:
        with pytest.raises(Conflict) as refused:
            await channel.call("refuse")
        return refused.value.code

    assert asyncio.run(with_channel(work)) == "out_of_stock"


def test_a_call_cancelled_in_the_actor_is_answered_as_lost() -> None:
    async def work(channel: Channel, target: Target) -> Any:
        with pytest.raises(ChannelLost):
            await asyncio.wait_for(channel.call("cancelled"), 10)
        return await channel.call("record", 1)  # the connection still serves

    assert asyncio.run(with_channel(work)) == [1]


def test_an_unlisted_method_is_refused_without_running() -> None:
    async def work(channel: Channel, target: Target) -> Any:
        with pytest.raises(PermissionError):
            await channel.call("unlisted")
        return target.calls

    assert asyncio.run(with_channel(work)) == []


def test_a_frame_that_does_not_unpickle_closes_its_connection_and_the_actor_serves_on() -> None:
    async def work(channel: Channel, target: Target) -> Any:
        import hashlib
        import hmac
        import struct

        host, port = await channel.handle.channel_address.remote()
        reader, writer = await asyncio.open_connection(host, port)
        nonce = await reader.readexactly(16)
        writer.write(hmac.new(KEY, nonce, hashlib.sha256).digest())
        writer.write(struct.pack("!IQ", 5, 1) + b"junk!")
        closed = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return closed, await channel.call("record", 7)

    assert asyncio.run(with_channel(work)) == (b"", [7])


def test_a_call_on_a_connection_closed_under_it_goes_over_a_new_one() -> None:
    """Serve's replicas run on uvloop, whose closed transport raises on write: a call made after the connection
    closed but before its reader saw it must connect again (the call was never sent), not fail with a 500."""
    import uvloop

    async def work(channel: Channel, target: Target) -> Any:
        await channel.call("record", 1)
        assert channel._connection is not None
        channel._connection.writer.transport.abort()  # gone, and nothing has run on the loop since
        return await asyncio.wait_for(channel.call("record", 2), 10)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(with_channel(work)) == [1, 2]
