"""The search benchmark's printed tables and its JSON figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.search_queries import KINDS, BenchQuery, Timings


def _cells(t: Timings | None, kind: str | None, count: bool = True) -> str:
    if t is None:
        return f"{'-':>5} {'-':>6} {'-':>6}" if count else f"{'-':>6} {'-':>6}"
    n = len(t.samples[kind]) if kind else len(t.every())
    figures = f"{t.percentile(50, kind):6.1f} {t.percentile(99, kind):6.1f}"
    return f"{n:>5} {figures}" if count else figures


def _rows(queries: list[BenchQuery]) -> list[tuple[str | None, str, int]]:
    return [(kind, kind or "all", sum(q.kind == kind for q in queries) if kind else len(queries))
            for kind in (*KINDS, None)]


def latency_table(queries: list[BenchQuery], tantivy: Timings, http: dict[str, Any] | None,
                  clients: int) -> list[str]:
    """tantivy: in-process, then through HTTP at 1 and at `clients` clients (the client's time and the
    deployment's own took_ms)."""
    h = http or {}
    lines = ["tantivy search latency, ms (nearest-rank p50 p99); n = timed searches; every search computes all "
             "four facets",
             f"{'':<12} {'':>7} | {'in-process':^18} | {'HTTP, 1 client':^32} | {f'HTTP, {clients} clients':^32}",
             f"{'':<12} {'':>7} | {'':^18} | {'end to end':^18} {'took_ms':^13} | {'end to end':^18} "
             f"{'took_ms':^13}",
             f"{'kind':<12} {'queries':>7} | {'n':>5} {'p50':>6} {'p99':>6} | {'n':>5} {'p50':>6} {'p99':>6} "
             f"{'p50':>6} {'p99':>6} | {'n':>5} {'p50':>6} {'p99':>6} {'p50':>6} {'p99':>6}"]
    for kind, name, number in _rows(queries):
        lines.append(f"{name:<12} {number:>7} | {_cells(tantivy, kind)} | {_cells(h.get('one_e2e'), kind)} "
                     f"{_cells(h.get('one_inside'), kind, False)} | {_cells(h.get('e2e'), kind)} "
                     f"{_cells(h.get('inside'), kind, False)}")
    return lines


def baseline_table(queries: list[BenchQuery], tantivy: Timings, pg: Timings | None) -> list[str]:
    """tantivy in-process against PostgreSQL full-text search, one query at a time, same rounds."""
    lines = ["the baseline, one query at a time in alternating rounds, ms (nearest-rank p50 p99)",
             f"{'':<12} {'':>7} | {'tantivy in-process':^18} | {'PostgreSQL FTS':^18} | {'PG / tantivy':^15}",
             f"{'kind':<12} {'queries':>7} | {'n':>5} {'p50':>6} {'p99':>6} | {'n':>5} {'p50':>6} {'p99':>6} | "
             f"{'p50':>7} {'p99':>7}"]
    for kind, name, number in _rows(queries):
        ratio = (f"{pg.percentile(50, kind) / tantivy.percentile(50, kind):6.1f}x "
                 f"{pg.percentile(99, kind) / tantivy.percentile(99, kind):6.1f}x") if pg else f"{'-':>7} {'-':>7}"
        lines.append(f"{name:<12} {number:>7} | {_cells(tantivy, kind)} | {_cells(pg, kind)} | {ratio}")
    return lines


def per_query(queries: list[BenchQuery], tantivy: Timings, pg: Timings | None) -> list[str]:
    lines = [f"{'query':<72} {'kind':<11} {'hits tantivy':>12} {'hits PG':>9} {'p50 ms':>7} {'PG p50':>7}"]
    for q in queries:
        pg_total = f"{pg.totals.get(q.label, 0):>9,}" if pg else f"{'-':>9}"
        pg_p50 = f"{pg.percentile(50, label=q.label):7.1f}" if pg else f"{'-':>7}"
        lines.append(f"{q.label[:72]:<72} {q.kind:<11} {tantivy.totals[q.label]:>12,} {pg_total} "
                     f"{tantivy.percentile(50, label=q.label):7.1f} {pg_p50}")
    return lines


def save(path: Path, figures: dict[str, Any]) -> None:
    """Percentiles per kind and per query (not raw samples) as JSON; benchmarks/results/ is git-ignored."""

    def plain(value: Any) -> Any:
        if isinstance(value, Timings):
            return {"seconds": round(value.seconds, 3), "totals": value.totals,
                    "kinds": {k: {"n": len(value.samples[k]), **{f"p{q}_ms": round(value.percentile(q, k), 3)
                                                                for q in (50, 90, 99)}} for k in KINDS},
                    "all": {f"p{q}_ms": round(value.percentile(q), 3) for q in (50, 90, 99)},
                    "queries": {label: round(value.percentile(50, label=label), 3) for label in value.by_query}}
        if hasattr(value, "cpu_rows"):  # a search_http.Stage
            return {"name": value.name, "clients": value.clients, "requests": value.requests,
                    "per_second": round(value.rate, 1), "errors": value.errors,
                    "client_cpu_seconds": round(value.client_cpu, 3), "e2e": plain(value.e2e),
                    "cpu_ms_per_request": {label: round(ms, 3) for label, ms, _ in value.cpu_rows}}
        return str(value)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=plain))
