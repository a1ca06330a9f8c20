"""Answers from the analytics run's DuckDB file, for the admin API (`GET /v1/admin/analytics`).

The file is replaced whole by each run (a rename over the old one), so a reader keeps one read-only connection
and opens the new file when the path's inode or mtime changes; a connection already open keeps reading the file
it opened, whole, until it is dropped. Before the first run there is no file: `Unavailable`
(`analytics_unavailable`, 503).
"""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb

from domain.errors import Invalid, Unavailable

Granularity = Literal["day", "week", "month"]
RANGE_HEADLINE = """
SELECT (SELECT sum(shoppers_with_cart) FROM conversion WHERE day BETWEEN $start AND $end) AS shoppers_with_cart,
  (SELECT sum(purchasers) FROM conversion WHERE day BETWEEN $start AND $end) AS purchasers,
  (SELECT sum(searches) FROM search_daily WHERE day BETWEEN $start AND $end) AS searches,
  (SELECT sum(zero_results) FROM search_daily WHERE day BETWEEN $start AND $end) AS zero_results"""


class AnalyticsReport:
    def __init__(self, database: Path) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._opened: tuple[int, int] | None = None  # (inode, mtime) of the file the connection reads

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the newest complete run's file (a cursor per request: one connection, many threads)."""
        try:
            found = os.stat(self.database)
        except FileNotFoundError:
            raise Unavailable("analytics_unavailable", "No analytics run has produced its database yet: run "
                              "`python -m pipelines.analytics` (make analytics)", {"retry_after": 60}) from None
        with self._lock:
            if self._connection is None or self._opened != (found.st_ino, found.st_mtime_ns):
                # A connection of its own attaching the file: `duckdb.connect(path)` would hand back the database
                # instance DuckDB keeps per path while the old connection lives, still reading the replaced file.
                connection = duckdb.connect()
                connection.execute("ATTACH ? AS run (READ_ONLY)", [str(self.database)])
                self._connection, self._opened = connection, (found.st_ino, found.st_mtime_ns)
            cursor = self._connection.cursor()
        cursor.execute("USE run")  # per cursor: a cursor is a connection of its own
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def answer(self, start: date, end: date, granularity: Granularity) -> dict[str, Any]:
        """Revenue, orders and AOV per period (periods starting from `start`'s own, up to `end`), the range's
        headline figures (from the daily tables) and the whole lake's summary."""
        if end < start:
            raise Invalid("invalid_range", "`from` must not be after `to`", {"from": str(start), "to": str(end)})
        cursor = self.cursor()
        try:
            window = {"start": start, "end": end}
            series = _records(cursor.execute(
                "SELECT period, currency, orders, revenue, aov FROM revenue WHERE granularity = $granularity "
                "AND period BETWEEN CAST(date_trunc($granularity, CAST($start AS DATE)) AS DATE) AND $end "
                "ORDER BY period, currency", {**window, "granularity": granularity}))
            totals = _records(cursor.execute(
                "SELECT currency, sum(orders) AS orders, sum(revenue) AS revenue, "
                "CAST(round(sum(revenue) / sum(orders)) AS BIGINT) AS aov FROM revenue "
                "WHERE granularity = 'day' AND period BETWEEN $start AND $end GROUP BY currency ORDER BY currency",
                window))
            counts = _records(cursor.execute(RANGE_HEADLINE, window))[0]
            summary = _records(cursor.execute("SELECT * FROM summary"))[0]
        finally:
            cursor.close()
        headline = {"totals": totals, **counts,
                    "conversion_rate": _share(counts["purchasers"], counts["shoppers_with_cart"]),
                    "zero_result_rate": _share(counts["zero_results"], counts["searches"])}
        return {"from": start.isoformat(), "to": end.isoformat(), "granularity": granularity, "series": series,
                "headline": headline, "overall": summary}


def _share(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


def _records(result: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [column[0] for column in result.description or ()]
    return [{name: _plain(value) for name, value in zip(names, row, strict=True)} for row in result.fetchall()]


def _plain(value: Any) -> Any:
    """JSON-ready: dates and times as ISO 8601 (times are UTC), Decimal sums as int."""
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text + "Z" if "T" in text and not text.endswith(("Z", "+00:00")) else text
    if type(value).__name__ == "Decimal":
        return int(value)
    return value
