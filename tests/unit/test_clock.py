"""The business clock: real time, except in a simulation where it follows a shared offset."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from actors.event_ids import now_iso_ms
from domain import clock


@pytest.fixture
def simulated() -> Iterator[list[float]]:
    offset = [0.0]
    clock.follow(lambda: offset[0])
    yield offset
    clock.follow(None)


def test_outside_a_simulation_the_clock_is_the_real_one() -> None:
    assert clock.offset_ms() == 0
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_a_simulation_moves_business_time_and_event_times_but_not_durations(simulated: list[float]) -> None:
    simulated[0] = 3 * 86400.0
    clock.follow(lambda: simulated[0])  # read at once, as a fresh process would
    ahead = clock.now() - datetime.now(UTC)
    assert timedelta(days=3) - timedelta(seconds=1) < ahead < timedelta(days=3, seconds=1)
    assert now_iso_ms()[:10] == clock.now_iso()[:10] == (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    assert abs(clock.epoch() - datetime.now(UTC).timestamp()) < 1  # TTLs and rate limits stay real


def test_the_offset_is_read_at_most_every_refresh_period_and_kept_when_unreadable(simulated: list[float]) -> None:
    reads = []

    def source() -> float:
        reads.append(1)
        if len(reads) > 1:
            raise ConnectionError("redis restarting")
        return 60.0

    clock.follow(source)
    for _ in range(100):
        clock.now()
    assert len(reads) == 1 and clock.offset_ms() == 60_000
    clock._refresh_at = 0.0  # the refresh period has passed
    assert clock.offset_ms() == 60_000 and len(reads) == 2
