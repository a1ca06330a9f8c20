"""The one persistence path. A command records its state changes and events in a `Changes`; the owning actor
writes them to Redis in one MULTI/EXEC transaction *before* it replies, so a reply means durable.

Changes of many commands can be merged into one `Changes` (group commit): the last value per key wins and
events keep their order. A transaction holds one HSET (and at most one HDEL) per hash however many of its
fields changed, and one XADD per event (docs/events.md: one stream entry per event).

This is the platform's hot path (a flash sale writes a record and an event per reservation), so values are
encoded with orjson, commands are packed by hiredis, and the transaction is sent as one packed write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import hiredis
import orjson
import redis.asyncio as aioredis
from redis import Redis
from redis._parsers.hiredis import NOT_ENOUGH_DATA as _NOT_ENOUGH_DATA
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

from actors.event_ids import new_event_id, now_iso_ms

_DELETE = object()
_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
Command = tuple[Any, ...]


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys (what the event stream's `data` field holds)."""
    return orjson.dumps(value, option=_JSON).decode()


def _encode(value: Any) -> str | bytes:
    return value if isinstance(value, str | bytes) else orjson.dumps(value, option=_JSON)


@dataclass(frozen=True)
class Event:
    """One entry of the event stream: `type` like `order.created`, `data` a JSON object. See docs/events.md."""

    type: str
    data: dict[str, Any]
    id: str = field(default_factory=new_event_id)
    at: str = field(default_factory=now_iso_ms)

    def fields(self) -> dict[str, str]:
        return {"id": self.id, "type": self.type, "at": self.at, "data": dumps(self.data)}


