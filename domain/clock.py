"""Time is UTC; the API speaks ISO 8601.

The shop's business time (`now()`, `now_iso()`, and the `at` of every event) is the real time plus an offset that
is 0 except in a simulation (`BAZAAR_ENV=simulation`, docs/simulation.md): there a traffic simulator moves the
shop's clock forward day by day, so orders and events carry simulated days. The offset lives in one place every
process reads (`follow(source)`, installed by `actors/simulation_clock.py`, refreshed at most every
`REFRESH_SECONDS`); outside a simulation nothing follows it and the cost is one comparison. Durations (`epoch()`:
TTLs, rate limits, token expiry) stay on the real clock, so a simulated jump never expires a reservation or a login.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5

_offset_ms = 0  # how far the business clock is ahead of the real one
_source: Callable[[], float] | None = None  # where the offset (seconds) is read from, in a simulation
_refresh_at = 0.0  # time.monotonic() of the next read from `_source`


def follow(source: Callable[[], float] | None) -> None:
    """Read the offset (seconds) from `source` from now on, at most every REFRESH_SECONDS; None: back to 0."""
    global _source, _refresh_at, _offset_ms
    _source, _refresh_at = source, 0.0
    if source is None:
        _offset_ms = 0


def offset_ms() -> int:
    """Milliseconds the business clock is ahead of the real one (0 outside a simulation)."""
    global _refresh_at, _offset_ms
    if _source is not None and time.monotonic() >= _refresh_at:
        _refresh_at = time.monotonic() + REFRESH_SECONDS
        try:
            _offset_ms = round(_source() * 1000)
        except Exception:  # the store is unreachable for a moment: keep the last offset
            log.warning("could not read the simulation clock", exc_info=True)
    return _offset_ms


def now() -> datetime:
    moment = datetime.now(UTC)
    return moment if _source is None else moment + timedelta(milliseconds=offset_ms())


def now_iso() -> str:
    return iso(now())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch() -> float:
    return time.time()


def iso_from_epoch(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))


def epoch_of(iso_time: str) -> float:
    """Unix epoch seconds of an ISO 8601 time as `iso` writes it."""
    return datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp()
