"""The recommendation store: versions switched to whole, and a replica's copy following CURRENT."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lake.layout import Lake
from recsys import store
from recsys.serving import LiveStore
from recsys.training import Recommendations


def recommendations(tag: str) -> Recommendations:
    return Recommendations({"usr_a": [f"{tag}-1"]}, {"prd_x": [f"{tag}-2"]}, [f"{tag}-3"])


def test_a_replica_serves_nothing_until_a_store_is_published_then_follows_current(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    live = LiveStore(lake.url, reload_seconds=0)
    assert asyncio.run(live.current()) is None
    first = store.publish(lake, recommendations("one"), {"served": "test"})
    loaded = asyncio.run(live.current())
    assert loaded is not None and loaded.version == first and loaded.for_user("usr_a") == ["one-1"]
    assert loaded.related("prd_x") == ["one-2"] and loaded.related("one-1") == [] and loaded.for_user("usr_b") == []
    second = store.publish(lake, recommendations("two"), {})
    loaded = asyncio.run(live.current())
    assert loaded is not None and loaded.version == second and loaded.popular == ["two-3"]


def test_a_replica_looks_for_a_new_version_at_most_every_reload_interval(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    first = store.publish(lake, recommendations("one"), {})
    live = LiveStore(lake.url, reload_seconds=3600)
    assert asyncio.run(live.current()).version == first  # type: ignore[union-attr]
    store.publish(lake, recommendations("two"), {})
    assert asyncio.run(live.current()).version == first  # type: ignore[union-attr]


def test_a_version_pruned_under_a_replica_keeps_the_store_it_has(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    first = store.publish(lake, recommendations("one"), {})
    live = LiveStore(lake.url, reload_seconds=0)
    assert asyncio.run(live.current()).version == first  # type: ignore[union-attr]
    lake.write_small(store.current_path(lake), b"20990101T000000000Z-gone")  # names a version with no files
    assert asyncio.run(live.current()).version == first  # type: ignore[union-attr]


def test_metrics_are_kept_beside_the_store(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "lake"))
    version = store.publish(lake, recommendations("one"), {"served": "matrix factorisation"})
    assert store.read_metrics(lake, version) == {"version": version, "served": "matrix factorisation"}
    assert store.current_version(lake) == version and store.versions(lake) == [version]