class Changes:
    def __init__(self) -> None:
        self._hashes: dict[str, dict[str, Any]] = {}  # key -> field -> value or _DELETE
        self._strings: dict[str, tuple[Any, float | None]] = {}
        self._zsets: dict[str, dict[str, Any]] = {}  # key -> member -> score or _DELETE
        self._trims: dict[str, tuple[float, int | None]] = {}  # zset key -> (drop members scored up to, TTL seconds)
        # events as (id, type, at, data) rows: a frozen dataclass per event cost more than the rest of a
        # reservation's bookkeeping; `events` makes them Events for whoever wants to read them
        self._events: list[tuple[str, str, str, dict[str, Any]]] = []

    def hset(self, key: str, field: str, value: Any) -> None:
        fields = self._hashes.get(key)
        if fields is None:
            fields = self._hashes[key] = {}
        fields[field] = value

    def hdel(self, key: str, field: str) -> None:
        self.hset(key, field, _DELETE)

    def set(self, key: str, value: Any, ttl_seconds: float | None = None) -> None:
        self._strings[key] = (value, ttl_seconds)

    def delete(self, key: str) -> None:
        self._strings[key] = (_DELETE, None)

    def zadd(self, key: str, member: str, score: float) -> None:
        self._zsets.setdefault(key, {})[member] = score

    def zrem(self, key: str, member: str) -> None:
        self._zsets.setdefault(key, {})[member] = _DELETE

    def trim_zset(self, key: str, max_score: float, ttl_seconds: int | None) -> None:
        """After this batch's adds, drop the zset's members scored at or below `max_score`, and let the whole key
        expire `ttl_seconds` after its last change (a sliding window that cannot grow without bound); None: the
        key does not expire (a capped history)."""
        self._trims[key] = (max_score, ttl_seconds)

    def emit(self, type: str, **data: Any) -> None:
        self.emit_data(type, data)

    def emit_data(self, type: str, data: dict[str, Any]) -> None:
        """`emit`, handing over a `data` dict the caller will not change again (no copy is made)."""
        self._events.append((new_event_id(), type, now_iso_ms(), data))

    @property
    def events(self) -> list[Event]:
        return [Event(type, data, event_id, at) for event_id, type, at, data in self._events]

    def merge(self, other: Changes) -> None:
        for key, fields in other._hashes.items():
            self._hashes.setdefault(key, {}).update(fields)
        self._strings.update(other._strings)
        for key, members in other._zsets.items():
            self._zsets.setdefault(key, {}).update(members)
        self._trims.update(other._trims)
        self._events.extend(other._events)

    def __bool__(self) -> bool:
        return bool(self._hashes or self._strings or self._zsets or self._trims or self._events)

    def commands(self) -> list[Command]:
        """The Redis commands that make these changes but the events (see `packed_events`), in their order."""
        commands: list[Command] = []
        for key, fields in self._hashes.items():
            commands += _grouped("HSET", "HDEL", key, fields, _encode)
        for key, (value, ttl) in self._strings.items():
            if value is _DELETE:
                commands.append(("DEL", key))
            elif ttl is None:
                commands.append(("SET", key, _encode(value)))
            else:
                commands.append(("SET", key, _encode(value), "PX", max(1, int(ttl * 1000))))
        for key, members in self._zsets.items():
            commands += _grouped("ZADD", "ZREM", key, members, None)
        for key, (max_score, ttl) in self._trims.items():
            commands.append(("ZREMRANGEBYSCORE", key, "-inf", max_score))
            if ttl is not None:
                commands.append(("EXPIRE", key, ttl))
        return commands

    def packed_events(self, stream: str, maxlen: int) -> bytes:
        """One XADD per event, already packed in the Redis protocol: by hand, since hiredis took 1.3 us per XADD
        and this 0.5 (a flash sale writes one per reservation). `test_store.py` checks it against hiredis."""
        head = b"*14\r\n" + b"".join(_bulk(a) for a in (b"XADD", stream.encode(), b"MAXLEN", b"~", b"%d" % maxlen,
                                                          b"*", b"id"))
        parts = []
        encoded: dict[str, bytes] = {}  # event types and times repeat within a batch
        for event_id_str, type_str, at_str, fields in self._events:
            event_id = event_id_str.encode()
            type = encoded.get(type_str) or encoded.setdefault(type_str, type_str.encode())
            at = encoded.get(at_str) or encoded.setdefault(at_str, at_str.encode())
            data = orjson.dumps(fields, option=_JSON)
            parts.append(b"%s$%d\r\n%s\r\n$4\r\ntype\r\n$%d\r\n%s\r\n$2\r\nat\r\n$%d\r\n%s\r\n$4\r\ndata\r\n$%d\r\n%s\r\n"
                         % (head, len(event_id), event_id, len(type), type, len(at), at, len(data), data))
        return b"".join(parts)


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _grouped(add: str, remove: str, key: str, entries: dict[str, Any], encode: Any) -> list[Command]:
    """One variadic command for everything a key gains (HSET field value ..., or ZADD score member ... when
    `encode` is None), one for everything it loses."""
    flat: list[Any] = [add, key]
    removed: list[Any] = [remove, key]
    append = flat.append
    for name, value in entries.items():
        if value is _DELETE:
            removed.append(name)
        elif encode is None:
            append(value)
            append(name)
        else:
            append(name)
            append(value if type(value) is str or type(value) is bytes else encode(value))
    return [tuple(c) for c in (flat, removed) if len(c) > 2]


class QuickPool(aioredis.ConnectionPool):
    """redis-py's pool, handing out an idle connection without its readiness probe. redis-py's `get_connection` holds
    the pool's lock while it asks the socket whether the server wrote anything (`can_read_destructive`: a read under
    a zero timeout, which gives up only two turns of the event loop later), so every command waited two turns of a
    busy loop, and every other command of the process queued behind it for the lock. Here the same question is asked
    of what the event loop has already read: the connection's stream (at its end, or an error, once the server
    closes or resets it) and both buffers. No lock is needed: taking an idle connection does not wait, and the one
    taken is nobody else's. A `Reads` round trip of 8 concurrent readers cost 61 us of CPU and now 24
    (`python -m benchmarks.redis_pool`); tests/integration/test_store_reads.py checks that a connection the server
    closed while idle, or one left with an unread reply, is replaced before a command is sent."""

    async def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> Any:
        connection = self.get_available_connection()
        try:
            if not _idle_and_clean(connection):
                await connection.disconnect()
            await connection.connect()  # returns at once when connected
        except BaseException:
            await self.release(connection)
            raise
        return connection


