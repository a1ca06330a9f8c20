"""`make run`: the whole shop in the foreground, until Ctrl-C or SIGTERM.

    python -m serve.main          # or the `bazaar` console script

Starts, in this order, and stops in the reverse order only what it started itself:
  1. Redis: our own redis-server with AOF under BAZAAR_DATA_DIR/redis on BAZAAR_REDIS_PORT, unless a Redis URL
     is given (REDIS_URL or BAZAAR_REDIS_URL), which is then only pinged;
  2. Ray: a new local instance with its dashboard, unless an address is given (RAY_ADDRESS or
     BAZAAR_RAY_ADDRESS), which is then joined and left running when we stop;
  3. the platform's actors and the admin account (BAZAAR_ADMIN_EMAIL / BAZAAR_ADMIN_PASSWORD);
  4. the Serve application on BAZAAR_HTTP_HOST:BAZAAR_HTTP_PORT (behind HAProxy when BAZAAR_HAPROXY is true),
     then the scheduler of the pipelines and the lake exporter, each run a Ray Job (BAZAAR_SCHEDULER=false: none);
  5. the demo catalog, into a store that was never seeded.
Everything lives in Redis, so starting again with the same data directory (or Redis URL) keeps all data.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ray
import redis

from config import Settings, load_settings
from config.settings import SettingsError
from domain.errors import DomainError
from domain.passwords import check_password
from domain.users import normalize_email
from serve.client_address import UVICORN_ENV
from serve.haproxy_wrapper import HAPROXY_ENV, local_haproxy_environment, port_is_free
from serve.local_outbox import OutboxEcho
from serve.local_redis import LocalRedis

log = logging.getLogger("bazaar")

# The plain names the operators' world uses, accepted beside their BAZAAR_ forms (which win).
PLAIN_ENV = {"REDIS_URL": "redis_url", "RAY_ADDRESS": "ray_address"}
WATCH_SECONDS = 2.0


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s  %(message)s", datefmt="%H:%M:%S")
    try:
        settings = load_settings(**plain_env_overrides(os.environ))
    except SettingsError as exc:
        print(exc.code, file=sys.stderr)
        raise SystemExit(2) from None
    _on_signals(_interrupt)
    with suppress(KeyboardInterrupt):
        run(settings)
    log.info("stopped")


def plain_env_overrides(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    """REDIS_URL and RAY_ADDRESS as settings, unless their BAZAAR_ forms are set."""
    return {name: environ[plain] for plain, name in PLAIN_ENV.items()
            if environ.get(plain) and not environ.get(f"BAZAAR_{plain}")}


def run(settings: Settings) -> None:
    with ExitStack() as stack:
        try:
            check_admin(settings)
            check_port_free(settings.http_host, settings.http_port, "BAZAAR_HTTP_PORT")
            settings, local_redis = start_redis(settings, stack)
            outbox = OutboxEcho.for_settings(settings)  # local development: reset tokens on this console
            context = start_ray(settings, stack)
            start_platform(settings, stack)
            seed(settings)
            announce(settings, context, local_redis)
            watch(local_redis, outbox)
        except BaseException as exc:
            _on_signals(_stopping)  # the unwinding below (the reverse of the start) must not be cut short
            if isinstance(exc, KeyboardInterrupt):
                log.info("stopping")
            elif isinstance(exc, SystemExit) and isinstance(exc.code, str):  # expected: its message, no trace
                log.error("%s", exc.code)
                raise SystemExit(1) from None
            raise


# -- the steps ---------------------------------------------------------------------------------------------
def start_redis(settings: Settings, stack: ExitStack) -> tuple[Settings, LocalRedis | None]:
    if settings.redis_url:
        try:
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
        except (redis.RedisError, ValueError) as exc:
            raise SystemExit(f"cannot reach Redis at {redacted(settings.redis_url)}: {exc}") from None
        log.info("Redis: using %s", redacted(settings.redis_url))
        return settings, None
    check_port_free("127.0.0.1", settings.redis_port, "BAZAAR_REDIS_PORT")
    server = LocalRedis(settings.redis_dir, settings.redis_port, settings.redis_appendfsync, settings.redis_unix_socket)
    stack.callback(_step, "Redis", "Redis stopped (AOF fsynced)", server.stop)
    # Block SIGINT while it starts (the mask is inherited): a Ctrl-C in the terminal then reaches us, not
    # redis-server, and we stop Redis last, after the actors that write to it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        server.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    log.info("Redis: started %s, appendonly (fsync %s), data in %s",
             server.url, settings.redis_appendfsync, server.data_dir)
    return settings.model_copy(update={"redis_url": server.url}), server


def start_ray(settings: Settings, stack: ExitStack) -> Any:
    os.environ.update(UVICORN_ENV)  # Serve's proxy reads it when it starts: see serve/client_address.py
    if settings.haproxy:
        os.environ.update(HAPROXY_ENV)
        if not settings.ray_address:
            local = local_haproxy_environment(settings.data_dir.absolute() / "haproxy", settings.haproxy_admin_host)
            for name, value in local.items():
                os.environ.setdefault(name, value)
    if not settings.ray_address:
        for name, value in local_ray_environment(settings).items():
            os.environ.setdefault(name, value)
    quiet: dict[str, Any] = {"namespace": settings.ray_namespace, "log_to_driver": False,
                             "logging_level": logging.WARNING}
    done = "Ray: left the cluster" if settings.ray_address else "Ray stopped"
    stack.callback(_stop_ray, done)  # before init: a Ctrl-C during it still cleans up
    if settings.ray_address:
        try:
            context = ray.init(address=settings.ray_address, **quiet)
        except (ConnectionError, ValueError) as exc:
            hint = ""
            if "InvalidAuthToken" in str(exc.__cause__):  # Ray wraps the AuthenticationError's text only
                hint = " (the cluster wants a token: set RAY_AUTH_MODE=token and provide it, see `ray get-auth-token`)"
            raise SystemExit(f"cannot join Ray at {settings.ray_address}: {exc}{hint}") from None
        log.info("Ray: joined %s", settings.ray_address)
    else:
        context = ray.init(address="local", num_cpus=settings.ray_num_cpus, include_dashboard=True,
                           dashboard_host="127.0.0.1", **quiet)
        session = getattr(context, "address_info", {}).get("session_dir", "/tmp/ray/session_latest")
        log.info("Ray: started locally with %d CPUs; logs in %s/logs", settings.ray_num_cpus, session)
    _on_signals(_interrupt)  # ray.init installs its own SIGTERM handler (sys.exit); ours stops cleanly
    return context


def local_ray_environment(settings: Settings) -> dict[str, str]:
    """What a Ray we start ourselves reads from its environment (its processes inherit it): whether its processes
    collect and export Ray's metrics, and how often (config/settings.py `ray_metrics`). Serve's HAProxy metrics go
    with them: HAProxy sends a line per request to Serve's HAProxy manager, which parses it in Python to count it.
    And how often Serve's controller runs its loop (`serve_control_loop_seconds`).

    And the niceness of Ray's workers, 15 unless told: every actor and API replica of the shop (and the HAProxy its
    manager starts) then yields the CPU to anything at 0, Ray's own dashboard and log monitor, redis-server, the
    mail server, 28 to 1 by the kernel's weights. On two busy cores a burst of any of them stopped an API replica
    for up to 90 ms (add to cart p99 75-83 ms at nice 15, 57-67 ms at 0, benchmarks/README.md). The shop's workers
    are the service: they run at the niceness of everything else (`RAY_worker_niceness` in cluster.yaml too)."""
    on = "1" if settings.ray_metrics else "0"
    return {"RAY_enable_metrics_collection": on, "RAY_SERVE_HAPROXY_METRICS_ENABLED": on,
            "RAY_metrics_report_interval_ms": str(settings.ray_metrics_report_seconds * 1000),
            "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": str(settings.serve_control_loop_seconds),
            "RAY_worker_niceness": "0"}


def start_platform(settings: Settings, stack: ExitStack) -> None:
    from ray import serve

    from actors.system import spawn_all, stop_all
    from serve.app import deploy

    logging.getLogger("ray.serve").setLevel(logging.WARNING)  # its start-up lines; ours below say it shorter
    stack.callback(_step, "actors", "actors stopped", stop_all, settings)
    handles = spawn_all(settings)
    log.info("actors: %d ready (%s)", sum(len(h) for h in handles.values()),
             ", ".join(f"{kind} x{len(h)}" for kind, h in handles.items()))
    create_admin(settings)
    stack.callback(_step, "Serve", "Serve app stopped", serve.shutdown)
    try:
        deploy(settings)
    except (RuntimeError, ray.exceptions.RayError) as exc:  # the cause is deep in Serve's actors: its gist here
        lines = [ln for ln in str(exc).splitlines() if "ALERT" in ln] or str(exc).strip().splitlines()[-1:]
        raise SystemExit("the Serve application did not start:\n  " + "\n  ".join(lines)) from None
    ingress = "HAProxy" if settings.haproxy else "Serve's proxy"
    log.info("Serve: app deployed on %s:%d (%d replica(s), %s)", settings.http_host, settings.http_port,
             settings.api_replicas, ingress)
    if settings.scheduler:
        start_scheduler(settings, stack)


def start_scheduler(settings: Settings, stack: ExitStack) -> None:
    """The scheduled jobs (docs/operations.md "Scheduled jobs"): each run a Ray Job in the dashboard."""
    from actors.system import spawn_scheduler, stop_scheduler

    stack.callback(_step, "scheduler", "scheduler stopped (and its jobs in flight)", stop_scheduler, settings)
    ready = ray.get(spawn_scheduler(settings).ready.remote())
    log.info("scheduler: %s", ", ".join(ready["jobs"]) or "no jobs scheduled")


def create_admin(settings: Settings) -> None:
    """The admin account, on the running actors; a refusal (its email is someone else's) stops the start."""
    from actors.system import bootstrap

    try:
        bootstrap(settings)
    except DomainError as exc:
        raise SystemExit(_admin_refused(settings, exc)) from None
    if settings.admin_email and settings.admin_password:
        log.info("admin: %s", settings.admin_email)
    else:
        log.info("admin: none (set BAZAAR_ADMIN_EMAIL and BAZAAR_ADMIN_PASSWORD to create one)")


def seed(settings: Settings) -> None:
    from pipelines.seed import seed_demo_catalog

    created = seed_demo_catalog(settings, progress=True)
    if created:
        log.info("catalog: seeded %d demo products", created)
    else:
        log.info("catalog: already seeded; keeping the store as it is")


def announce(settings: Settings, context: Any, local_redis: LocalRedis | None) -> None:
    host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "::") else settings.http_host
    base = f"http://{host}:{settings.http_port}"
    dashboard = getattr(context, "dashboard_url", None)
    from serve.api import docs_enabled

    docs = docs_enabled(settings)
    rows = [
        ("shop API", f"{base}/v1"),
        ("API docs", f"{base}/docs" if docs else "off in production (BAZAAR_API_DOCS=true serves them)"),
        ("OpenAPI", f"{base}/openapi.json" if docs else "off"),
        ("health", f"{base}/healthz  {base}/readyz"),
        ("Ray dashboard", f"http://{dashboard}{_token_hint()}" if dashboard else "not available"),
        ("Redis", local_redis.url if local_redis else redacted(settings.redis_url or "")),
    ]
    width = max(len(name) for name, _ in rows)
    lines = "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)
    print(f"\nBazaar is running. Ctrl-C stops it.\n{lines}\n", flush=True)


