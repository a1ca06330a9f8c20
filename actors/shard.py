"""The base of every state-owning actor: commands are applied one at a time, in arrival order, to in-memory
aggregates, and a batch of them is persisted in one Redis transaction before any of them is answered
(group commit). The actor is the single writer of its keys, so no lock is needed around a read-check-write.

A command is a plain function `(changes) -> result`: it checks, mutates the aggregates, and records what to
persist in `changes`. A command that raises a DomainError must have changed nothing (the domain classes check
before they mutate). If the Redis write fails, every command of the batch fails and the actor reloads its
state from Redis, the system of record, so nothing is half-applied.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from actors.channel import ChannelServer, channel_key
from actors.simulation_clock import follow_simulation_clock
from actors.store import Changes, Store
from actors.ticker import start_ticker
from config import Settings, collector
from domain.errors import DomainError, Unavailable

T = TypeVar("T")
Command = Callable[[Changes], T]
Outcome = tuple["asyncio.Future[Any]", bool, Any]  # a command's future, whether it succeeded, its result or error
log = logging.getLogger(__name__)


def unavailable() -> Unavailable:
    return Unavailable("store_unavailable", "The store did not take the change; retry")


class ShardActor:
    kind: str = ""
    tick_seconds: float | None = None  # when set, `tick()` runs on that period through the actor's own queue
    channel_methods: frozenset[str] = frozenset()  # what callers may call on the actor's channel (actors/channel.py)

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        assert settings.redis_url, "settings.redis_url must be set before actors start"
        self.settings = settings
        self.shard = shard
        follow_simulation_clock(settings)
        self.store = Store(settings.redis_url, settings.events_stream, settings.events_maxlen)
        self._pending: list[tuple[Command[Any], asyncio.Future[Any]]] = []
        self._wakeup: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._stale = False  # a write failed: memory must be reloaded from Redis before the next batch
        # Held while memory is reloaded (in a worker thread) and while a batch is applied to memory: a reload asked
        # for by a reader (`fresh`) must never finish after a batch was applied and written, or it would put back
        # what Redis had before that batch, and memory would lack an acknowledged change.
        self._memory = asyncio.Lock()
        self.batches = 0
        self.commands = 0
        self._channel = ChannelServer(self, self.channel_methods, channel_key(settings.jwt_key()))
        self._load_when_redis_answers()
        collector.settle()  # what is loaded (and every module) lives as long as the process: never rescan it
        if self.tick_seconds:
            self._start_ticker(self.tick_seconds)

    # -- hooks for subclasses -------------------------------------------------------------------------
    def load(self, client: Any) -> None:
        """Rebuild in-memory state from Redis (sync client). Called at start and after a failed write."""

    async def tick(self) -> None:
        """Periodic work (e.g. releasing expired reservations)."""

    def _start_ticker(self, period: float) -> None:
        """Call `tick()` every `period` through the actor's own queue (a shard run in-process, outside an actor,
        overrides this: the ticker needs an actor handle)."""
        start_ticker(period, f"{self.kind}-{self.shard}")

    # -- the command queue --------------------------------------------------------------------------
    async def submit(self, command: Command[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((command, future))
        if self._writer is None or self._writer.done():
            self._wakeup = asyncio.Event()
            self._writer = loop.create_task(self._write_loop())
        assert self._wakeup is not None
        self._wakeup.set()
        return await future

    async def _write_loop(self) -> None:
        """Apply a batch, write it, answer it; and while one batch is being written (and fsynced), apply the
        next in memory, so the actor's CPU is not idle during the write. The next batch is sent only once the
        previous one is durable, on the same ordered path; if a write fails, the batch applied behind it is
        failed too, never sent, and the state is reloaded from Redis."""
        assert self._wakeup is not None
        writing: asyncio.Task[bool] | None = None  # the batch being written; True once it is durable
        while True:
            if not self._pending:
                waiting = asyncio.ensure_future(self._wakeup.wait())
                await asyncio.wait([waiting] if writing is None else [waiting, writing],
                                   return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
                self._wakeup.clear()
                if writing is not None and writing.done():
                    if not writing.result():
                        await self._try_reload()
                    writing = None
                continue
            limit = self.settings.group_commit_max_batch
            batch, self._pending = self._pending[:limit], self._pending[limit:]
            async with self._memory:
                if self._stale and not await self._reload_now():  # Redis is still away: memory cannot be trusted
                    self._answer([(future, False, None) for _, future in batch], unavailable())
                    continue
                changes, outcomes = self._apply(batch)
            if writing is not None:
                durable = await writing
                writing = None
                if not durable:  # applied on state that was never written: fail it and start again from Redis
                    self._answer(outcomes, unavailable())
                    self._stale = True  # even if a reader reloaded meanwhile: this batch was applied after that
                    await self._try_reload()
                    continue
            writing = asyncio.get_running_loop().create_task(self._write(changes, outcomes, len(batch)))

    def _apply(self, batch: list[tuple[Command[Any], asyncio.Future[Any]]]) -> tuple[Changes, list[Outcome]]:
        changes = Changes()
        outcomes: list[Outcome] = []
        for command, future in batch:
            try:
                outcomes.append((future, True, command(changes)))
            except DomainError as exc:
                outcomes.append((future, False, exc))
            except Exception as exc:  # a bug in a command: fail it, keep the actor serving others
                log.exception("command failed in %s-%s", self.kind, self.shard)
                outcomes.append((future, False, exc))
        return changes, outcomes

    async def _write(self, changes: Changes, outcomes: list[Outcome], commands: int) -> bool:
        """Write one batch and answer its commands: True once durable; False (commands failed) if not."""
        try:
            await self.store.commit(changes)
        except Exception as exc:
            # Memory is now ahead of Redis (or, if the connection broke after EXEC, maybe not): nothing of this
            # batch is acknowledged, and nothing more is applied until memory is reloaded from Redis.
            log.exception("commit failed in %s-%s; reloading from Redis", self.kind, self.shard)
            self._stale = True
            lost = isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError)  # the store, not the change
            self._answer(outcomes, unavailable() if lost else exc)
            return False
        self.batches += 1
        self.commands += commands
        for future, ok, value in outcomes:
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        return True

    @staticmethod
    def _answer(outcomes: list[Outcome], exc: BaseException) -> None:
        for future, _, _ in outcomes:
            if not future.done():
                future.set_exception(exc)

    def _load_when_redis_answers(self) -> None:
        """Load at start, waiting for Redis if it is away: a shard restarting after a crash while Redis restarts
        too must not fail its constructor, since Ray then marks the actor dead for good."""
        delay = 0.1
        while True:
            try:
                self._reload()
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:  # BusyLoadingError: it reads its AOF
                log.warning("%s-%s waits for Redis to load its state: %s", self.kind, self.shard, exc)
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def fresh(self) -> None:
        """Before reading memory outside a command: after a failed write it may be ahead of Redis until it is
        reloaded, so reload first, or refuse (503) while Redis does not answer."""
        if self._stale and not await self._try_reload():
            raise unavailable()

    async def _try_reload(self) -> bool:
        """Memory from Redis again after a failed write; False (and still stale) while Redis does not answer.
        One reload at a time, never while a batch is applied; one that waited finds memory already fresh."""
        async with self._memory:
            return await self._reload_now()

    async def _reload_now(self) -> bool:
        if not self._stale:
            return True
        try:
            await asyncio.to_thread(self._reload)
        except Exception:
            log.warning("reload of %s-%s failed; the next batch tries again", self.kind, self.shard, exc_info=True)
            return False
        self._stale = False
        return True

    def _reload(self) -> None:
        client = self.store.sync_client()
        try:
            self.load(client)
        finally:
            client.close()

    # -- housekeeping --------------------------------------------------------------------------------
    async def channel_address(self) -> tuple[str, int]:
        """Where this actor's channel listens (started on first ask), on a port of its own: loopback on a Ray we
        started on this machine (everything that calls it is here), the node's IP on a cluster."""
        import ray

        host = ray.util.get_node_ip_address() if self.settings.ray_address else "127.0.0.1"
        address = await self._channel.start(host)
        log.info("%s-%s: channel on %s:%s", self.kind, self.shard, *address)
        return address

    async def ready(self) -> dict[str, Any]:
        return {"kind": self.kind, "shard": self.shard, "pid": os.getpid(), "batches": self.batches,
                "commands": self.commands}
