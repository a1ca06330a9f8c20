"""What the lake holds of one stream: the source of truth for exactly-once.

`<lake>/_offsets/<stream>.json` says that every entry of the stream up to `committed` (a stream entry id) is in
the lake's part files, once, and nothing after it is. A batch is written in three steps (lake/exporter.py):
  1. the record names the batch's files under `writing` (an intent, replaced atomically), then the files are
     written;
  2. the record moves `committed` to the batch's last entry and clears `writing` (atomically: this is the commit);
  3. the consumer group acknowledges the entries and the stream is trimmed up to `committed`.
A crash in step 1 leaves files the record names under `writing`: on start they are deleted, and the entries,
never acknowledged, are read again. A crash in step 2 leaves the old record or the new one, nothing between.
A crash in step 3 leaves entries unacknowledged that the lake holds: read again, they are skipped, being at or
before `committed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import orjson

from lake.layout import Lake

NOTHING = "0-0"  # the offset of a stream the lake holds nothing of


def parse_id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def next_id(stream_id: str) -> str:
    """The smallest entry id after `stream_id`."""
    ms, seq = parse_id(stream_id)
    return f"{ms}-{seq + 1}"


@dataclass(frozen=True)
class Writing:
    last: str  # the last entry of the batch being written
    files: tuple[str, ...]  # its part files' paths


@dataclass(frozen=True)
class Offsets:
    stream: str
    committed: str = NOTHING
    events: int = 0  # entries the lake holds of this stream
    files: int = 0  # part files written for them
    writing: Writing | None = field(default=None)

    def holds(self, stream_id: str) -> bool:
        return parse_id(stream_id) <= parse_id(self.committed)

    def intending(self, last: str, files: list[str]) -> Offsets:
        assert self.writing is None, "a batch is still being written: recover first"
        return replace(self, writing=Writing(last, tuple(files)))

    def committing(self, events: int) -> Offsets:
        assert self.writing is not None, "a commit follows an intent"
        return Offsets(self.stream, self.writing.last, self.events + events, self.files + len(self.writing.files))

    def abandoning(self) -> Offsets:
        return replace(self, writing=None)

    def to_json(self) -> bytes:
        writing = None if self.writing is None else {"last": self.writing.last, "files": list(self.writing.files)}
        return orjson.dumps({"stream": self.stream, "committed": self.committed, "events": self.events,
                             "files": self.files, "writing": writing}, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes) -> Offsets:
        record = orjson.loads(raw)
        writing = record.get("writing")
        return cls(record["stream"], record["committed"], record["events"], record["files"],
                   None if writing is None else Writing(writing["last"], tuple(writing["files"])))


def read_offsets(lake: Lake, stream: str) -> Offsets:
    raw = lake.read_small(lake.offsets_path(stream))
    return Offsets(stream) if raw is None else Offsets.from_json(raw)


def write_offsets(lake: Lake, offsets: Offsets) -> None:
    lake.write_small(lake.offsets_path(offsets.stream), offsets.to_json())
