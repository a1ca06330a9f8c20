"""Stream entries into Arrow tables: grouped by event type and date, one column at a time.

The exporter's hot path (docs: benchmarks/README.md, "The event lake"): entries are grouped once, each `data` is
parsed once (orjson), and every column is handed to Arrow as one Python list, converted in C. A column whose values
do not all have the Python type its Arrow type wants (an int where a float is due is fine; a float, a bool or a
string where an int is due is not, since Arrow would truncate or refuse) is converted value by value instead, and
what does not fit goes to `extra` under its own name: nothing an event carried is lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import pyarrow as pa

from actors.store import dumps
from lake.schemas import COMMON, FIELD_TYPES, JSON_FIELDS, STRING, data_fields, schema_for

# one stream entry: (stream id, event id, type, at, data), the entry's fields in the order the writers give them
Row = tuple[str, str | None, str, str | None, str | None]
UNTYPED = "untyped"  # the partition of an entry without a `type` (no writer makes one)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def rows(entries: Iterable[tuple[str, list[str]]]) -> list[Row]:
    """Stream entries as Redis sends them, (stream id, [field, value, ...]), as rows. The writers give the fields
    in one order (docs/events.md), which is read by position; any other is read by name."""
    found: list[Row] = []
    append = found.append
    for stream_id, fields in entries:
        if len(fields) == 8 and fields[0] == "id" and fields[2] == "type" and fields[4] == "at" and fields[6] == "data":
            append((stream_id, fields[1], fields[3], fields[5], fields[7]))
        else:
            named = dict(zip(fields[::2], fields[1::2], strict=False))
            append((stream_id, named.get("id"), named.get("type") or UNTYPED, named.get("at"), named.get("data")))
    return found


def partition(found: Iterable[Row]) -> dict[tuple[str, str], list[Row]]:
    """Rows by (event type, UTC date of `at`), each group in stream order. The date is the first ten characters
    of `at` (ISO 8601); a group whose `at` does not start with a date is dated by its stream ids instead."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in found:
        key = (row[2], (row[3] or "")[:10])
        group = groups.get(key)
        if group is None:
            groups[key] = [row]
        else:
            group.append(row)
    for key in [key for key in groups if not _DATE.match(key[1])]:
        for row in groups.pop(key):
            groups.setdefault((key[0], stream_id_date(row[0])), []).append(row)
    return groups


def stream_id_date(stream_id: str) -> str:
    return datetime.fromtimestamp(int(stream_id.split("-")[0]) / 1000, UTC).strftime("%Y-%m-%d")


def event_table(event_type: str, stream: str, group: Sequence[Row]) -> pa.Table:
    """One type's rows as a table of `schema_for(event_type)`."""
    raw = [row[4] for row in group]
    extras: list[dict[str, Any] | None] = [None] * len(group)
    columns: list[pa.Array] = [
        pa.array([row[1] for row in group], STRING),
        pa.repeat(pa.scalar(event_type, STRING), len(group)),
        _times([row[3] for row in group], extras),
        pa.repeat(pa.scalar(stream, STRING), len(group)),
        pa.array([row[0] for row in group], STRING),
    ]
    names = data_fields(event_type)
    if not names:  # a type the contract does not list: its whole `data` is `extra`
        return pa.Table.from_arrays([*columns, pa.array(raw, STRING)], schema=schema_for(event_type))
    datas = _parse(raw, extras)
    for name in names:
        columns.append(_column(name, [data.get(name) for data in datas], extras))
    known = frozenset(names)
    for i, data in enumerate(datas):
        if not data.keys() <= known:
            extra = extras[i] = extras[i] or {}
            extra.update((key, value) for key, value in data.items() if key not in known)
    columns.append(pa.array([None if extra is None else dumps(extra) for extra in extras], STRING))
    return pa.Table.from_arrays(columns, schema=schema_for(event_type))


