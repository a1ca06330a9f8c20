"""The lake's schemas against the event contract (docs/events.md), and how entries become tables, without Redis."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from actors.store import Event
from config import Settings
from lake.offsets import Offsets, next_id, parse_id
from lake.schemas import COMMON, EVENT_FIELDS, schema_for
from lake.tables import Row, event_table, partition, rows

CONTRACT = Path(__file__).parents[2] / "docs" / "events.md"
# backticked words in the contract's data cells that are values, or keys inside a field (search filters)
NOT_FIELDS = {"category", "brands", "price_min", "price_max", "rating_min", "in_stock",
              "customer", "admin", "rating", "review_count", "out_of_stock", "invalid_payment_token",
              "card_declined", "insufficient_funds", "expired_card", "total_above_decline_limit",
              "user_declines_at_limit", "paid", "payment_declined", "voided", "refunded", "change", "reset"}
NAMED = re.compile(r"`([a-z_][a-z0-9_]*)(?::[^`]*)?`")  # `total`, or `role: "admin"`


def documented_types() -> dict[str, tuple[set[str], set[str]]]:
    """type -> (fields named in its table row, fields every event of its section carries), from docs/events.md."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for section in re.split(r"\n#{2,3} ", CONTRACT.read_text())[1:]:
        lines = section.splitlines()
        prose = " ".join(line for line in lines if not line.startswith("|"))
        common = {word for sentence in prose.split(". ") if " carries " in sentence
                  for word in re.findall(r"`([a-z_]+)`", sentence)}
        for line in lines:
            if line.startswith("| `"):
                _, types, data, *_ = line.split("|")
                named = set(NAMED.findall(data))
                for event_type in re.findall(r"`([a-z_]+\.[a-z_]+)`", types):
                    found[event_type] = (named, common)
    return found


def test_every_documented_event_type_has_a_schema_and_every_schema_a_documented_type() -> None:
    assert set(documented_types()) == set(EVENT_FIELDS)


@pytest.mark.parametrize("event_type", sorted(EVENT_FIELDS))
def test_a_schema_has_a_column_for_each_documented_field_and_no_other(event_type: str) -> None:
    named, common = documented_types()[event_type]
    columns = set(schema_for(event_type).names) - set(COMMON.names) - {"extra"}
    assert named - NOT_FIELDS <= columns, "a documented field has no column"
    assert columns <= named | common, "a column the contract does not name"


def entry(stream_id: str, event_type: str, data: Any, at: str = "2026-11-25T22:16:19.182Z") -> Row:
    """A stream entry as the writers make it (Event.fields), as the exporter reads it."""
    fields = Event(event_type, {}, at=at).fields()
    fields["data"] = data if isinstance(data, str) else orjson.dumps(data).decode()
    return rows([(stream_id, [value for pair in fields.items() for value in pair])])[0]


def test_entries_are_grouped_by_type_and_the_date_of_their_time_in_stream_order() -> None:
    entries = [entry("1-0", "cart.item_removed", {"user_id": "u", "variant_id": "v"}),
               entry("2-0", "cart.item_removed", {"user_id": "u", "variant_id": "w"}, at="2026-11-26T00:00:00.000Z"),
               entry("3-0", "cart.item_removed", {"user_id": "u", "variant_id": "x"}),
               entry("4-0", "cart.item_removed", {"user_id": "u", "variant_id": "y"}, at="yesterday")]
    groups = partition(entries)
    assert {key: [row[0] for row in group] for key, group in groups.items()} == {
        ("cart.item_removed", "2026-11-25"): ["1-0", "3-0"],
        ("cart.item_removed", "2026-11-26"): ["2-0"],
        ("cart.item_removed", "1970-01-01"): ["4-0"],  # no date in `at`: the stream id's time
    }


def test_an_order_becomes_one_typed_row() -> None:
    items = [{"variant_id": "var_1", "quantity": 2, "price": 1299, "seller_id": None}]
    table = event_table("order.created", "bz:events", [entry("5-1", "order.created", {
        "order_id": "ord_1", "user_id": "usr_1", "status": "placed", "payment_status": "authorized",
        "order_number": "BZ-1", "total": 2598, "currency": "USD", "items": items})])
    assert table.schema.equals(schema_for("order.created"))
    row = table.to_pylist()[0]
    assert (row["stream"], row["stream_id"], row["type"], row["total"], row["items"], row["extra"]) == (
        "bz:events", "5-1", "order.created", 2598, items, None)
    assert row["event_at"].isoformat() == "2026-11-25T22:16:19.182000+00:00"