def _idle_and_clean(connection: Any) -> bool:
    """False when the connection cannot be used as it is: the server closed or reset it, or it holds unread data."""
    stream = connection._reader
    if stream is None:
        return True  # not connected: `connect` opens it
    if stream.at_eof() or stream.exception() is not None or len(stream._buffer):
        return False
    reader = getattr(connection._parser, "_reader", None)  # hiredis's, when redis-py reads through hiredis
    if reader is not None and reader.has_data():
        return False
    return not getattr(connection._parser, "_buffer", None)  # redis-py's own parser's


def async_client(redis_url: str) -> aioredis.Redis:
    """An asyncio client on a `QuickPool`, answering strings: what the actors and API replicas use."""
    return aioredis.Redis.from_pool(QuickPool.from_url(redis_url, decode_responses=True))


class Store:
    """Redis access for one actor: an async client for commits and reads, a sync one for loading at start."""

    def __init__(self, redis_url: str, stream: str, maxlen: int) -> None:
        self.redis_url = redis_url
        self.stream = stream
        self.maxlen = maxlen
        self._client: aioredis.Redis | None = None

    @property
    def redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = async_client(self.redis_url)
        return self._client

    def sync_client(self) -> Redis:
        return Redis.from_url(self.redis_url, decode_responses=True)

    async def commit(self, changes: Changes) -> None:
        """Write `changes` in one MULTI/EXEC; returns once Redis has answered EXEC (with `appendfsync always`,
        once the transaction is fsynced). Raises if any command was refused."""
        if not changes:
            return
        commands = changes.commands()
        payload = b"".join([*map(hiredis.pack_command, (("MULTI",), *commands)),
                            changes.packed_events(self.stream, self.maxlen), hiredis.pack_command(("EXEC",))])
        queued = len(commands) + len(changes._events)
        _raise_refused(await _on_a_connection(self.redis, lambda conn: _transact(conn, payload, queued)))

    async def get_json(self, key: str) -> Any:
        raw: str | None = await self.redis.get(key)
        return None if raw is None else orjson.loads(raw)

    async def hget_json(self, key: str, field: str) -> Any:
        raw: str | None = await self.redis.hget(key, field)  # type: ignore[misc]
        return None if raw is None else orjson.loads(raw)


class Reads:
    """Read commands queued as on a redis-py pipeline (`get`, `hget`, `hmget`, `mget`, `zcount`), sent in one packed
    write and answered through the client's hiredis reader, as `Store.commit` does. The add to cart's and the
    checkout's reads went through redis-py's pipeline (command objects, its own send and parse path, response
    callbacks): 7.8% of an API replica's py-spy samples, and the checkout's reads 12% of the shopper shard's.
    Replies are Redis's own (no response callbacks): these commands answer strings, lists of strings and integers.
    A refused command raises, as a pipeline does; a broken connection raises redis-py's ConnectionError."""

    __slots__ = ("client", "commands")

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.commands: list[Command] = []

    def get(self, key: str) -> None:
        self.commands.append(("GET", key))

    def hget(self, key: str, field: str) -> None:
        self.commands.append(("HGET", key, field))

    def hmget(self, key: str, fields: list[str]) -> None:
        self.commands.append(("HMGET", key, *fields))

    def mget(self, keys: list[str]) -> None:
        self.commands.append(("MGET", *keys))

    def zcount(self, key: str, low: float | str, high: float | str) -> None:
        self.commands.append(("ZCOUNT", key, low, high))

    async def execute(self) -> list[Any]:
        if not self.commands:
            return []
        payload, count = b"".join(map(hiredis.pack_command, self.commands)), len(self.commands)
        return _raise_refused(await _on_a_connection(self.client, lambda conn: _send_and_read(conn, payload, count)))