def _parse(raw: list[str | None], extras: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    try:
        datas = [orjson.loads(text) for text in raw]  # type: ignore[arg-type]
        if all(type(data) is dict for data in datas):
            return datas
    except (orjson.JSONDecodeError, TypeError):
        pass
    parsed = []
    for i, text in enumerate(raw):
        try:
            data = orjson.loads(text)  # type: ignore[arg-type]
        except (orjson.JSONDecodeError, TypeError):
            data = None
        if type(data) is not dict:
            extras[i] = {"_data": text}  # not a JSON object: kept as it was
            data = {}
        parsed.append(data)
    return parsed


def _times(values: list[str | None], extras: list[dict[str, Any] | None]) -> pa.Array:
    kind = COMMON.field("event_at").type
    try:
        return pa.array(values, STRING).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        kept = _one_by_one("_at", values, extras, lambda value: pa.scalar(value, STRING).cast(kind) is not None)
        return pa.array(kept, STRING).cast(kind)


def _column(name: str, values: list[Any], extras: list[dict[str, Any] | None]) -> pa.Array:
    kind = FIELD_TYPES[name]
    if name in JSON_FIELDS:
        return pa.array([None if value is None else dumps(value) for value in values], STRING)
    fits = _fitting(kind)
    array = None
    if _all_fit(kind, values, fits):
        with suppress(pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # e.g. an int past 64 bits
            array = pa.array(values, kind)
    if array is None:
        values = _one_by_one(name, values, extras, lambda value: fits(value) and pa.scalar(value, kind) is not None)
        array = pa.array(values, kind)
    complete = _completeness(kind)
    if complete is not None:
        for i, value in enumerate(values):
            if value is not None and not complete(value):  # typed without the keys it lacks, whole in `extra`
                extra = extras[i] = extras[i] or {}
                extra[name] = value
    return array


def _all_fit(kind: pa.DataType, values: list[Any], fits: Check) -> bool:
    takes = _TAKES.get(kind)
    if takes is None:
        return all(map(fits, values))
    kinds = set(map(type, values))  # a scalar column: one look at the set of its values' types
    kinds.discard(type(None))
    return kinds.issubset(takes)


def _one_by_one(name: str, values: list[Any], extras: list[dict[str, Any] | None],
                convert: Callable[[Any], Any]) -> list[Any]:
    """The column's values that `convert` takes (returns True for); the others are null here and kept in `extra`
    under `name`, as they were."""
    kept = []
    for i, value in enumerate(values):
        if value is not None:
            try:
                taken = convert(value)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
                taken = False
            if not taken:
                extra = extras[i] = extras[i] or {}
                extra[name] = value
                value = None
        kept.append(value)
    return kept


# the Python types a value of a column may have as it is: Arrow would truncate a float into an int column
# (bool is not an int here), and its refusals cost more than this look
_TAKES: dict[pa.DataType, tuple[type, ...]] = {pa.string(): (str,), pa.int64(): (int,), pa.float64(): (float, int),
                                                pa.bool_(): (bool,)}
Check = Callable[[Any], bool]


@cache
def _fitting(kind: pa.DataType) -> Check:
    """Whether a value (None included) has the shape of `kind`, keys a struct does not know aside."""
    if pa.types.is_map(kind):
        item = _fitting(kind.item_type)
        return lambda value: value is None or (type(value) is dict and all(
            type(key) is str and item(v) for key, v in value.items()))
    if pa.types.is_list(kind):
        element = _fitting(kind.value_type)
        return lambda value: value is None or (type(value) is list and all(map(element, value)))
    if pa.types.is_struct(kind):
        fields = [(field.name, _fitting(field.type)) for field in kind]
        return lambda value: value is None or (type(value) is dict and all(
            check(value.get(name)) for name, check in fields))
    takes = _TAKES[kind]
    return lambda value: value is None or type(value) in takes


@cache
def _completeness(kind: pa.DataType) -> Check | None:
    """For a kind holding structs: whether a fitting value has no key its structs lack (Arrow drops those)."""
    if pa.types.is_list(kind):
        element = _completeness(kind.value_type)
        return None if element is None else lambda value: all(item is None or element(item) for item in value)
    if pa.types.is_struct(kind):
        names = frozenset(kind.names)
        return lambda value: value.keys() <= names
    return None
