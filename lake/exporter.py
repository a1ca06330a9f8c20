"""The lake exporter: follows every event stream with the consumer group `lake` and writes each event once into
the lake (Parquet by event type and date; layout in lake/layout.py, schemas in lake/schemas.py).

    python -m lake.exporter --once      # export what the streams hold now, then stop (make export)
    python -m lake.exporter             # keep following the streams until Ctrl-C

The Redis is REDIS_URL / BAZAAR_REDIS_URL, else the one `make run` starts; the lake is BAZAAR_LAKE_DIR (a folder
or an object-store URL), else <data dir>/lake. It prints how many events it exported and how fast; exit status 1
when Redis cannot be reached or another exporter holds the lease past its time.

A batch (up to `lake_batch_max` entries of one stream, or what arrived within `lake_flush_seconds`) goes through
three steps, each a method so that a test can stop between them as a crash would (lake/offsets.py says why every
stop is safe): `write` (intent, then the part files), `commit` (the stream's offset record), `acknowledge` (XACK,
then trim the stream up to what the lake holds). `recover`, run on start, undoes a batch that was being written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field

import pyarrow as pa
import redis
from redis import Redis
from tqdm import tqdm

from config import Settings, load_settings
from config.settings import SettingsError
from lake import streams
from lake.layout import Lake
from lake.offsets import Offsets, read_offsets, write_offsets
from lake.tables import Row, event_table, partition
from pipelines.summary import print_summary

READ_COUNT = 10_000  # entries per XREADGROUP and stream
IDLE_BLOCK_MS = 1000


@dataclass
class Batch:
    """A batch written (step 1) and not yet committed."""

    stream: str
    intent: Offsets  # the stream's record, naming the batch's files under `writing`
    stream_ids: list[str]  # every entry of the batch, in order


@dataclass
class Exported:
    events: int = 0
    files: int = 0
    per_stream: dict[str, int] = field(default_factory=dict)


class Exporter:
    def __init__(self, client: Redis, lake: Lake, stream_names: list[str], batch_max: int = 50_000,
                 flush_seconds: float = 30.0) -> None:
        self.client = client
        self.reader = streams.reader(client)
        self.lake = lake
        self.streams = list(stream_names)
        self.batch_max = batch_max
        self.flush_seconds = flush_seconds
        self.offsets: dict[str, Offsets] = {}
        self.buffers: dict[str, list[Row]] = {stream: [] for stream in self.streams}
        self.buffered_since: dict[str, float] = {}
        self.exported = Exported()

    @classmethod
    def from_settings(cls, client: Redis, settings: Settings) -> Exporter:
        return cls(client, Lake(settings.lake_dir), settings.lake_streams, settings.lake_batch_max,
                   settings.lake_flush_seconds)

    # -- the steps ---------------------------------------------------------------------------------------
    def recover(self) -> None:
        """On start: delete the files of a batch a crash left half written, then set the group to the lake."""
        for stream in self.streams:
            offsets = read_offsets(self.lake, stream)
            if offsets.writing is not None:
                self.lake.delete(offsets.writing.files)
                offsets = offsets.abandoning()
                write_offsets(self.lake, offsets)
            self.offsets[stream] = offsets
            streams.join(self.client, stream, offsets.committed)

    def read(self, block_ms: int | None = None) -> int:
        """Read new entries of every stream into its buffer; returns how many."""
        return self._take(self._fetch(block_ms))

    def _fetch(self, block_ms: int | None) -> dict[str, list[Row]]:
        return streams.read(self.reader, self.streams, min(READ_COUNT, self.batch_max), block_ms)

    def _take(self, fetched: dict[str, list[Row]]) -> int:
        count = 0
        for stream, entries in fetched.items():
            held = self.offsets[stream]
            while entries and held.holds(entries[0][0]):  # delivered again, already in the lake
                entries = entries[1:]
            if entries:
                self.buffered_since.setdefault(stream, time.monotonic())
                self.buffers[stream] += entries
                count += len(entries)
        return count

    def write(self, stream: str) -> Batch:
        """Step 1 for the oldest `batch_max` entries of the stream's buffer: name the batch's files in the stream's
        record, then write them (durably). After a failure here, `recover` before writing again."""
        buffer = self.buffers[stream]
        entries, self.buffers[stream] = buffer[:self.batch_max], buffer[self.batch_max:]
        if not self.buffers[stream]:
            self.buffered_since.pop(stream, None)
        files: list[tuple[str, pa.Table]] = []
        last = entries[-1][0]
        for (event_type, date), group in partition(entries).items():
            first_id, last_id = group[0][0], group[-1][0]
            table = event_table(event_type, stream, group).replace_schema_metadata({
                "bazaar.stream": stream, "bazaar.event_type": event_type, "bazaar.first_stream_id": first_id,
                "bazaar.last_stream_id": last_id, "bazaar.batch_last_stream_id": last})
            files.append((self.lake.part_path(event_type, date, stream, first_id, last_id), table))
        intent = self.offsets[stream].intending(last, [path for path, _ in files])
        write_offsets(self.lake, intent)
        self.offsets[stream] = intent
        self.lake.write_parquet(files)
        return Batch(stream, intent, [row[0] for row in entries])

    def commit(self, batch: Batch) -> None:
        """Step 2: the lake holds the batch from now on."""
        committed = batch.intent.committing(len(batch.stream_ids))
        write_offsets(self.lake, committed)
        self.offsets[batch.stream] = committed
        assert batch.intent.writing is not None
        self.exported.events += len(batch.stream_ids)
        self.exported.files += len(batch.intent.writing.files)
        self.exported.per_stream[batch.stream] = self.exported.per_stream.get(batch.stream, 0) + len(batch.stream_ids)

    def acknowledge(self, batch: Batch) -> None:
        """Step 3: the group is done with the batch, and the stream may let it go."""
        streams.acknowledge(self.client, batch.stream, batch.stream_ids)
        streams.trim(self.client, batch.stream, self.offsets[batch.stream].committed)

    def flush(self, stream: str) -> int:
        """All three steps for what `stream`'s buffer holds, in batches; returns the events exported."""
        exported = 0
        while self.buffers[stream]:
            batch = self.write(stream)
            self.commit(batch)
            self.acknowledge(batch)
            exported += len(batch.stream_ids)
        return exported

    # -- the loop ----------------------------------------------------------------------------------------
    def run(self, once: bool, on_exported: Callable[[int], None] | None = None,
            keep_going: Callable[[], bool] = lambda: True, lease: streams.Lease | None = None) -> Exported:
        """Export until the streams are drained (`once`), or while `keep_going()`. Call `recover` first. A stop
        (an exception, Ctrl-C) loses nothing: what was read and not committed is read again after `recover`."""
        # the next read is made (by Redis, on the other core) while this one's entries are written
        with ThreadPoolExecutor(1, thread_name_prefix="lake-read") as reading:
            next_read: Future[dict[str, list[Row]]] | None = reading.submit(self._fetch, self._block_ms(once))
            try:
                while next_read is not None and keep_going():
                    if lease is not None:
                        lease.keep()
                    read = self._take(next_read.result())
                    next_read = reading.submit(self._fetch, self._block_ms(once)) if read or not once else None
                    now = time.monotonic()
                    for stream in self.streams:
                        buffer = self.buffers[stream]
                        due = now - self.buffered_since.get(stream, now) >= self.flush_seconds
                        if buffer and (len(buffer) >= self.batch_max or due or (once and not read)):
                            exported = self.flush(stream)
                            if on_exported is not None:
                                on_exported(exported)
            finally:
                if next_read is not None:  # read, so delivered: into the buffers (this exporter may go on)
                    with suppress(Exception):
                        self._take(next_read.result())
        return self.exported

    def lag(self) -> int:
        return sum(streams.lag(self.client, stream) for stream in self.streams)

    def _block_ms(self, once: bool = False) -> int | None:
        if once:
            return None
        if not self.buffered_since:
            return IDLE_BLOCK_MS
        due = min(self.buffered_since.values()) + self.flush_seconds - time.monotonic()
        return max(1, min(IDLE_BLOCK_MS, int(due * 1000)))  # BLOCK 0 would wait forever


