"""Helpers for tests that crash and restart actors on the session's real Ray."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import ray


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
