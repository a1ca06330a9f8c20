"""Session fixtures: one real redis-server (AOF), one local Ray, one Serve app per test session.

Unit tests request none of these and run without Ray or Redis.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from config import Settings, load_settings
from serve.local_redis import LocalRedis, free_port
from tests.notify_support import Mailbox, smtp_server
from tests.shop import Shop

ADMIN_EMAIL = "admin@bazaar.test"
ADMIN_PASSWORD = "Admin-pass-1234"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bazaar")


@pytest.fixture(scope="session")
def redis_server(data_dir: Path) -> Iterator[LocalRedis]:
    server = LocalRedis(data_dir / "redis", free_port(), appendfsync="always").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mail_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd) for the session: the notifier's mails go to it."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def mailbox(mail_server: tuple[Mailbox, int]) -> Mailbox:
    return mail_server[0]


@pytest.fixture(scope="session")
def settings(redis_server: LocalRedis, data_dir: Path, mail_server: tuple[Mailbox, int]) -> Settings:
    return load_settings(
        env="test",
        data_dir=data_dir,
        redis_url=redis_server.url,
        ray_namespace=f"bazaar-test-{os.getpid()}",
        http_port=free_port(),
        jwt_secret="test-secret-not-for-production-0123456789",
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        inventory_shards=3,
        shopper_shards=2,
        user_shards=2,
        reservation_sweep_seconds=0.2,
        fraud_model_check_seconds=0.5,  # tests/e2e/test_fraud_review.py approves a model and waits for the shards
        register_per_minute_per_ip=100000,
        password_reset_per_minute_per_ip=100000,  # every test calls from 127.0.0.1
        # every test's client is 127.0.0.1: per-address sign-in failures are tried from addresses of their own
        login_failures_per_ip_free=1_000_000,
        payment_tokens_per_minute_per_ip=1_000_000,
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        coupons={"WELCOME10": {"percent_off": 10, "max_uses_per_user": 1},
                 "FLAT5": {"amount_off": 500, "min_subtotal": 2000},
                 "FIRST2": {"percent_off": 5, "max_uses": 2},
                 "EXPIRED": {"percent_off": 5, "ends_at": "2020-01-01T00:00:00Z"},
                 "SOON": {"percent_off": 5, "starts_at": "2099-01-01T00:00:00Z"}},
        fraud_max_orders_per_user_hour=1000,
        fraud_max_orders_per_card_hour=1000,
        # the sandbox's declining test cards and 127.0.0.1 are shared by every test: limit per shopper only
        fraud_max_declines_per_user_hour=3,
        fraud_max_declines_per_card_hour=1_000_000,
        fraud_max_declines_per_ip_hour=1_000_000,
        recsys_reload_seconds=0.2,  # a store a test publishes is served at once
        smtp_port=mail_server[1],  # the notifier's mails: tests/notify_support.py
        delivery_backoff_seconds=0.1,  # a refused mail or webhook call is tried again soon, and given up soon
        delivery_backoff_max_seconds=0.5,
        mail_max_attempts=3,
        webhook_max_attempts=3,
    )


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> redis.Redis:
    """A plain client on the session's redis-server, for tests that inspect what was persisted."""
    return redis.Redis.from_url(settings.redis_url or "", decode_responses=True)


@pytest.fixture(scope="session")
def ray_session(settings: Settings) -> Iterator[None]:
    import ray

    from serve.client_address import UVICORN_ENV
    from serve.main import local_ray_environment

    os.environ.update(UVICORN_ENV)  # as `make run` starts Ray: Serve's proxy leaves the peer as it is
    os.environ.update(local_ray_environment(settings))  # and without Ray's own metrics export, as it does
    # with its dashboard: the scheduled jobs are Ray Jobs, submitted through its Jobs API (tests/e2e/test_jobs.py)
    with dashboard_agent_on_any_port():
        ray.init(address="local", num_cpus=2, include_dashboard=True, dashboard_host="127.0.0.1",
                 namespace=settings.ray_namespace, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@contextmanager
def dashboard_agent_on_any_port() -> Iterator[None]:
    """Ray's dashboard agent (which runs the Ray Jobs) listens on 52365 unless told otherwise, and `ray.init` cannot
    tell it: a second Ray on the machine (another test session, a running shop) then has no job agent, and every
    submission waits 10 s and fails. Port 0 lets the agent take a free port (it publishes the one it got)."""
    from ray._private.parameter import RayParams

    original = RayParams.__init__

    def dynamic_port(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("dashboard_agent_listen_port", 0)
        original(self, *args, **kwargs)

    RayParams.__init__ = dynamic_port  # type: ignore[method-assign]
    try:
        yield
    finally:
        RayParams.__init__ = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def platform(settings: Settings, ray_session: None) -> Settings:
    """All actors spawned and the admin bootstrapped."""
    from actors.system import bootstrap, spawn_all

    spawn_all(settings)
    bootstrap(settings)
    return settings


@pytest.fixture(scope="session")
def api_url(platform: Settings) -> Iterator[str]:
    from ray import serve

    from serve.app import deploy

    deploy(platform)
    yield f"http://127.0.0.1:{platform.http_port}"
    serve.shutdown()


@pytest.fixture(scope="session")
def shop(api_url: str) -> Iterator[Shop]:
    with Shop(api_url, ADMIN_EMAIL, ADMIN_PASSWORD) as shop:
        yield shop


@pytest.fixture(scope="session")
def simulation_url(api_url: str, platform: Settings, redis_client: redis.Redis) -> Iterator[str]:
    """The base URL of a second app of the session's shop (`/sim`, env "simulation": its admin may move the
    business clock), beside the session's own on the same Serve. The actors are the session's (env "test")."""
    from ray import serve

    from actors import keys
    from serve.app import build_app

    serve.run(build_app(platform.model_copy(update={"env": "simulation", "api_replicas": 1})), name="sim",
              route_prefix="/sim")
    yield f"{api_url}/sim"
    serve.delete("sim")
    redis_client.delete(keys.SIMULATION_CLOCK)
