"""A direct channel into a shard actor, for the few calls on the shop's hot path.

A Ray actor call costs about 1.7 ms of CPU on this 2-core machine (0.86 in the actor, 0.8 in the caller:
`python -m benchmarks.ray_call`), and a checkout loop made three of them (add to cart and checkout into the
shopper shard, the sale into the inventory shard). The same call as a length-prefixed pickle over a socket costs
about 0.04 ms a side. So a shard actor also listens on a socket of its own, and the callers of its hot methods send
them there; Serve's replicas do the same for HTTP (Serve's direct ingress), for the same reason.

Nothing else changes: the actor is still a Ray actor (Ray places, names, restarts and supervises it; every other
method is called through Ray), and a call on the channel runs on the actor's own event loop, in arrival order,
exactly as a Ray call of the same method would, into the same command queue.

- **Who may call**: the actor sends a random challenge when a connection opens, and answers nothing until the
  caller returns its HMAC under a key derived from the platform secret (`settings.jwt_key()`), which every part of
  the shop has and a stranger on the network has not. Only the methods the actor class lists in
  `channel_methods` can be called, so an authenticated peer reaches nothing a route could not.
- **Failures** are Ray's: a call whose connection breaks before its answer raises `ChannelLost`, an
  `ActorUnavailableError` ("may or may not have been executed"), which the callers already treat as an actor
  restarting (503 to a client, a saga left to recovery). The next call asks Ray for the actor's address again,
  which waits while Ray restarts it, then connects to the new process.
- **Answers and refusals** come back as they would through Ray: the value, or the exception the method raised
  (a DomainError pickles as it is).

The address is a port the OS picks, on loopback when the shop started its own Ray (`make run`: every caller is on
this machine) and on the node's IP on a cluster; the actor's `channel_address()` (a Ray call, made once per
process and actor incarnation) tells it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import socket
import struct
from typing import Any

from ray.exceptions import ActorUnavailableError

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!IQ")  # payload length, request id
_NONCE_BYTES = 16
_MAX_PAYLOAD = 64 * 1024 * 1024


def channel_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"bazaar actor channel v1", hashlib.sha256).digest()


def _proof(key: bytes, nonce: bytes) -> bytes:
    return hmac.new(key, nonce, hashlib.sha256).digest()


class ChannelLost(ActorUnavailableError):
    """The connection to the actor broke before the call was answered: it may or may not have run."""

    def __init__(self, actor: str, reason: str) -> None:
        super().__init__(f"{actor}: {reason}", None)
        self.actor, self.reason = actor, reason

    def __reduce__(self) -> tuple[Any, ...]:
        return ChannelLost, (self.actor, self.reason)


# -- the actor's side -------------------------------------------------------------------------------------------
class ChannelServer:
    def __init__(self, target: Any, methods: frozenset[str], key: bytes) -> None:
        self.target = target
        self.methods = methods
        self.key = key
        self.address: tuple[str, int] | None = None
        self._server: asyncio.Server | None = None
        self._starting: asyncio.Lock | None = None
        self._running: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

    async def start(self, host: str) -> tuple[str, int]:
        """Listen (once) on `host` and a free port, on the running loop (the actor's own); the address."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.address is None:
                self._server = await asyncio.start_server(self._connection, host, 0)
                self.address = (host, self._server.sockets[0].getsockname()[1])
        return self.address

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            nonce = os.urandom(_NONCE_BYTES)
            writer.write(nonce)
            proof = await asyncio.wait_for(reader.readexactly(32), 10)
            if not hmac.compare_digest(proof, _proof(self.key, nonce)):
                log.warning("channel: a connection from %s did not authenticate", writer.get_extra_info("peername"))
                return
            while True:
                length, request_id = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                if length > _MAX_PAYLOAD:
                    return
                method, args = pickle.loads(await reader.readexactly(length))
                task = asyncio.get_running_loop().create_task(self._answer(writer, request_id, method, args))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        except Exception:  # a frame that does not unpickle: this connection is done, the actor serves on
            log.exception("channel: a frame from %s could not be read", writer.get_extra_info("peername"))
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, request_id: int, method: str, args: tuple[Any, ...]
                      ) -> None:
        try:
            if method not in self.methods:
                raise PermissionError(f"{method} is not callable on the channel")
            outcome: tuple[bool, Any] = (True, await getattr(self.target, method)(*args))
        except Exception as exc:  # the caller gets what a Ray call would raise
            cause = getattr(exc, "cause", None)  # a RayTaskError from an actor this one called: what it raised
            outcome = (False, cause if isinstance(cause, BaseException) else exc)
        except asyncio.CancelledError:  # never leave the caller waiting: it learns the call may not have run
            self._send(writer, request_id, (False, ChannelLost(method, "the call was cancelled in the actor")))
            raise
        self._send(writer, request_id, outcome)

    @staticmethod
    def _send(writer: asyncio.StreamWriter, request_id: int, outcome: tuple[bool, Any]) -> None:
        try:
            data = pickle.dumps(outcome, 5)
        except Exception as exc:  # an answer that does not pickle
            data = pickle.dumps((False, RuntimeError(f"the answer could not be sent: {exc!r}")), 5)
        if not writer.is_closing():
            writer.write(_HEADER.pack(len(data), request_id) + data)


