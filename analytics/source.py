"""The lake's events, as DuckDB tables a metric's SQL reads: one per event type, only the columns it needs.

Two readers give the same tables:
- `ray` (the default): Ray Data reads each type's partition (`ray.data.read_parquet` over `events/type=<type>`,
  only the wanted columns), in parallel over the cluster's CPUs, and the Arrow blocks are handed to DuckDB without a
  copy. This is the reader a pipeline uses as a Ray Job, and the one that reads an object-store lake.
- `duckdb`: DuckDB reads the same files itself (a local lake only), for comparison (benchmarks/analytics_run.py).

A type the lake holds no file of yet (no `product.viewed` before the views land) is an empty table of the same
columns, so every metric still runs (zero views). A column a type's files lack (an event written before its
schema listed the field) is read from `extra`, where the lake keeps such fields, else null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lake.layout import Lake
from lake.schemas import COMMON, FIELD_TYPES

ORDER_ITEMS = FIELD_TYPES["items"]


@dataclass(frozen=True)
class Source:
    """One staging table: `name` in SQL, read from the lake's `event_type` partition."""

    name: str
    event_type: str
    columns: tuple[tuple[str, pa.DataType], ...]


def _cols(*names: str) -> tuple[tuple[str, pa.DataType], ...]:
    kinds = {**{field.name: field.type for field in COMMON}, **FIELD_TYPES}
    return tuple((name, kinds[name]) for name in names)


SOURCES = (
    Source("order_created", "order.created", _cols("event_at", "order_id", "user_id", "total", "currency", "items")),
    Source("order_cancelled", "order.cancelled", _cols("event_at", "order_id")),
    Source("cart_added", "cart.item_added", _cols("event_at", "user_id", "product_id", "variant_id")),
    Source("user_registered", "user.registered", _cols("event_at", "user_id")),
    Source("category_created", "category.created", _cols("category_id", "name")),
    Source("product_created", "product.created", _cols("product_id", "category_id", "variant_ids")),
    Source("product_updated", "product.updated", _cols("product_id", "added_variant_ids")),
    Source("inventory_created", "inventory.created", _cols("event_at", "stream_id", "variant_id", "on_hand")),
    Source("inventory_adjusted", "inventory.adjusted",
           _cols("event_at", "stream_id", "variant_id", "delta", "on_hand")),
    Source("inventory_shipped", "inventory.shipped", _cols("event_at", "stream_id", "lines")),
    Source("product_viewed", "product.viewed", _cols("event_at", "product_id", "user_id")),
    Source("search_performed", "search.performed", _cols("event_at", "query", "took_ms", "zero_result")),
)
BY_NAME = {source.name: source for source in SOURCES}


