"""GET /v1/search through the real Serve app, at N concurrent clients, over an index built beforehand.

Only the Serve app is deployed (as `make run` serves it: behind Serve's HAProxy ingress unless `haproxy=False`);
the catalog actors and the search indexer are not started, because the indexer would rebuild the index from this
empty store. Redis runs because every search is recorded on the event stream.

Each client is a thread with one keep-alive `http.client` connection (cheap for the load generator, which shares
the 2 cores with the server); clients walk the query set from different offsets, so every kind is in flight at
once. Per request: the client's end-to-end time and the time the app reports (`took_ms`); per stage: the CPU
every process of this benchmark's tree used (from /proc), divided by the requests, and the load generator's own.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tqdm import tqdm

from benchmarks import cpu_budget
from benchmarks.core import local_ray
from benchmarks.search_queries import BenchQuery, Timings
from config import Settings, load_settings
from serve.local_redis import LocalRedis, free_port

HEALTHZ = BenchQuery("no-op", "GET /healthz", {})


@contextmanager
def serve_app(data_dir: Path, search_dir: Path, haproxy: bool = True, **overrides: Any) -> Iterator[Settings]:
    """Our own redis-server, a local Ray (2 CPUs) and the Serve app over `search_dir`; all stopped on the way
    out. `overrides` are settings (api_replicas=2, ...)."""
    server = LocalRedis(data_dir / "redis", free_port(), appendfsync="everysec").start()
    try:
        settings = load_settings(env="test", data_dir=data_dir, redis_url=server.url, search_dir=search_dir,
                                 ray_namespace=f"bazaar-search-bench-{os.getpid()}", http_port=free_port(),
                                 haproxy=haproxy, jwt_secret=secrets.token_urlsafe(48), **overrides)
        with local_ray(settings, data_dir, haproxy):
            from serve.app import deploy

            deploy(settings)
            yield settings
    finally:
        server.stop()


def path_of(query: BenchQuery) -> str:
    return "/v1/search?" + urlencode(query.params, doseq=True) if query is not HEALTHZ else "/healthz"


class Client:
    """One keep-alive connection; `get` returns (status, seconds to the last byte, parsed body or None)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> tuple[int, float, Any]:
        started = time.perf_counter()
        try:
            self.conn.request("GET", path)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 0, time.perf_counter() - started, None
        elapsed = time.perf_counter() - started
        return response.status, elapsed, json.loads(body) if response.status == 200 else None

    def close(self) -> None:
        self.conn.close()


@dataclass
class Stage:
    """One stage of load: latencies (the client's, and the app's `took_ms` for searches), failures, and CPU."""

    name: str
    clients: int
    e2e: Timings = field(default_factory=Timings)
    inside: Timings = field(default_factory=Timings)
    errors: dict[int, int] = field(default_factory=dict)
    client_cpu: float = 0.0  # CPU seconds of the load generator (this process)
    cpu_rows: list[tuple[str, float, int]] = field(default_factory=list)  # cpu_budget rows per request

    @property
    def requests(self) -> int:
        return len(self.e2e.every())

    @property
    def rate(self) -> float:
        return self.requests / self.e2e.seconds if self.e2e.seconds else 0.0

    def summary(self) -> str:
        share = 100 * self.client_cpu / self.e2e.seconds if self.e2e.seconds else 0.0
        return (f"{self.name}: {self.requests:,} in {self.e2e.seconds:.1f}s = {self.rate:,.1f}/s; "
                f"p50 {self.e2e.percentile(50):.1f} ms, p99 {self.e2e.percentile(99):.1f} ms; errors: "
                f"{self.errors or 'none'}; the load generator used {share:.0f}% of a core")


def measure(port: int, queries: list[BenchQuery], clients: int, per_client: int, warmup: int = 2,
            name: str = "") -> Stage:
    """`clients` threads, each `warmup` untimed then `per_client` timed requests over `queries` (the query set,
    or [HEALTHZ]). CPU is counted over the timed part only, by process of this benchmark's process tree."""
    stage = Stage(name or f"{queries[0].label if len(queries) == 1 else 'GET /v1/search'}, {clients} clients",
                  clients)
    lock = threading.Lock()
    warm = threading.Barrier(clients + 1)
    go = threading.Barrier(clients + 1)
    bar = tqdm(total=clients * (warmup + per_client), desc=f"  {stage.name}", unit="req", leave=False,
               mininterval=0.5)

    def work(number: int) -> None:
        client = Client(port)
        try:
            for step in range(warmup + per_client):
                if step == warmup:
                    warm.wait()
                    go.wait()
                query = queries[(number * 7 + step) % len(queries)]
                status, seconds, body = client.get(path_of(query))
                bar.update(1)
                with lock:
                    if status != 200:
                        stage.errors[status] = stage.errors.get(status, 0) + 1
                    elif step >= warmup:
                        stage.e2e.add(query, seconds, int(body.get("total", 0)))
                        if "took_ms" in body:
                            stage.inside.add(query, body["took_ms"] / 1000, body["total"])
        finally:
            client.close()

    with bar:
        threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(clients)]
        for thread in threads:
            thread.start()
        warm.wait()  # every client has warmed up: the timed part starts together
        before, cpu, started = own_processes(), time.process_time(), time.perf_counter()
        go.wait()
        for thread in threads:
            thread.join()
        stage.e2e.seconds = stage.inside.seconds = time.perf_counter() - started
        stage.client_cpu = time.process_time() - cpu
        stage.cpu_rows = cpu_budget.budget(before, own_processes(), stage.requests)
    return stage


def own_processes() -> dict[int, cpu_budget.Sample]:
    """cpu_budget's snapshot, of this process and its descendants only (the machine is shared with others)."""
    samples = cpu_budget.snapshot()
    parents: dict[int, int] = {}
    for pid in samples:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        parents[pid] = int(stat[stat.rindex(")") + 2:].split()[1])
    mine = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        grew = bool(found)
        mine |= found
    return {pid: sample for pid, sample in samples.items() if pid in mine}


def wait_until(check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
    """Poll `check` until it returns something truthy (the app opens a large index first)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f}s")
        time.sleep(0.5)  # polling with a deadline, not synchronization


def total_of(port: int, query: BenchQuery) -> int | None:
    """The query's total as the app answers it, None while it does not answer."""
    client = Client(port)
    try:
        status, _, body = client.get(path_of(query))
        return int(body["total"]) if status == 200 else None
    finally:
        client.close()