# -- the callers' side ------------------------------------------------------------------------------------------
class _Connection:
    def __init__(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.name = name
        self.writer = writer
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.next_id = 0
        self.broken: str | None = None
        self.reading = asyncio.get_running_loop().create_task(self._read(reader))

    @property
    def usable(self) -> bool:
        return self.broken is None and not self.writer.is_closing()

    def send(self, method: str, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """The call's answer to come. Raises ChannelLost, having sent nothing, when the transport is already closed
        (uvloop raises on such a write; the reader may not have seen the close yet)."""
        data = pickle.dumps((method, args), 5)
        self.next_id += 1
        try:
            self.writer.write(_HEADER.pack(len(data), self.next_id) + data)
        except (RuntimeError, OSError) as exc:
            self.close(f"the connection closed: {exc!r}")
            raise ChannelLost(self.name, "the connection had closed; nothing was sent") from None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future  # no answer can be read before this: the reader runs on this loop
        return future

    async def _read(self, reader: asyncio.StreamReader) -> None:
        reason = "the connection closed"
        try:
            while True:
                length, request_id = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                ok, value = pickle.loads(await reader.readexactly(length))
                future = self.pending.pop(request_id, None)
                if future is None or future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            reason = f"the connection broke: {exc!r}"
        except Exception as exc:  # a frame that does not unpickle: this connection is done
            reason = f"an answer could not be read: {exc!r}"
            log.exception("channel to %s", self.name)
        finally:
            self.close(reason)

    def close(self, reason: str) -> None:
        if self.broken is None:
            self.broken = reason
            with contextlib.suppress(RuntimeError):  # uvloop: already closed
                self.writer.close()
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ChannelLost(self.name, reason))


def _keepalive(sock: socket.socket | None) -> None:
    """A peer whose machine vanished (no FIN, no RST) is found out in about 20 s instead of never: its calls then
    fail as ChannelLost, as Ray fails calls to an actor on a dead node."""
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 2)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


class Channel:
    """The calling side for one actor, in one process and event loop: `await channel.call(method, *args)`."""

    def __init__(self, name: str, handle: Any, key: bytes) -> None:
        self.name = name
        self.handle = handle
        self.key = key
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    def call(self, method: str, *args: Any) -> asyncio.Future[Any]:
        """Sent at once when connected (so calls leave in the order they were made, like Ray's); otherwise after
        connecting."""
        connection = self._connection
        if connection is not None and connection.usable:
            try:
                return connection.send(method, args)
            except ChannelLost:  # closed under us and nothing sent: over a new connection, below
                pass
        return asyncio.ensure_future(self._call_when_connected(method, args))

    async def _call_when_connected(self, method: str, args: tuple[Any, ...]) -> Any:
        connection = self._connection
        if connection is None or not connection.usable:
            if self._connecting is None or self._connecting.done():  # one connection attempt at a time
                self._connecting = asyncio.get_running_loop().create_task(self._connect())
            connection = await asyncio.shield(self._connecting)
        return await connection.send(method, args)

    async def _connect(self) -> _Connection:
        host, port = await self.handle.channel_address.remote()  # waits while Ray restarts the actor
        try:
            reader, writer = await asyncio.open_connection(host, port)
            _keepalive(writer.get_extra_info("socket"))
            nonce = await reader.readexactly(_NONCE_BYTES)
            writer.write(_proof(self.key, nonce))
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise ChannelLost(self.name, f"could not connect to {host}:{port}: {exc!r}") from None
        self._connection = _Connection(self.name, reader, writer)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close("closed by the caller")
            self._connection = None


class RayCalls:
    """The same calling side through plain Ray calls (`actor_channel` off)."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.handle, method).remote(*args)
