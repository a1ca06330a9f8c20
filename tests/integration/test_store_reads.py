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

from actors.store import Reads
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
