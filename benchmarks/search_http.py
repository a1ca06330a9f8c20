"""GET /v1/search through the real Serve app, at N concurrent clients, over an index built beforehand.

Only the Serve app is deployed (the API ingress and the `search` deployment, which opens `settings.search_dir`
read-only); the catalog actors and the search indexer are not started, because the indexer would rebuild the
index from this empty store. Redis runs because the search deployment records every search on the stream.

Each client is a thread with one keep-alive `http.client` connection (cheap for the load generator, which shares
the 2 cores with the server); clients walk the query set from different offsets, so every kind is in flight at
once. Two figures per request: the client's end-to-end time and the deployment's own `took_ms`.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tqdm import tqdm

from benchmarks.http_checkout import Connection, Route
from benchmarks.search_queries import BenchQuery, Timings
from config import Settings, load_settings
from serve.local_redis import LocalRedis, free_port


@contextmanager
def serve_app(data_dir: Path, search_dir: Path) -> Iterator[Settings]:
    """Our own redis-server, a local Ray and the Serve app over `search_dir`; all stopped on the way out."""
    import ray

    server = LocalRedis(data_dir / "redis", free_port(), appendfsync="everysec").start()
    try:
        settings = load_settings(env="test", data_dir=data_dir, redis_url=server.url, search_dir=search_dir,
                                 ray_namespace=f"bazaar-search-bench-{os.getpid()}", http_port=free_port(),
                                 haproxy=False, jwt_secret=secrets.token_urlsafe(48))
        ray.init(address="local", num_cpus=2, include_dashboard=False, namespace=settings.ray_namespace,
                 log_to_driver=False, configure_logging=False)
        try:
            from serve.app import deploy

            deploy(settings)
            yield settings
        finally:
            try:
                from ray import serve

                serve.shutdown()
            finally:
                ray.shutdown()
    finally:
        server.stop()


def path_of(query: BenchQuery) -> str:
    return "/v1/search?" + urlencode(query.params, doseq=True)


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


def measure_http(port: int, queries: list[BenchQuery], clients: int, per_client: int, warmup: int = 2,
                 label: str = "") -> tuple[Timings, Timings, dict[int, int]]:
    """(end-to-end timings, the deployment's took_ms as timings, non-200 statuses by count)."""
    e2e, inside = Timings(), Timings()
    errors: dict[int, int] = {}
    lock = threading.Lock()
    bar = tqdm(total=clients * (warmup + per_client), desc=f"  {label or f'HTTP GET /v1/search, {clients} clients'}",
               unit="req", leave=False, mininterval=0.5)

    def work(number: int) -> None:
        client = Client(port)
        try:
            for step in range(warmup + per_client):
                query = queries[(number * 7 + step) % len(queries)]
                status, seconds, body = client.get(path_of(query))
                bar.update(1)
                with lock:
                    if status != 200:
                        errors[status] = errors.get(status, 0) + 1
                    elif step >= warmup:
                        e2e.add(query, seconds, body["total"])
                        inside.add(query, body["took_ms"] / 1000, body["total"])
        finally:
            client.close()

    with bar:
        threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        e2e.seconds = inside.seconds = time.perf_counter() - started
    return e2e, inside, errors


def noop_http(port: int, clients: int, per_client: int) -> Route:
    """The HTTP floor of the same app: GET /healthz (no search) at `clients` clients, after a warm-up."""
    route = Route(f"GET /healthz, {clients} clients")

    def work(count: int, into: Route) -> None:
        conn = Connection(f"http://127.0.0.1:{port}")
        try:
            for _ in range(count):
                status, seconds = conn.request("GET", "/healthz", {})
                into.record(status, seconds, 200)
        finally:
            conn.close()

    for count, into in ((5, Route("warm-up")), (per_client, route)):
        threads = [threading.Thread(target=work, args=(count, into), daemon=True) for _ in range(clients)]
        started, cpu = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        into.end_round(time.perf_counter() - started, time.process_time() - cpu)
    return route


def wait_until_serving(port: int, query: BenchQuery, timeout: float = 120) -> int:
    """Poll until the app answers a search (the search replica opens a large index first); returns the total."""
    deadline = time.monotonic() + timeout
    client = Client(port)
    try:
        while True:
            status, _, body = client.get(path_of(query))
            if status == 200:
                return int(body["total"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"GET /v1/search answered {status} for {timeout:.0f}s")
            time.sleep(0.5)  # polling with a deadline, not synchronization
    finally:
        client.close()
