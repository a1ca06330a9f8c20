"""Where the lake keeps what, on a local folder or an object store (any pyarrow filesystem URL):

    <lake>/events/type=<event type>/date=<YYYY-MM-DD>/part-<stream>-<first stream id>-<last stream id>.parquet
    <lake>/_offsets/<stream>.json      what the lake holds of each stream (lake/offsets.py)

`<stream>` is the stream's name with characters other than letters, digits, `.`, `_` and `-` written `_`
(`bz:events` is `bz_events`). A part file's rows are one stream's entries of one type and date, in stream order.

A local lake is written durably: every file is fsynced, and so is its folder, before `write_parquet` returns; a
small file is replaced atomically (a temporary file, then a rename). On an object store a file appears whole
when its upload completes, so plain writes give the same guarantees.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow.fs import FileSelector, FileSystem, FileType, LocalFileSystem

from lake.files import fsync_path, write_atomically

COMPRESSION = "zstd"
WRITERS = 4  # files written at once


def stream_file_name(stream: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", stream)


class Lake:
    def __init__(self, url: str, filesystem: FileSystem | None = None, durable: bool = True) -> None:
        """`url`: an absolute folder, or an object-store URL such as s3://bucket/lake; or, with `filesystem`
        given, the lake's path in it. `durable=False` skips the fsyncs of parquet files (for a lake that can be
        made again, such as the synthetic one: simulation/synthetic.py)."""
        self.url = url
        self.fs, root = (filesystem, url) if filesystem is not None else FileSystem.from_uri(url)
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)
        self.durable = durable
        self._made: set[str] = set()  # folders known to exist

    @property
    def events_dir(self) -> str:
        return f"{self.root}/events"

    def type_dir(self, event_type: str) -> str:
        return f"{self.events_dir}/type={event_type}"

    def type_files(self, event_type: str) -> list[str]:
        """The Parquet files of one event type, in path order (date, then stream offsets); none yet: []."""
        selector = FileSelector(self.type_dir(event_type), recursive=True, allow_not_found=True)
        return sorted(info.path for info in self.fs.get_file_info(selector)
                      if info.type == FileType.File and info.path.endswith(".parquet"))

    def part_path(self, event_type: str, date: str, stream: str, first: str, last: str) -> str:
        return f"{self.type_dir(event_type)}/date={date}/part-{stream_file_name(stream)}-{first}-{last}.parquet"

    def offsets_path(self, stream: str) -> str:
        return f"{self.root}/_offsets/{stream_file_name(stream)}.json"

    # -- writing ---------------------------------------------------------------------------------------
    def write_parquet(self, files: Iterable[tuple[str, pa.Table]]) -> None:
        """Write every (path, table); all of them are durable when this returns. The files are written by a few
        threads at once (Arrow encodes, the disk syncs and an object store uploads without holding the GIL)."""
        files = list(files)
        folders = {path.rsplit("/", 1)[0] for path, _ in files}
        for folder in folders:
            self._make_dir(folder)
        with ThreadPoolExecutor(WRITERS, thread_name_prefix="lake-write") as writers:
            list(writers.map(self._write_one, files))
            if self.local and self.durable:
                list(writers.map(fsync_path, folders))

    def _write_one(self, file: tuple[str, pa.Table]) -> None:
        path, table = file
        if self.local:
            with open(path, "wb") as out:
                pq.write_table(table, out, compression=COMPRESSION)
                if self.durable:
                    out.flush()
                    os.fsync(out.fileno())
        else:
            with self.fs.open_output_stream(path) as stream:
                pq.write_table(table, stream, compression=COMPRESSION)

    def write_small(self, path: str, content: bytes) -> None:
        """Replace the file at `path` with `content` atomically: a reader sees the old content or the new."""
        folder = path.rsplit("/", 1)[0]
        self._make_dir(folder)
        if not self.local:
            with self.fs.open_output_stream(path) as stream:
                stream.write(content)
            return
        write_atomically(Path(path), content)

    def read_small(self, path: str) -> bytes | None:
        if self.fs.get_file_info(path).type == FileType.NotFound:
            return None
        with self.fs.open_input_stream(path) as stream:
            return bytes(stream.read())

    def delete(self, paths: Iterable[str]) -> int:
        """Delete the files that exist among `paths`; returns how many there were."""
        deleted = 0
        for path in paths:
            if self.fs.get_file_info(path).type == FileType.File:
                self.fs.delete_file(path)
                deleted += 1
        return deleted

    def _make_dir(self, folder: str) -> None:
        if folder in self._made:
            return
        if self.local and not os.path.isdir(folder):
            # the new folders' own entries must be durable too: sync each new one's parent
            missing = []
            parent = folder
            while not os.path.isdir(parent):
                missing.append(parent)
                parent = os.path.dirname(parent)
            os.makedirs(folder, exist_ok=True)
            for made in reversed(missing):
                fsync_path(os.path.dirname(made))
        elif not self.local:
            self.fs.create_dir(folder, recursive=True)
        self._made.add(folder)
