"""CPU time per process over a measured stretch, read from /proc: where a checkout's CPU goes.

A snapshot is taken before and after; the difference of each process's utime + stime, grouped by what the process
is (`ray::InventoryShard`, `ray::ServeReplica:bazaar:api`, redis-server, haproxy, raylet, the load generator ...),
divided by the number of operations done in between, is that process kind's CPU budget per operation.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    label: str
    cpu_seconds: float


def _label(pid: int, cmdline: str, comm: str) -> str:
    if pid == os.getpid():
        return "load generator (this process)"
    if cmdline.startswith("ray::"):
        name = cmdline.split()[0][5:]
        # an actor's title is "ray::Class.method" while it runs a method: group by class
        return "ray::" + re.sub(r"\.[A-Za-z_]+$", "", name)
    if "aiosmtpd" in cmdline:
        return "mail server (aiosmtpd sink)"
    for known in ("redis-server", "haproxy", "raylet", "gcs_server", "dashboard", "log_monitor", "postgres"):
        if known in cmdline or comm.startswith(known):
            return known
    if "default_worker.py" in cmdline:
        return "ray worker (idle)"
    return comm


def snapshot(root: int | None = None) -> dict[int, Sample]:
    """CPU seconds so far of this process and everything it started (Ray's processes, actors, redis-server,
    HAProxy), not of other programs on a shared machine. `root`: another tree's root pid."""
    root = os.getpid() if root is None else root
    found: dict[int, tuple[int, str, str, float]] = {}  # pid -> (parent, cmdline, comm, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(entry.name)] = (int(fields[1]), cmdline, comm, (int(fields[11]) + int(fields[12])) / TICKS)
    samples: dict[int, Sample] = {}
    for pid, (_, cmdline, comm, cpu) in found.items():
        ancestor, hops = pid, 0
        while ancestor not in (root, 0, 1) and ancestor in found and hops < 64:
            ancestor, hops = found[ancestor][0], hops + 1
        if ancestor == root:
            samples[pid] = Sample(_label(pid, cmdline, comm), cpu)
    return samples


def budget(before: dict[int, Sample], after: dict[int, Sample], operations: int,
           min_share: float = 0.005) -> list[tuple[str, float, int]]:
    """[(process kind, CPU ms per operation, processes)], largest first; kinds under `min_share` of the total
    are summed into "other"."""
    per_label: dict[str, float] = defaultdict(float)
    count: dict[str, set[int]] = defaultdict(set)
    for pid, sample in after.items():
        used = sample.cpu_seconds - (before[pid].cpu_seconds if pid in before else 0.0)
        if used > 0:
            per_label[sample.label] += used
            count[sample.label].add(pid)
    total = sum(per_label.values()) or 1.0
    rows: list[tuple[str, float, int]] = []
    other = 0.0
    for label, seconds in sorted(per_label.items(), key=lambda kv: -kv[1]):
        if seconds / total < min_share:
            other += seconds
        else:
            rows.append((label, 1000 * seconds / max(operations, 1), len(count[label])))
    if other:
        rows.append(("other", 1000 * other / max(operations, 1), 0))
    return rows


def report(rows: list[tuple[str, float, int]], unit: str) -> list[str]:
    total = sum(ms for _, ms, _ in rows)
    lines = [f"  {'process kind':<44} {'procs':>5} {'CPU ms/' + unit:>14} {'share':>6}"]
    for label, ms, procs in rows:
        lines.append(f"  {label:<44} {procs or '':>5} {ms:>14.2f} {100 * ms / total:>5.0f}%")
    lines.append(f"  {'total':<44} {'':>5} {total:>14.2f}")
    return lines
