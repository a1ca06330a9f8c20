"""The persistence path's encoding, without Redis: what a group commit sends (the real round trip is in
tests/integration)."""

from __future__ import annotations

import pickle

import hiredis
import orjson

from actors.event_ids import new_event_id, now_iso_ms
from actors.inventory import Results
from actors.store import Changes
from domain.errors import Conflict
from domain.ids import is_id
from domain.inventory import Reservation


def test_a_hash_is_written_with_one_hset_and_one_hdel_whatever_the_number_of_fields() -> None:
    changes = Changes()
    for i in range(5):
        changes.hset("h", f"f{i}", {"n": i})
    changes.hdel("h", "f1")
    changes.hset("other", "x", "plain")
    assert changes.commands() == [
        ("HSET", "h", "f0", b'{"n":0}', "f2", b'{"n":2}', "f3", b'{"n":3}', "f4", b'{"n":4}'),
        ("HDEL", "h", "f1"),
        ("HSET", "other", "x", "plain"),
    ]


def test_merged_changes_keep_the_last_value_per_field_and_every_event_in_order() -> None:
    first, second = Changes(), Changes()
    first.hset("h", "a", 1)
    first.hset("h", "b", 1)
    first.zadd("z", "m", 1.5)
    first.emit("x.one", n=1)
    second.hdel("h", "a")
    second.zrem("z", "m")
    second.set("s", {"k": "v"}, ttl_seconds=2)
    second.emit("x.two", n=2)
    first.merge(second)
    assert first.commands() == [("HSET", "h", "b", b"1"), ("HDEL", "h", "a"), ("SET", "s", b'{"k":"v"}', "PX", 2000),
                                ("ZREM", "z", "m")]
    assert [e.type for e in first.events] == ["x.one", "x.two"]


def test_events_are_packed_exactly_as_hiredis_packs_their_xadd() -> None:
    changes = Changes()
    changes.emit("inventory.reserved", reservation_id="r-1", lines={"var-é": 1}, expires_at=1795644979.182, shard=0)
    changes.emit("search.performed", query="日本 tea", total=3)
    expected = b"".join(hiredis.pack_command(("XADD", "bz:events", "MAXLEN", "~", 1000, "*", *pairs))
                        for pairs in ([x for kv in e.fields().items() for x in kv] for e in changes.events))
    assert changes.packed_events("bz:events", 1000) == expected
    assert orjson.loads(changes.events[0].fields()["data"]) == {
        "expires_at": 1795644979.182, "lines": {"var-é": 1}, "reservation_id": "r-1", "shard": 0}


def test_event_ids_are_unique_time_ordered_ulids_and_times_are_iso_milliseconds() -> None:
    ids = [new_event_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert all(is_id(i, "evt") for i in ids)
    at = now_iso_ms()
    assert len(at) == 24 and at.endswith("Z") and at[10] == "T" and at[19] == "."


def test_a_batch_of_results_pickles_to_equal_reservations_and_errors() -> None:
    refused = Conflict("out_of_stock", "Not enough stock for some items", {"items": []})
    results = Results([Reservation("r1", {"tee": 2}, 60.0, "held", 1.0), refused, None])
    again = pickle.loads(pickle.dumps(results, protocol=5))
    assert isinstance(again, list) and again[0] == results[0] and again[2] is None
    assert isinstance(again[1], Conflict) and again[1].code == "out_of_stock"
