"""The Redis side of the export: the consumer group `lake` on each stream, acknowledgements, trimming, and the
lease that keeps a second exporter from writing the same streams' files at the same time.

The group is a view of the lake's offsets, never the other way round: on start it is set to what the lake holds
(`join`), so what was read and not committed is delivered again, and what the lake holds but was not acknowledged
is acknowledged.

Trimming (`trim`) drops entries only up to what the lake holds, and not past what another consumer group still
has to read (its oldest pending entry, or its last delivered one): the search indexer keeps its events. A group
that is no longer used should be destroyed (`XGROUP DESTROY`), or it holds the stream back; the writers' own
`MAXLEN ~ events_maxlen` is a safety cap behind all of this.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.exceptions import ResponseError

from actors import keys
from lake.offsets import next_id, parse_id
from lake.tables import Row, rows

GROUP = "lake"
CONSUMER = "exporter"  # one exporter, one stable name
ACK_CHUNK = 10_000
LEASE_SECONDS = 60.0  # a killed exporter's successor waits at most this long


def join(client: Redis, stream: str, committed: str) -> None:
    """Make the group (and the stream) if missing, and set it to `committed`: entries after it are delivered
    (again, if they were before), and the ones at or before it that were never acknowledged are acknowledged."""
    try:
        client.xgroup_create(stream, GROUP, id=committed, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        client.xgroup_setid(stream, GROUP, id=committed)
    while True:
        stale: Any = client.xpending_range(stream, GROUP, "-", committed, ACK_CHUNK)
        if not stale:
            return
        client.xack(stream, GROUP, *(entry["message_id"] for entry in stale))


def reader(client: Redis) -> Redis:
    """A client on `client`'s connections that leaves XREADGROUP's reply as Redis sent it: redis-py would make a
    dict of every entry's fields, a third of the export's time."""
    raw = Redis(connection_pool=client.connection_pool)
    raw.set_response_callback("XREADGROUP", lambda response, **options: response)
    return raw


def read(raw: Redis, streams: Sequence[str], count: int, block_ms: int | None) -> dict[str, list[Row]]:
    """New entries of each stream, up to `count` each, waiting up to `block_ms` for some (None: not at all).
    `raw` is a `reader`."""
    command: list[Any] = ["XREADGROUP", "GROUP", GROUP, CONSUMER, "COUNT", count]
    if block_ms is not None:
        command += ["BLOCK", block_ms]
    reply: Any = raw.execute_command(*command, "STREAMS", *streams, *(">" for _ in streams))
    return {stream: rows(entries) for stream, entries in reply or []}


def acknowledge(client: Redis, stream: str, stream_ids: Sequence[str]) -> None:
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(stream_ids), ACK_CHUNK):
        pipe.xack(stream, GROUP, *stream_ids[start:start + ACK_CHUNK])
    pipe.execute()


def trim(client: Redis, stream: str, committed: str) -> None:
    """Drop the entries the lake holds that no other group still needs (approximately: whole nodes of the
    stream, never an entry after the floor)."""
    # LIMIT 0: all of them (an approximate trim otherwise stops after 100 nodes' worth, behind a 50,000 batch)
    client.xtrim(stream, minid=trim_floor(client, stream, committed), approximate=True, limit=0)


def trim_floor(client: Redis, stream: str, committed: str) -> str:
    """The first entry to keep: after what the lake holds, and no later than what any other group still needs."""
    floor = next_id(committed)
    groups: Any = client.xinfo_groups(stream)
    for group in groups:
        if group["name"] == GROUP:
            continue
        needed = next_id(group["last-delivered-id"])
        if group["pending"]:
            oldest: Any = client.xpending(stream, group["name"])
            needed = oldest["min"]
        if parse_id(needed) < parse_id(floor):
            floor = needed
    return floor


def lag(client: Redis, stream: str) -> int:
    """Entries not yet delivered to the group (Redis's own count where it knows it, else the stream's length)."""
    groups: Any = client.xinfo_groups(stream)
    ours = next((group for group in groups if group["name"] == GROUP), None)
    if ours is not None and ours.get("lag") is not None:
        return int(ours["lag"])
    return int(client.xlen(stream))  # type: ignore[arg-type]


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaseLost(RuntimeError):
    """Another exporter holds the lease (this one was stopped longer than the lease lasts)."""


class Lease:
    """One exporter at a time: held while it runs, renewed before each batch is written, given back when it
    stops. (A lease narrows the window, it cannot fence: an exporter frozen for longer than the lease and then
    woken could still finish the batch it was writing; run one exporter per lake.)"""

    def __init__(self, client: Redis, seconds: float = LEASE_SECONDS) -> None:
        self.client = client
        self.seconds = seconds
        self.renewed = 0.0

    def acquire(self, wait_seconds: float = 0) -> None:
        """Take the lease, waiting up to `wait_seconds` for a running (or killed) exporter's to end."""
        self.token = secrets.token_hex(8)
        deadline = time.monotonic() + wait_seconds
        while not self.client.set(keys.LAKE_EXPORTER, self.token, nx=True, px=int(self.seconds * 1000)):
            if time.monotonic() >= deadline:
                raise LeaseLost(f"another lake exporter holds the lease (Redis key {keys.LAKE_EXPORTER})")
            time.sleep(0.5)
        self.renewed = time.monotonic()

    def keep(self) -> None:
        """Renew the lease if a third of it has passed; raises LeaseLost if another exporter took it meanwhile."""
        if time.monotonic() - self.renewed < self.seconds / 3:
            return
        if not self.client.eval(_RENEW, 1, keys.LAKE_EXPORTER, self.token, int(self.seconds * 1000)):
            raise LeaseLost("the lake exporter's lease passed to another exporter; stopping")
        self.renewed = time.monotonic()

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, keys.LAKE_EXPORTER, self.token)
