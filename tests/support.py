"""Helpers for tests that crash and restart actors on the session's real Ray."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import ray
import redis

from serve.haproxy_wrapper import haproxy_wrapper
from serve.local_redis import free_port

SERVE_ERROR_PAGE = "HTTP/1.1 500 Internal Server Error\r\n\r\nInternal Server Error"  # what Serve points 5xx at


def wait_until(predicate: Any, timeout: float = 30.0) -> Any:
    """Poll `predicate` until it returns something truthy; calls that meet a restarting actor are retried."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError, ray.exceptions.GetTimeoutError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def restart_and_wait(handle: Any) -> dict[str, Any]:
    """Kill the actor's process, let Ray restart it, and wait until the new process answers (its ready())."""
    old_pid = ray.get(handle.ready.remote())["pid"]
    ray.kill(handle, no_restart=False)
    return wait_until(lambda: (r := ray.get(handle.ready.remote(), timeout=5))["pid"] != old_pid and r)  # type: ignore[no-any-return]


def until_answered(call: Callable[[], httpx.Response], deadline_s: float = 90) -> httpx.Response:
    """Retry a request while an actor behind it restarts (503) or the app is not reachable, as a client would."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            response = call()
            if response.status_code != 503:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the shop stayed unavailable")
        time.sleep(0.2)


@contextmanager
def haproxy_in_front_of(backend: str, directory: Path) -> Iterator[str]:
    """An HAProxy on a free port, passing every request to `backend` (host:port), with a configuration of Serve's
    kind (`defaults` with its error pages, a frontend, a backend) and started through serve/haproxy_wrapper.py's
    wrapper as Serve starts its own; yields its base URL, stops it after."""
    wrapper = haproxy_wrapper(directory / "bin")["RAY_SERVE_HAPROXY_BINARY_PATH"]
    config_dir = directory / "hp"
    config_dir.mkdir(parents=True)
    (config_dir / "500.http").write_text(SERVE_ERROR_PAGE)
    port = free_port()
    errorfiles = "".join(f"    errorfile {status} {config_dir / '500.http'}\n" for status in (502, 503, 504))
    (config_dir / "haproxy.cfg").write_text(f"""defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
{errorfiles}frontend http_frontend
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    server replica {backend}
""")
    haproxy = subprocess.Popen([wrapper, "-db", "-f", str(config_dir / "haproxy.cfg")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _listening(port):
            assert time.monotonic() < deadline and haproxy.poll() is None, "HAProxy did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        haproxy.terminate()
        haproxy.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def redis_values(client: redis.Redis, key: str) -> list[str]:
    """Everything a key holds, as text (hash fields, stream entries, members), for scans of what was stored."""
    kind = client.type(key)
    if kind == "none":  # expired between SCAN and TYPE (rate-limit windows do): nothing left to read
        return []
    if kind == "string":
        return [client.get(key) or ""]
    if kind == "hash":
        return [f"{k}={v}" for k, v in client.hgetall(key).items()]
    if kind == "stream":
        return [f"{entry_id} {fields}" for entry_id, fields in client.xrange(key)]
    if kind == "list":
        return list(client.lrange(key, 0, -1))
    if kind == "set":
        return list(client.smembers(key))
    if kind == "zset":
        return [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    raise AssertionError(f"{key} has a type this scan does not read: {kind}")