async def _on_a_connection(client: aioredis.Redis, attempt: Callable[[Any], Awaitable[list[Any]]]) -> list[Any]:
    """`attempt(connection)` on one of the client's pooled connections; as redis-py's own pipeline does, a dropped
    connection (redis-py's ConnectionError) is retried with the client's retry policy. An attempt stopped part-way
    (cancelled: its route's client went away or timed out) closes the connection, as redis-py's `read_response`
    does: its replies may still be on the way, and the next caller would read them as its own."""
    pool = client.connection_pool
    conn = await pool.get_connection()
    try:
        return await conn.retry.call_with_retry(lambda: attempt(conn), lambda error: conn.disconnect())
    except BaseException as exc:
        if not isinstance(exc, ResponseError):  # a refusal is raised once every reply was read: in step
            await conn.disconnect(nowait=True)
        raise
    finally:
        await pool.release(conn)


def _raise_refused(replies: list[Any]) -> list[Any]:
    """The replies, or the first command's refusal raised (the replies were all read: the connection is in step)."""
    refused = next((reply for reply in replies if isinstance(reply, ResponseError)), None)
    if refused is not None:
        raise refused
    return replies


async def _send_and_read(conn: Any, payload: bytes, count: int) -> list[Any]:
    """The replies, or redis-py's ConnectionError when the connection breaks: `_replies` reads the socket below
    redis-py, which would let a reset through as a bare OSError, one that neither the retry policy nor a caller
    (503 to a client) takes for Redis going away."""
    try:
        await conn.send_packed_command(payload)
        return await _replies(conn, count)
    except OSError as exc:
        raise RedisConnectionError(f"the connection to Redis broke: {exc!r}") from exc


async def _transact(conn: Any, payload: bytes, queued: int) -> list[Any]:
    """Send a packed MULTI .. EXEC and read its replies: +OK, one +QUEUED per command, then EXEC's array."""
    await conn.send_packed_command(payload)
    replies = await _replies(conn, queued + 2)
    refused = next((r for r in replies[:-1] if isinstance(r, ResponseError)), None)
    if refused is not None:  # a command refused while queueing: EXEC answered EXECABORT, nothing was written
        raise refused
    if isinstance(replies[-1], ResponseError):
        raise replies[-1]
    if not isinstance(replies[-1], list):
        raise ResponseError(f"EXEC answered {replies[-1]!r}")
    return replies[-1]


async def _replies(conn: Any, count: int) -> list[Any]:
    """`count` replies, errors returned rather than raised, so the connection stays in step. A group commit
    reads one +QUEUED per reservation: through redis-py's hiredis reader directly that is about 0.1 us each,
    through `read_response` about 1 us (redis-py is pinned; without hiredis the generic path is taken)."""
    parser: Any = getattr(conn, "_parser", None)
    reader = getattr(parser, "_reader", None)
    if reader is None or not hasattr(parser, "read_from_socket"):
        replies = []
        for _ in range(count):
            try:
                replies.append(await conn.read_response())
            except ResponseError as exc:
                replies.append(exc)
        return replies
    replies = []
    gets = reader.gets
    while len(replies) < count:
        reply = gets()
        if reply is _NOT_ENOUGH_DATA or reply is False:
            await parser.read_from_socket()
        elif isinstance(reply, RedisError) and not isinstance(reply, ResponseError):
            raise reply  # the connection broke: the retry policy reconnects
        else:
            replies.append(reply)
    return replies


def load_hash(client: Redis, key: str) -> dict[str, Any]:
    """All of a hash, decoded, read in pages so a large shard loads without one giant reply."""
    return {fld: orjson.loads(raw) for fld, raw in client.hscan_iter(key, count=2000)}