def connect(path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose dates are UTC dates, as the lake's partitions are."""
    connection = duckdb.connect(path)
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def load(connection: duckdb.DuckDBPyConnection, lake: Lake, names: tuple[str, ...] | None = None,
         reader: str = "ray", progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Make each source (all, or those `names`d) a table of `connection`; returns the events read per source."""
    counts = {}
    for source in SOURCES if names is None else tuple(BY_NAME[name] for name in names):
        files = lake.type_files(source.event_type)
        present = _present(lake, files)
        raw = f"raw_{source.name}"
        if not files:
            connection.register(raw, pa.table({"extra": pa.array([], pa.string())}))
        elif reader in ("ray", "ray-data"):
            connection.register(raw, _read_with_ray(lake, files, present, source, reader))
        elif reader == "duckdb" and lake.local:
            wanted = [f'"{name}"' for name, _ in source.columns if name in present] + ["extra"] * ("extra" in present)
            listed = ", ".join(f"'{path}'" for path in files)
            connection.execute(f"CREATE OR REPLACE TEMP VIEW {raw} AS SELECT {', '.join(wanted)} "
                               f"FROM read_parquet([{listed}], union_by_name = true)")
        else:
            raise ValueError(f"reader {reader!r} cannot read the lake at {lake.url}")
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {source.name} AS SELECT "
                           f"{', '.join(_select(name, kind, present) for name, kind in source.columns)} FROM {raw}")
        counts[source.name] = connection.execute(f"SELECT count(*) FROM {source.name}").fetchall()[0][0]
        connection.unregister(raw) if reader != "duckdb" or not files else connection.execute(f"DROP VIEW {raw}")
        if progress is not None:
            progress(source.name, counts[source.name])
    return counts


def _present(lake: Lake, files: list[str]) -> set[str]:
    """The columns of the type's files: the first file's and the last's (a schema grows, it never loses a column)."""
    names: set[str] = set()
    for path in {files[0], files[-1]} if files else set():
        with lake.fs.open_input_file(path) as handle:
            names.update(pq.read_schema(handle).names)
    return names


def _read_with_ray(lake: Lake, files: list[str], present: set[str], source: Source, reader: str) -> pa.Table:
    import ray

    wanted = [name for name, _ in source.columns if name in present] + ["extra"] * ("extra" in present)
    if reader == "ray-data":  # measured: a fixed 5-10 s per dataset on 2 cores (benchmarks/README.md)
        dataset = ray.data.read_parquet(files, filesystem=lake.fs, partitioning=None).select_columns(wanted)
    else:  # one Ray task per share of the type's date partitions, handed to Ray Data as its blocks
        chunks = max(1, min(len(files), int(ray.available_resources().get("CPU", 1)) * 2))
        dataset = ray.data.from_arrow_refs([_read_files.remote(lake.url, files[i::chunks], wanted)
                                            for i in range(chunks)])
    tables = [table for table in ray.get(dataset.to_arrow_refs()) if table.num_rows]
    if not tables:
        return pa.table({name: pa.array([], pa.string()) for name in wanted})
    return pa.concat_tables(tables, promote_options="permissive")


def _read_files_here(url: str, paths: list[str], columns: list[str]) -> pa.Table:
    lake = Lake(url)
    tables = []
    for path in paths:
        with lake.fs.open_input_file(path) as handle:
            names = set(pq.read_schema(handle).names)
            tables.append(pq.read_table(handle, columns=[name for name in columns if name in names]))
    return pa.concat_tables(tables, promote_options="permissive")


def _remote_reader() -> Any:
    import ray

    return ray.remote(num_cpus=1)(_read_files_here)


class _Lazy:
    """`ray.remote` applied where the tasks are spawned, not at import (this module is imported without Ray)."""

    def __init__(self) -> None:
        self.task: Any = None

    def remote(self, *args: Any) -> Any:
        if self.task is None:
            self.task = _remote_reader()
        return self.task.remote(*args)


_read_files = _Lazy()


def _select(name: str, kind: pa.DataType, present: set[str]) -> str:
    sql_type = _SQL_TYPES.get(str(kind))
    if name == "event_at" and name in present:  # the connection's time zone is UTC (`connect`): UTC wall time
        return 'CAST("event_at" AS TIMESTAMP) AS "event_at"'
    if name in present:
        return f'"{name}"'
    if "extra" in present and sql_type is not None:
        return f"TRY_CAST(json_extract_string(extra, '$.{name}') AS {sql_type}) AS \"{name}\""
    return f'CAST(NULL AS {sql_type or _NESTED[name]}) AS "{name}"'


_SQL_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "double": "DOUBLE", "bool": "BOOLEAN",
              "timestamp[ms, tz=UTC]": "TIMESTAMP"}
_NESTED = {"items": "STRUCT(variant_id VARCHAR, quantity BIGINT, price BIGINT, seller_id VARCHAR)[]",
           "variant_ids": "VARCHAR[]", "added_variant_ids": "VARCHAR[]", "lines": "MAP(VARCHAR, BIGINT)"}
