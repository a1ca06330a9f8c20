"""The Serve application graph, in one function."""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.schema import LoggingConfig

from config import Settings, collector
from serve.api import api_builder
from serve.client_address import UVICORN_ENV

APP_NAME = "bazaar"


def build_app(settings: Settings) -> Any:
    @serve.deployment(
        name="api",
        num_replicas=settings.api_replicas,
        # the replica's own HTTP server (behind HAProxy) must not rewrite the peer from X-Forwarded-For
        ray_actor_options={"num_cpus": 0, "runtime_env": {"env_vars": UVICORN_ENV}},
        # every open notification stream (SSE) is an ongoing request for as long as it is open
        max_ongoing_requests=settings.api_max_ongoing_requests,
        health_check_period_s=5,
        logging_config=LoggingConfig(enable_access_log=settings.api_access_log),
    )
    @serve.ingress(api_builder(settings))
    class BazaarAPI:
        """The HTTP ingress; all routes live on the FastAPI app built per replica (product search too, over the
        replica's own read-only view of the search index: serve/search.py)."""

        def __init__(self) -> None:
            collector.settle()  # Ray, Serve, FastAPI and the app are loaded: never rescan them (config/collector.py)

    return BazaarAPI.bind()  # type: ignore[attr-defined]  # added by @serve.deployment


def deploy(settings: Settings) -> None:
    """Start Serve's HTTP proxy on the configured address and run the app (blocking until healthy)."""
    serve.start(http_options={"host": settings.http_host, "port": settings.http_port})
    serve.run(build_app(settings), name=APP_NAME, route_prefix="/")