def watch(local_redis: LocalRedis | None, outbox: OutboxEcho | None = None) -> None:
    """Stay in the foreground, printing the outbox's password resets in local development; stop if our own Redis
    dies under us (nothing could be made durable)."""
    while True:
        time.sleep(WATCH_SECONDS)
        if local_redis and local_redis.process and local_redis.process.poll() is not None:
            raise SystemExit(f"redis-server exited (code {local_redis.process.returncode}); "
                             f"see {local_redis.data_dir / 'redis.log'}")
        if outbox is not None:
            with suppress(redis.RedisError):
                outbox.poll()


# -- helpers -----------------------------------------------------------------------------------------------
def check_admin(settings: Settings) -> None:
    """The admin's email and password against the shop's own rules, before anything is started."""
    if settings.admin_email and settings.admin_password:
        try:
            check_password(settings.admin_password.get_secret_value(), normalize_email(settings.admin_email))
        except DomainError as exc:
            raise SystemExit(_admin_refused(settings, exc)) from None


def _admin_refused(settings: Settings, error: DomainError) -> str:
    return (f"cannot create the admin {settings.admin_email} (BAZAAR_ADMIN_EMAIL / BAZAAR_ADMIN_PASSWORD): "
            f"{error.message}")


def check_port_free(host: str, port: int, setting: str) -> None:
    if not port_is_free(host, port):
        raise SystemExit(f"port {port} on {host} is in use: is another Bazaar running? "
                         f"Stop it or choose another port with {setting}")


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _token_hint() -> str:
    """Ray's token authentication (the default of a new local Ray in this Ray version): the dashboard asks."""
    if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
        return ""
    return f"  (sign in with the token of `{Path(sys.executable).parent / 'ray'} get-auth-token`)"


def _stop_ray(done: str) -> None:
    if ray.is_initialized():
        _step("Ray", done, ray.shutdown)


def _step(what: str, done: str, stop: Callable[..., Any], *args: Any) -> None:
    """One step of the shutdown; a failure is reported and the next steps still run."""
    try:
        stop(*args)
    except Exception as exc:
        log.warning("%s: stopping failed (%s: %s)", what, type(exc).__name__, exc)
        return
    log.info(done)


def _on_signals(handler: Callable[[int, Any], None]) -> None:
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


_repeats = 0


def _stopping(signum: int, frame: Any) -> None:
    global _repeats
    _repeats += 1
    if _repeats >= 2:
        log.warning("forced exit: processes this run started may be left behind")
        os._exit(130)
    log.info("already stopping; once more forces an exit")


if __name__ == "__main__":
    main()