def export(settings: Settings, once: bool, progress: bool = True) -> Exported:
    """The CLI's work: take the lease (waiting for a killed exporter's to run out), recover, export."""
    client = Redis.from_url(settings.redis_url or f"redis://127.0.0.1:{settings.redis_port}/0",
                            decode_responses=True)
    lease = streams.Lease(client)
    lease.acquire(wait_seconds=lease.seconds + 5)
    exporter = Exporter.from_settings(client, settings)
    try:
        exporter.recover()
        with tqdm(total=exporter.lag() if once else None, unit="event", unit_scale=True, disable=not progress,
                  desc=f"exporting to {settings.lake_dir}") as bar:
            try:
                return exporter.run(once, bar.update, lease=lease)
            except KeyboardInterrupt:
                return exporter.exported
    finally:
        lease.release()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lake.exporter", description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="export what the streams hold now, then stop")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    from serve.main import plain_env_overrides  # here: serve.main imports Ray, which the export does not need

    try:
        settings = load_settings(**plain_env_overrides(os.environ))
    except SettingsError as exc:
        print(exc.code, file=sys.stderr)
        raise SystemExit(2) from None
    started = time.perf_counter()
    try:
        exported = export(settings, args.once, progress=not args.quiet)
    except (redis.ConnectionError, streams.LeaseLost) as exc:
        print(f"lake export stopped: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    seconds = time.perf_counter() - started
    print(f"exported {exported.events:,} events into {exported.files:,} files under {settings.lake_dir} "
          f"in {seconds:.1f} s ({exported.events / max(seconds, 1e-9):,.0f} events/s)")
    print_summary(exported.events)


if __name__ == "__main__":
    main()