def test_what_does_not_fit_a_column_is_kept_in_extra() -> None:
    table = event_table("inventory.reserved", "s", [
        entry("1-0", "inventory.reserved", {"shard": 1, "reservation_id": "r1", "lines": {"v": 1},
                                            "expires_at": 17.5, "warehouse": "north"}),
        entry("2-0", "inventory.reserved", {"shard": "two", "reservation_id": "r2", "lines": {"v": 2.5},
                                            "expires_at": 18}),
        entry("3-0", "inventory.reserved", {"shard": True, "reservation_id": "r3", "lines": {}, "expires_at": None}),
        entry("4-0", "inventory.reserved", "not json"),
    ])
    rows = table.to_pylist()
    assert [(r["shard"], r["lines"], r["expires_at"]) for r in rows] == [
        (1, [("v", 1)], 17.5), (None, None, 18.0), (None, [], None), (None, None, None)]
    assert [None if r["extra"] is None else orjson.loads(r["extra"]) for r in rows] == [
        {"warehouse": "north"}, {"shard": "two", "lines": {"v": 2.5}}, {"shard": True}, {"_data": "not json"}]


def test_an_order_item_with_a_field_the_schema_lacks_keeps_it_in_extra() -> None:
    items = [{"variant_id": "v", "quantity": 1, "price": 5, "seller_id": None, "gift": True}]
    row = event_table("order.created", "s", [entry("1-0", "order.created", {"order_id": "o", "items": items})]
                      ).to_pylist()[0]
    assert row["items"] == [{k: v for k, v in items[0].items() if k != "gift"}]
    assert orjson.loads(row["extra"]) == {"items": items}


def test_a_type_the_contract_does_not_list_keeps_its_whole_data_in_extra() -> None:
    table = event_table("gift_card.issued", "bz:events", [entry("1-0", "gift_card.issued", {"product_id": "p"})])
    assert table.schema.names == [*COMMON.names, "extra"]
    assert orjson.loads(table.column("extra")[0].as_py()) == {"product_id": "p"}


def test_a_bad_time_is_null_and_kept() -> None:
    table = event_table("catalog.seeded", "s", [entry("1-0", "catalog.seeded", {"products": 3}, at="soon")])
    assert table.column("event_at").type == pa.timestamp("ms", tz="UTC")
    row = table.to_pylist()[0]
    assert (row["event_at"], orjson.loads(row["extra"])) == (None, {"_at": "soon"})


def test_offsets_order_stream_ids_as_numbers_and_survive_a_round_trip() -> None:
    assert parse_id("10-2") > parse_id("9-30") and next_id("10-2") == "10-3"
    offsets = Offsets("bz:events", "10-2", 7, 2).intending("12-0", ["a.parquet"])
    assert Offsets.from_json(offsets.to_json()) == offsets
    assert offsets.holds("10-2") and not offsets.holds("10-3")
    assert offsets.committing(3) == Offsets("bz:events", "12-0", 10, 3)


def test_entries_with_their_fields_in_another_order_are_read_by_name() -> None:
    assert rows([("1-0", ["type", "x.y", "data", "{}", "id", "evt_1", "at", "2026-11-25T00:00:00.000Z"]),
                 ("2-0", ["data", "{}"])]) == [("1-0", "evt_1", "x.y", "2026-11-25T00:00:00.000Z", "{}"),
                                               ("2-0", None, "untyped", None, "{}")]


def test_the_lake_is_under_the_data_dir_unless_a_folder_or_an_object_store_url_is_given(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).lake_dir == str(tmp_path.absolute() / "lake")
    assert Settings(lake_dir="s3://bucket/lake").lake_dir == "s3://bucket/lake"
    assert Settings(lake_dir="relative/lake").lake_dir == str(Path("relative/lake").absolute())
    assert Settings(events_stream="bz:e", analytics_stream="bz:a").lake_streams == ["bz:e", "bz:a"]
