"""`Reads` (actors/store.py), the hot paths' one-round-trip reads, against the real redis-server: the same answers
as redis-py's pipeline for every command it queues, a refused command raised, and the connection still in step
for the next caller afterwards."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from actors.store import QuickPool, Reads, async_client
from config import Settings


def queue(pipe: Any, prefix: str) -> None:
    pipe.get(f"{prefix}:string")
    pipe.get(f"{prefix}:absent")
    pipe.hget(f"{prefix}:hash", "a")
    pipe.hget(f"{prefix}:hash", "absent")
    pipe.hmget(f"{prefix}:hash", ["a", "absent", "b"])
    pipe.mget([f"{prefix}:string", f"{prefix}:absent"])
    pipe.zcount(f"{prefix}:zset", 1.5, "+inf")
    pipe.zcount(f"{prefix}:absent", "-inf", "+inf")


def test_reads_answer_as_a_redis_py_pipeline_does(settings: Settings, redis_client: redis.Redis) -> None:
    prefix = "test:reads"
    redis_client.set(f"{prefix}:string", "é unicode")
    redis_client.hset(f"{prefix}:hash", mapping={"a": "1", "b": '{"x": 2}'})
    redis_client.zadd(f"{prefix}:zset", {"m1": 1.0, "m2": 2.0, "m3": 3.5})

    async def both() -> tuple[list[Any], list[Any]]:
        client = aioredis.from_url(settings.redis_url, decode_responses=True)
        try:
            pipe = client.pipeline(transaction=False)
            queue(pipe, prefix)
            expected = await pipe.execute()
            reads = Reads(client)
            queue(reads, prefix)
            return expected, await reads.execute()
        finally:
            await client.aclose()

    expected, got = asyncio.run(both())
    assert got == expected
    assert got[0] == "é unicode" and got[4] == ["1", None, '{"x": 2}'] and got[6] == 2


def test_a_refused_read_raises_and_the_connection_serves_the_next_reads(
        settings: Settings, redis_client: redis.Redis) -> None:
    redis_client.set("test:reads:plain", "v")

    async def scenario() -> list[Any]:
        client = aioredis.from_url(settings.redis_url, decode_responses=True, max_connections=1)
        try:
            refused = Reads(client)
            refused.get("test:reads:plain")
            refused.hget("test:reads:plain", "field")  # WRONGTYPE: a string is not a hash
            refused.get("test:reads:plain")
            with pytest.raises(ResponseError, match="WRONGTYPE"):
                await refused.execute()
            after = Reads(client)  # the only connection: every reply of the refused round was read off it
            after.get("test:reads:plain")
            after.mget(["test:reads:plain"])
            return await after.execute()
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == ["v", ["v"]]


def test_no_reads_make_no_round_trip(settings: Settings) -> None:
    async def scenario() -> list[Any]:
        client = aioredis.from_url("redis://127.0.0.1:1", decode_responses=True)  # nothing listens there
        try:
            return await Reads(client).execute()
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == []


def test_a_connection_reset_mid_read_is_redis_going_away_not_a_bare_os_error() -> None:
    """A server that resets every connection once it has read the request (as a redis-server killed mid-answer
    does): the reads fail as redis-py's ConnectionError, which callers answer as 503 and the retry policy retries,
    never as the bare ConnectionResetError the socket raised (which a route answered 500)."""
    async def scenario() -> None:
        async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(1024)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
            writer.transport.abort()

        server = await asyncio.start_server(reset, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = aioredis.from_url(f"redis://127.0.0.1:{port}", decode_responses=True, protocol=2,
                                   lib_name=None, lib_version=None)  # nothing sent before the reads
        try:
            reads = Reads(client)
            reads.get("k")
            with pytest.raises(RedisConnectionError) as raised:
                await reads.execute()
            assert isinstance(raised.value.__cause__, ConnectionResetError), "the reset was read by Reads itself"
        finally:
            await client.aclose()
            server.close()

    asyncio.run(scenario())


def _quick_client(settings: Settings) -> aioredis.Redis:
    """A `QuickPool` client that never retries: a connection handed out broken fails the command."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    pool = QuickPool.from_url(settings.redis_url, decode_responses=True, retry=Retry(NoBackoff(), 0))
    return aioredis.Redis.from_pool(pool)


def test_the_quick_pool_keeps_handing_out_one_clean_connection(settings: Settings) -> None:
    async def scenario() -> list[int]:
        client = async_client(settings.redis_url)
        try:
            return [await client.client_id() for _ in range(3)]
        finally:
            await client.aclose()

    ids = asyncio.run(scenario())
    assert len(set(ids)) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_before_a_command_is_sent(
        settings: Settings, redis_client: redis.Redis) -> None:
    redis_client.set("test:reads:idle", "still here")

    async def scenario() -> tuple[int, int, Any]:
        client = _quick_client(settings)
        try:
            before = await client.client_id()
            redis_client.client_kill_filter(_id=before)
            await asyncio.sleep(0.1)  # the event loop reads the server's close
            value = await client.get("test:reads:idle")  # with no retry: fails if sent on the closed connection
            return before, await client.client_id(), value
        finally:
            await client.aclose()

    before, after, value = asyncio.run(scenario())
    assert value == "still here" and after != before


def test_a_connection_left_with_an_unread_reply_is_replaced(settings: Settings, redis_client: redis.Redis) -> None:
    redis_client.set("test:reads:unread", "mine")

    async def scenario() -> tuple[Any, Any]:
        client = _quick_client(settings)
        try:
            pool = client.connection_pool
            connection = await pool.get_connection()
            await connection.send_command("PING")  # and never read: its +PONG waits on the connection
            await pool.release(connection)
            await asyncio.sleep(0.1)
            return await client.get("test:reads:unread"), await client.ping()
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == ("mine", True)


def test_reads_cancelled_before_their_reply_leave_no_reply_for_the_next_caller(
        settings: Settings, redis_client: redis.Redis) -> None:
    """A route cancelled while it waits for Redis (its client gone, a timeout) must not hand its connection back with
    a reply still to come: the next caller would read that reply as its own."""
    redis_client.set("test:reads:after-cancel", "the right answer")
    redis_client.delete("test:reads:never-pushed")

    async def scenario() -> Any:
        client = async_client(settings.redis_url)
        try:
            slow = Reads(client)
            slow.commands.append(("BLPOP", "test:reads:never-pushed", "0.3"))  # answers nil 0.3 s later
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(slow.execute(), 0.05)
            after = Reads(client)
            after.get("test:reads:after-cancel")
            return (await after.execute())[0]
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == "the right answer"
