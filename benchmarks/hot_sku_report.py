"""The hot-SKU table as text, CSV and a PNG chart (benchmarks/results/ is git-ignored)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from benchmarks.hot_sku import Mode, Oversell

ENGINES = ("shard", "lua", "setnx", "postgres")  # the four engines of the comparison, in the table's order
PROCESS_KINDS = (("shard process", ("ray::InventoryShard",)), ("driver", ("load generator (this process)",)),
                 ("redis-server", ("redis-server",)), ("postgres", ("postgres",)))


def cpu_columns(mode: Mode) -> dict[str, float]:
    """CPU microseconds per acknowledged reservation, by process kind (what is not one of ours is "other")."""
    per = {name: 0.0 for name, _ in PROCESS_KINDS} | {"other": 0.0}
    for label, seconds in mode.cpu.items():
        name = next((n for n, labels in PROCESS_KINDS if label in labels), "other")
        per[name] += 1e6 * seconds / max(mode.reservations, 1)
    return per


def table(result: dict[str, Any]) -> list[str]:
    modes: dict[str, Mode] = result["modes"]
    oversell: dict[str, Oversell] = result["oversell"]
    lua = modes.get("lua")
    lines = [f"{'engine':<58} {'reservations':>12} {'resv/s':>9} {'per round':>17} {'x Lua':>6}  "
             f"{'CPU us/resv: shard':>18} {'driver':>6} {'redis':>6} {'pg':>6} {'other':>6}"]
    for m in modes.values():
        per_round = "/".join(f"{r:,.0f}" for r in m.rounds)
        vs_lua = f"{m.rate / lua.rate:6.2f}" if lua and lua.rate else f"{'-':>6}"
        cpu = cpu_columns(m)
        lines.append(f"{m.name:<58} {m.reservations:>12,} {m.rate:>9,.0f} {per_round:>17} {vs_lua}  "
                     f"{cpu['shard process']:>18.1f} {cpu['driver']:>6.1f} {cpu['redis-server']:>6.1f} "
                     f"{cpu['postgres']:>6.1f} {cpu['other']:>6.1f}")
    lines.append("clients:")
    lines += [f"  {m.name}: {m.client}" for m in modes.values() if m.client]
    shard = modes["shard"]
    if shard.transactions:
        lines.append(f"shard group commit: {shard.reservations / shard.transactions:,.1f} reservations and "
                     f"{shard.commands / shard.transactions:.1f} calls per MULTI/EXEC")
    for key, how in (("sequential", "through Ray"), ("inproc_sequential", "in-process, no Ray")):
        if key in modes and modes[key].latencies:
            lat = sorted(modes[key].latencies)
            p = {q: 1000 * lat[max(0, math.ceil(q / 100 * len(lat)) - 1)] for q in (50, 99)}
            lines.append(f"latency of one durable reservation {how}, one at a time: p50 {p[50]:.2f} ms, "
                         f"p99 {p[99]:.2f} ms")
    lines += ratios(modes)
    lines.append("oversell check (a fresh SKU, N units, more than N buyers at once, each engine's client as above):")
    for key, o in oversell.items():
        lines.append(f"  {modes[key].name if key in modes else key}: stock {o.stock}, buyers {o.buyers}, "
                     f"acknowledged {o.acknowledged}, left {o.remaining}, oversold {o.oversold}: "
                     f"{'OK' if o.ok else 'FAIL'}")
    for name, check in result["checks"].items():
        details = ", ".join(f"{k}={v}" for k, v in check.items() if k != "ok")
        lines.append(f"durability check ({name}): {'OK' if check['ok'] else 'FAIL'} ({details})")
    return lines


def ratios(modes: dict[str, Mode]) -> list[str]:
    shard = modes["shard"]
    lines = []
    for key, label in (("lua", "Lua (same client shape)"), ("lua_single", "Lua (one script per round trip)"),
                       ("lua_records", "Lua doing the shard's writes (same client shape)"),
                       ("postgres", "PostgreSQL"), ("setnx", "SET NX lock")):
        other = modes.get(key)
        if other and other.rate:
            per_round = ", ".join(f"{a / b:.2f}x" for a, b in zip(shard.rounds, other.rounds, strict=False))
            lines.append(f"ratio shard / {label}: {shard.rate / other.rate:.2f}x (per round: {per_round})")
    if "inproc" in modes and shard.rate:
        lines.append(f"what Ray costs the batched shard: in-process / actor {modes['inproc'].rate / shard.rate:.2f}x")
    return lines


def write_csv(path: Path, result: dict[str, Any], when: str, loadavg: str) -> None:
    modes: dict[str, Mode] = result["modes"]
    oversell: dict[str, Oversell] = result["oversell"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["run", "load_average", "key", "engine", "client", "reservations", "seconds", "per_second",
                         "per_round", "x_lua", "cpu_us_shard", "cpu_us_driver", "cpu_us_redis", "cpu_us_postgres",
                         "cpu_us_other", "oversell_stock", "oversell_buyers", "oversell_acknowledged",
                         "oversell_left", "oversold"])
        lua = modes.get("lua")
        for key, m in modes.items():
            cpu = cpu_columns(m)
            o = oversell.get(key)
            writer.writerow([when, loadavg, key, m.name, m.client, m.reservations, round(m.seconds, 3),
                             round(m.rate, 1), " ".join(f"{r:.0f}" for r in m.rounds),
                             round(m.rate / lua.rate, 3) if lua else "",
                             *(round(cpu[k], 2) for k in ("shard process", "driver", "redis-server", "postgres",
                                                          "other")),
                             *((o.stock, o.buyers, o.acknowledged, o.remaining, o.oversold) if o else ("",) * 5)])


def write_png(path: Path, result: dict[str, Any], title: str) -> str | None:
    """A bar per engine (log scale: the lock is 100x below the rest), each round as a dot. None when written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install -e '.[bench]'): no chart"
    modes: dict[str, Mode] = result["modes"]
    keys = [k for k in (*ENGINES, "lua_single", "lua_records", "inproc") if k in modes]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    colors = {"shard": "#2b7bb9", "inproc": "#9cc3e4"}
    for i, key in enumerate(keys):
        m = modes[key]
        ax.bar(i, m.rate, color=colors.get(key, "#b0b0b0" if key not in ENGINES else "#e08a3c"))
        ax.scatter([i] * len(m.rounds), m.rounds, color="black", s=12, zorder=3)
        ax.annotate(f"{m.rate:,.0f}/s", (i, max(m.rate, *m.rounds)), ha="center", va="bottom", fontsize=9,
                    xytext=(0, 4), textcoords="offset points")
    ax.set_xticks(range(len(keys)), [_short(modes[k].name) for k in keys], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("durable reservations per second (log scale)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def _short(name: str) -> str:
    words, lines, line = name.split(), [], ""
    for word in words:
        if len(line) + len(word) > 22:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return "\n".join([*lines, line])
