"""An actor's housekeeping clock: its own `tick()` called every period, through the actor's queue like any call."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def start_ticker(period: float, name: str, timeout: float | None = None) -> None:
    """From a daemon thread of the current actor: `tick()` every `period` seconds (a tick that fails or outlasts
    `timeout`, default ten periods and at least 10 s, is skipped: the next period tries again)."""
    import ray

    handle = ray.get_runtime_context().current_actor

    def run() -> None:
        stop = threading.Event()
        while not stop.wait(period):
            try:
                ray.get(handle.tick.remote(), timeout=timeout or max(period * 10, 10))
            except Exception:  # the actor is stopping or busy; try again next period
                log.debug("%s: tick skipped", name, exc_info=True)

    threading.Thread(target=run, name=f"{name}-ticker", daemon=True).start()
