"""Arrow columns for the synthetic lake, built from numpy arrays in C (no Python object per value), and the files
written as the exporter writes them (lake/schemas.py `schema_for`, lake/layout.py `Lake`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lake.layout import Lake
from lake.schemas import FIELD_TYPES, ORDER_ITEM, schema_for

_CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
DAY_MS = 86_400_000


def ulids(prefix: str, ms: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """`<prefix>_` + a ULID per millisecond in `ms` (48 bits of time, 80 seeded random bits), as the shop's ids."""
    n, head = len(ms), np.frombuffer(f"{prefix}_".encode(), dtype=np.uint8)
    chars = np.empty((n, len(head) + 26), dtype=np.uint8)
    chars[:, :len(head)] = head
    for i in range(10):
        chars[:, len(head) + 9 - i] = _CROCKFORD[(ms >> (5 * i)) & 31]
    chars[:, len(head) + 10:] = _CROCKFORD[np.frombuffer(rng.bytes(n * 16), dtype=np.uint8).reshape(n, 16) & 31]
    return fixed_width_strings(chars)


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """A (rows, width) uint8 matrix of ASCII as a string array, one row per value."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))


def stream_ids(ms: np.ndarray, sequence: int) -> pa.Array:
    """Redis stream entry ids `<ms>-<sequence>`."""
    return pc.binary_join_element_wise(pc.cast(pa.array(ms), pa.string()), pa.scalar(str(sequence)), "-")


def strictly_increasing(ms: np.ndarray) -> np.ndarray:
    """Sorted times nudged forward by whole milliseconds where they tie: a stream holds one entry per (ms, seq)."""
    steps = np.arange(len(ms), dtype=np.int64)
    return np.maximum.accumulate(ms - steps) + steps


def order_items(offsets: np.ndarray, variant_ids: pa.Array, quantity: np.ndarray, price: np.ndarray) -> pa.Array:
    """`items` of orders: order i holds the lines offsets[i]:offsets[i+1]."""
    lines = pa.StructArray.from_arrays(
        [variant_ids, pa.array(quantity), pa.array(price), pa.nulls(len(quantity), pa.string())],
        fields=list(ORDER_ITEM))
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), lines)


def as_column(name: str, values: Any, n: int) -> pa.Array:
    """A `data` column of its contract type: an Arrow array, a numpy array, or one value for every row."""
    kind = FIELD_TYPES[name]
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values if values.type == kind else values.cast(kind)
    if isinstance(values, np.ndarray):
        return pa.array(values, kind)
    return pa.repeat(pa.scalar(values, kind), n) if values is not None else pa.nulls(n, kind)


class TypeBatch:
    """One event type's rows of one chunk: times (ms) and `data` columns, before stream ids are given."""

    def __init__(self, event_type: str, stream: str, ms: np.ndarray, columns: dict[str, Any]) -> None:
        self.event_type, self.stream, self.ms, self.columns = event_type, stream, ms.astype(np.int64), columns

    def __len__(self) -> int:
        return len(self.ms)


def write_chunk(lake: Lake, batches: list[TypeBatch], sequence: int, rng: np.random.Generator) -> int:
    """Give each stream's rows unique, time-ordered entry ids, then write one file per (type, date) as the exporter
    does; returns the number of events written."""
    files: list[tuple[str, pa.Table]] = []
    for stream in sorted({batch.stream for batch in batches}):
        mine = [batch for batch in batches if batch.stream == stream and len(batch)]
        if not mine:
            continue
        times = np.concatenate([batch.ms for batch in mine])
        order = np.argsort(times, kind="stable")
        unique = np.empty_like(times)
        unique[order] = strictly_increasing(times[order])
        start = 0
        for batch in mine:
            ms = unique[start:start + len(batch)]
            start += len(batch)
            files += _files(lake, batch, ms, sequence, rng)
    lake.write_parquet(files)
    return sum(table.num_rows for _, table in files)


def _files(lake: Lake, batch: TypeBatch, ms: np.ndarray, sequence: int,
           rng: np.random.Generator) -> list[tuple[str, pa.Table]]:
    order = np.argsort(ms, kind="stable")
    ms = ms[order]
    n, schema = len(ms), schema_for(batch.event_type)
    ids = stream_ids(ms, sequence)
    columns = [ulids("evt", ms, rng), pa.repeat(pa.scalar(batch.event_type), n),
               pa.array(ms, pa.timestamp("ms", tz="UTC")), pa.repeat(pa.scalar(batch.stream), n), ids]
    indices = pa.array(order)
    for field in schema.names[5:-1]:
        column = as_column(field, batch.columns.get(field), len(order))
        columns.append(column.take(indices))
    columns.append(pa.nulls(n, pa.string()))
    table = pa.Table.from_arrays(columns, schema=schema)
    days = ms // DAY_MS
    bounds = np.flatnonzero(np.diff(days)) + 1
    files = []
    for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [n]]), strict=True):
        part = table.slice(int(lo), int(hi - lo))
        first, last = ids[int(lo)].as_py(), ids[int(hi) - 1].as_py()
        date = np.datetime64(int(days[lo]), "D").astype(str)
        part = part.replace_schema_metadata({
            "bazaar.stream": batch.stream, "bazaar.event_type": batch.event_type, "bazaar.first_stream_id": first,
            "bazaar.last_stream_id": last, "bazaar.batch_last_stream_id": last, "bazaar.synthetic": "true"})
        files.append((lake.part_path(batch.event_type, date, batch.stream, first, last), part))
    return files
