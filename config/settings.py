"""The one Settings object. Read once at start (`load_settings`), then passed down to actors and deployments."""

from __future__ import annotations

import os
import re
import secrets
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, YamlConfigSettingsSource

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")
PRODUCTION_SECRET_MIN_BYTES = 32  # HS256 keys shorter than the hash (256 bits) weaken the signature
LOOPBACK: tuple[IPv4Network | IPv6Network, ...] = (IPv4Network("127.0.0.1/32"), IPv6Network("::1/128"))


class Coupon(BaseModel):
    percent_off: int | None = Field(default=None, ge=1, le=100)
    amount_off: int | None = Field(default=None, ge=1)
    min_subtotal: int = Field(default=0, ge=0)
    max_uses: int | None = Field(default=None, ge=1)  # orders that may use it, all shoppers together
    max_uses_per_user: int | None = Field(default=None, ge=1)
    starts_at: datetime | None = None  # valid from (UTC when no zone is given)
    ends_at: datetime | None = None  # valid until, exclusive

    @model_validator(mode="after")
    def _one_kind(self) -> Coupon:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("a coupon has exactly one of percent_off or amount_off")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("a coupon's ends_at comes after its starts_at")
        return self


class JobScheduleSetting(BaseModel):
    """One pipeline's schedule (`schedules` below): run `python -m <module> <args>` every `every_seconds`."""

    model_config = ConfigDict(extra="forbid")
    every_seconds: float = Field(gt=0)
    module: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")  # default: pipelines.<name>
    args: list[str] = Field(default_factory=list)


# every pipeline's period, seconds: python -m pipelines.<name>
DEFAULT_SCHEDULES = {"analytics": 3600, "fraud": 86400, "recommendations": 21600, "replenishment": 86400,
                     "payouts": 86400}  # payouts: sellers paid their balances (pipelines/payouts.py)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BAZAAR_", env_nested_delimiter="__", extra="forbid", yaml_file=DEFAULTS_FILE
    )

    # "simulation": a shop driven by the traffic simulator, whose business clock an admin may move (docs/simulation.md)
    env: Literal["local", "test", "production", "simulation"] = "local"
    data_dir: Path = Path("var")
    redis_url: str | None = None
    redis_port: int = Field(default=6390, ge=1024, le=65535)
    redis_appendfsync: Literal["always", "everysec", "no"] = "always"
    # the redis-server `make run` starts is given to every process by its Unix socket (half TCP's kernel cost per
    # round trip); off, by its port
    redis_unix_socket: bool = True
    ray_address: str | None = None
    ray_namespace: str = "bazaar"
    ray_num_cpus: int = Field(default=2, ge=1)
    # Ray's own metrics (its Prometheus export) on a Ray we start ourselves. Off by default: no Prometheus scrapes a
    # local Ray, and the export was the tail of every route on 2 cores: every process reported at once (Ray's default
    # every 10 s) and the node's agent gathered it, a 100-290 ms stall of every request in flight; at every 60 s
    # still 80-170 ms (benchmarks/README.md, "Ray's metrics export"). An operator with a Prometheus turns it on
    # and picks the period. A cluster's Ray (`ray_address`) keeps its own settings.
    ray_metrics: bool = False
    ray_metrics_report_seconds: int = Field(default=60, ge=1, le=3600)
    # how often Serve's controller runs its loop, on a Ray we start ourselves (Serve's default 0.1 s): at 0.5 s the
    # controller of an idle shop took 1.3-1.5% of a core instead of 3.9-6.2% (0.4 ms a checkout at load); Serve
    # then replaces a dead replica and finishes a deployment up to 0.4 s later (benchmarks/README.md, stop 19)
    serve_control_loop_seconds: float = Field(default=0.5, gt=0, le=10)
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    haproxy: bool = True
    api_access_log: bool = False  # Serve's per-request access log (a log line per request costs CPU at load)
    api_replicas: int = Field(default=2, ge=1, le=64)
    # requests a replica takes at once; an open notification stream (SSE) is one for as long as it is open, so this
    # times api_replicas bounds the open streams (it was 256 before streams: checkouts never came near it)
    api_max_ongoing_requests: int = Field(default=2048, ge=1, le=100_000)

    # The hot calls into shard actors (cart lines and checkout into a shopper shard, sales into an inventory shard)
    # go over the actor's own authenticated socket instead of a Ray call: 0.09 ms of CPU against 1.7 ms here
    # (actors/channel.py). Off: every call goes through Ray.
    actor_channel: bool = True

    inventory_shards: int = Field(default=4, ge=1, le=1024)
    shopper_shards: int = Field(default=2, ge=1, le=1024)  # carts, checkouts and orders, by shopper
    user_shards: int = Field(default=2, ge=1, le=1024)
    coupon_shards: int = Field(default=1, ge=1, le=1024)  # uses of limited coupons, by code
    review_shards: int = Field(default=1, ge=1, le=1024)  # reviews by product, seller ratings by seller
    reservation_ttl_seconds: float = Field(default=600, gt=0)
    reservation_sweep_seconds: float = Field(default=1.0, gt=0)
    group_commit_max_batch: int = Field(default=64, ge=1, le=10000)
    # sellers and stock (docs/api-sellers.md): how soon the catalog makes good a suspension it missed, and how many
    # changes of a variant's stock its history keeps
    seller_standing_sync_seconds: float = Field(default=5.0, gt=0)
    stock_history_kept: int = Field(default=1000, ge=10, le=1_000_000)
    events_stream: str = "bz:events"
    events_maxlen: int = Field(default=10_000_000, ge=1000)  # a safety cap: the lake exporter trims (docs/events.md)

    jwt_secret: SecretStr | None = None
    jwt_access_ttl_seconds: int = Field(default=900, ge=30, le=86400)
    jwt_refresh_ttl_seconds: int = Field(default=30 * 86400, ge=60)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_parallelism: int = Field(default=1, ge=1)
    # sign-in: failures free per email and per client address, then an exponential wait (domain/login_backoff.py);
    # the owner signing in from an address they signed in from before is not held back by their email's failures
    login_failures_per_email_free: int = Field(default=5, ge=1)
    login_failures_per_ip_free: int = Field(default=50, ge=1)  # many people may share an address
    login_backoff_base_seconds: float = Field(default=1.0, gt=0)
    login_backoff_max_seconds: float = Field(default=900, gt=0)
    login_failure_memory_seconds: int = Field(default=3600, ge=1)  # failures forgotten this long after the last
    login_known_address_seconds: int = Field(default=30 * 86400, ge=60)
    register_per_minute_per_ip: int = Field(default=30, ge=1)
    password_change_attempts_per_minute: int = Field(default=5, ge=1)  # per user: guesses of the current one
    password_reset_ttl_seconds: int = Field(default=1800, ge=60, le=86400)  # how long a reset token works
    password_reset_per_minute_per_ip: int = Field(default=10, ge=1)  # reset requests and confirmations
    password_reset_per_hour_per_email: int = Field(default=5, ge=1)  # reset requests, known email or not
    # argon2id takes argon2_memory_kib per hash: at most this many at once per process (API replica, user shard),
    # and past max_waiting_password_hashes callers waiting their turn, the next is answered 503 `busy`
    max_concurrent_password_hashes: int = Field(default=4, ge=1, le=256)
    max_waiting_password_hashes: int = Field(default=64, ge=0)
    # the client address (rate limits, card testing) is read from X-Forwarded-For only when the connection comes
    # from one of these, walking the header from the right past them (serve/client_address.py)
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=lambda: list(LOOPBACK))
    admin_email: str | None = None
    admin_password: SecretStr | None = None

    max_body_bytes: int = Field(default=65536, ge=1024)
    max_line_quantity: int = Field(default=100, ge=1)
    max_cart_lines: int = Field(default=50, ge=1)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    tax_rate_bps: int = Field(default=800, ge=0, le=10000)
    shipping_flat_fee: int = Field(default=499, ge=0)
    free_shipping_over: int = Field(default=5000, ge=0)
    coupons: dict[str, Coupon] = Field(default_factory=dict)
    fraud_hold_total: int = Field(default=500_000, ge=0)
    fraud_decline_total: int = Field(default=2_000_000, ge=0)
    fraud_max_orders_per_user_hour: int = Field(default=10, ge=1)
    fraud_max_orders_per_card_hour: int = Field(default=5, ge=1)
    # card testing: past this many declined payments in an hour for a shopper, a card or a client address,
    # further checkouts from it are declined without asking the gateway
    fraud_max_declines_per_user_hour: int = Field(default=5, ge=1)
    fraud_max_declines_per_card_hour: int = Field(default=5, ge=1)
    fraud_max_declines_per_ip_hour: int = Field(default=30, ge=1)  # many shoppers may share an address
    # the fraud model (pipelines/fraud.py): shopper shards look for a newer approved version this often
    fraud_model_check_seconds: float = Field(default=30.0, gt=0, le=86400)
    # `python -m pipelines.fraud` approves a new version by itself when its hold-out ROC AUC beats the rules'
    # by at least this much (an operator can always approve with --approve)
    fraud_auto_approve_margin: float = Field(default=0.05, ge=0, le=1)

    payment_gateway_latency_ms: float = Field(default=0, ge=0, le=60_000)  # the sandbox's simulated round trip
    payment_token_ttl_seconds: int = Field(default=3600, ge=60, le=31 * 86400)
    payment_tokens_per_minute: int = Field(default=20, ge=1)  # per shopper
    payment_tokens_per_minute_per_ip: int = Field(default=60, ge=1)  # per client address, all its shoppers

    # orders across sellers (docs/api-fulfilment.md): days from shipping to delivery by ship country (ISO 3166-1
    # alpha-2), the default for any other; days after delivery a line may be returned; the shop's commission on a
    # seller's sale per category id, in basis points, and the rate of every other category
    delivery_lead_days: dict[str, int] = Field(default_factory=lambda: {"US": 3, "CA": 5, "GB": 5, "DE": 5})
    delivery_lead_days_default: int = Field(default=7, ge=0, le=365)
    return_window_days: int = Field(default=30, ge=0, le=365)
    commission_bps_by_category: dict[str, int] = Field(default_factory=dict)
    commission_bps_default: int = Field(default=1000, ge=0, le=10000)

    seed_products: int = Field(default=2000, ge=0)
    seed_random_seed: int = 7

    search_dir: Path = Path("var/search")  # default: <data_dir>/search
    search_commit_seconds: float = Field(default=0.25, gt=0, le=10)  # the indexer commits at most this often
    search_batch_max: int = Field(default=500, ge=1, le=100000)  # events read per indexer batch
    search_reload_seconds: float = Field(default=0, ge=0, le=10)  # searchers look for new commits (0: each search)
    # units ordered are counted into the popularity sort at most this often (one rewrite per product and period)
    search_popularity_seconds: float = Field(default=5.0, ge=0, le=3600)
    # answers, and counts (totals and facets) of searches, each API replica keeps until the index changes (0: none)
    search_cache_entries: int = Field(default=1024, ge=0, le=1_000_000)

    # -- analytics events (issue 10): a stream of their own, so a flood of searches never trims business events --
    analytics_stream: str = "bz:analytics"  # search.performed and the like (serve/analytics.py), not events_stream
    analytics_maxlen: int = Field(default=200_000, ge=1000)  # approximate, like events_maxlen
    analytics_sample_rate: float = Field(default=1.0, ge=0, le=1)  # the share of analytics events written

    # -- operator surfaces (issue 10) -------------------------------------------------------------------------------
    # where HAProxy's stats page and Prometheus exporter listen (serve/haproxy_wrapper.py): this machine only
    haproxy_admin_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\-]+$")
    api_docs: bool | None = None  # /docs, /redoc and /openapi.json; None: on, except with env=production

    # the event lake (lake/, docs/events.md "The lake"): a folder, or an object-store URL such as s3://bucket/lake
    lake_dir: str = ""  # default: <data_dir>/lake
    lake_batch_max: int = Field(default=50_000, ge=1, le=1_000_000)  # events of a stream written as one batch at most
    lake_flush_seconds: float = Field(default=30, gt=0)  # following the streams, what was read is written this often
    # recommendations (recsys/): each API replica looks for a newly published store at most this often (0: always)
    recsys_reload_seconds: float = Field(default=5.0, ge=0, le=3600)

    # the analytics run (pipelines/analytics.py): a DuckDB file, with a Parquet copy of each table beside it
    analytics_db: Path = Path("")  # default: <data_dir>/analytics/analytics.duckdb
    analytics_clv_lifetime_months: float = Field(default=24, gt=0)  # predicted CLV: the expected customer lifetime
    # replenishment (pipelines/replenishment.py): from the units sold per day over the window before the last order
    replenishment_window_days: int = Field(default=28, ge=1, le=365)
    replenishment_lead_time_days: float = Field(default=7, ge=0, le=365)  # from purchase order to stock on hand
    replenishment_safety_days: float = Field(default=3, ge=0, le=365)  # sales covered beyond the lead time
    replenishment_cover_days: float = Field(default=14, gt=0, le=365)  # sales one reorder covers

    # -- reviews and moderation (issue 13, docs/api-reviews.md) -------------------------------------------------------
    # a review using one of these words (whole words, any case) is rejected without an admin
    review_banned_words: list[str] = Field(default_factory=lambda: ["scam", "fraudster", "idiot"])
    review_burst_per_author: int = Field(default=5, ge=1)  # reviews from one account within the window, then held
    review_burst_per_product: int = Field(default=20, ge=1)  # reviews on one product within the window, then held
    review_burst_seconds: float = Field(default=3600, gt=0)
    review_reports_to_hold: int = Field(default=3, ge=1)  # shoppers' reports that hold a published review again
    ratings_batch_max: int = Field(default=200, ge=1, le=100000)  # due products the rating follower sends per round

    # -- scheduled jobs (actors/scheduler.py, docs/operations.md "Scheduled jobs"): each run is a Ray Job ----------
    scheduler: bool = True  # `make run` starts the scheduler actor
    schedules: dict[str, JobScheduleSetting] = Field(
        default_factory=lambda: {name: JobScheduleSetting(every_seconds=every)
                                 for name, every in DEFAULT_SCHEDULES.items()})
    exporter: Literal["continuous", "off"] = "continuous"  # the lake exporter, kept running as a Ray Job
    job_retries: int = Field(default=3, ge=0, le=100)  # attempts after a scheduled run's first failure
    job_backoff_seconds: float = Field(default=30, gt=0)  # before the first retry; doubled for each next one
    job_backoff_max_seconds: float = Field(default=1800, gt=0)
    jobs_kept: int = Field(default=1000, ge=10, le=1_000_000)  # run records kept in Redis, newest first
    scheduler_tick_seconds: float = Field(default=2.0, gt=0, le=3600)  # how often job states are polled

    # -- notifications (issue 13, docs/notifications.md): the notifier actor, its mailer and webhook sender ----
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Bazaar <no-reply@bazaar.local>"
    smtp_tls: Literal["none", "starttls", "tls"] = "none"  # tls: implicit TLS (port 465); starttls: upgrade
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10, gt=0, le=300)
    # how mail leaves: `smtp`, or `console` (printed on the notifier's output, its Ray worker log; it holds
    # reset tokens, so never in production). None: console in local development, smtp everywhere else
    mail_transport: Literal["smtp", "console"] | None = None
    # a delivery (mail or webhook) that failed is tried again after base * 2^(attempt-1) seconds, capped
    delivery_backoff_seconds: float = Field(default=2.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=600, gt=0)
    mail_max_attempts: int = Field(default=6, ge=1, le=100)  # then the mail is a dead letter
    webhook_max_attempts: int = Field(default=8, ge=1, le=100)
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=120)
    # webhook URLs on loopback, private or link-local addresses (SSRF): None allows them except in production
    webhooks_allow_private: bool | None = None
    notifier_batch_max: int = Field(default=500, ge=1, le=100_000)  # stream entries per notifier batch
    notifications_live_maxlen: int = Field(default=100_000, ge=100)  # the live stream the API replicas follow
    notifications_kept: int = Field(default=1000, ge=10, le=1_000_000)  # per user's inbox, newest; older ones go
    sse_keepalive_seconds: float = Field(default=15, gt=0, le=300)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))

    @model_validator(mode="before")
    @classmethod
    def _search_dir_under_data_dir(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("search_dir"):
            data = {**data, "search_dir": Path(data.get("data_dir") or "var") / "search"}
        return data

    @field_validator("search_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.absolute()  # actors and replicas may run in another working directory

    @field_validator("schedules")
    @classmethod
    def _job_names(cls, schedules: dict[str, JobScheduleSetting]) -> dict[str, JobScheduleSetting]:
        bad = [name for name in schedules if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name)]
        if bad:
            raise ValueError(f"job names are lower-case letters, digits and _ (a pipeline's module name): {bad}")
        return schedules

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret_in_production(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if (info.data.get("env") == "production" and secret is not None
                and len(secret.get_secret_value().encode()) < PRODUCTION_SECRET_MIN_BYTES):
            raise ValueError(f"must be at least {PRODUCTION_SECRET_MIN_BYTES} bytes when BAZAAR_ENV=production "
                             "(e.g. the output of `openssl rand -base64 48`)")
        return secret

    @model_validator(mode="after")
    def _lake_dir_under_data_dir(self) -> Settings:
        if not self.lake_dir:
            self.lake_dir = str((self.data_dir / "lake").absolute())
        elif "://" not in self.lake_dir:
            self.lake_dir = str(Path(self.lake_dir).absolute())
        if self.analytics_db == Path(""):
            self.analytics_db = self.data_dir / "analytics" / "analytics.duckdb"
        self.analytics_db = self.analytics_db.absolute()
        return self

    @model_validator(mode="after")
    def _secrets_outside_local(self) -> Settings:
        if self.env == "production" and self.jwt_secret is None:
            raise ValueError("BAZAAR_JWT_SECRET must be set when BAZAAR_ENV=production")
        if self.fraud_decline_total < self.fraud_hold_total:
            raise ValueError("fraud_decline_total must be at least fraud_hold_total")
        if self.login_backoff_max_seconds < self.login_backoff_base_seconds:
            raise ValueError("login_backoff_max_seconds must be at least login_backoff_base_seconds")
        if self.job_backoff_max_seconds < self.job_backoff_seconds:
            raise ValueError("job_backoff_max_seconds must be at least job_backoff_seconds")
        if "exporter" in self.schedules:
            raise ValueError("schedules: `exporter` names the lake exporter's job (see the `exporter` setting)")
        if self.login_failure_memory_seconds < self.login_backoff_max_seconds:
            raise ValueError("login_failure_memory_seconds must be at least login_backoff_max_seconds")
        if self.env == "production" and self.mail_transport == "console":
            raise ValueError("BAZAAR_MAIL_TRANSPORT=console prints mails (and their reset tokens): not in production")
        return self

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def mail_via(self) -> Literal["smtp", "console"]:
        if self.mail_transport is not None:
            return self.mail_transport
        return "console" if self.env == "local" else "smtp"

    @property
    def private_webhooks_allowed(self) -> bool:
        if self.webhooks_allow_private is not None:
            return self.webhooks_allow_private
        return self.env != "production"

    @property
    def lake_streams(self) -> list[str]:
        """The streams the lake exporter follows: the event stream, and the analytics stream where there is one."""
        analytics: str | None = getattr(self, "analytics_stream", None)
        return [self.events_stream, *([analytics] if analytics else [])]

    def jwt_key(self) -> str:
        assert self.jwt_secret is not None, "load_settings() provides a secret"
        return self.jwt_secret.get_secret_value()


class SettingsError(SystemExit):
    """A bad setting: the process stops with a message naming the variable, never a traceback."""


def load_settings(**overrides: object) -> Settings:
    """Read settings once. In local development a JWT secret is made and kept under the data directory."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = [f"  {_variable(err['loc'])}{err['msg']}" for err in exc.errors()]
        raise SettingsError("Invalid Bazaar settings:\n" + "\n".join(lines)) from None
    if settings.jwt_secret is None:
        secret = _local_secret(settings.data_dir / "secrets" / "jwt_secret")
        settings = settings.model_copy(update={"jwt_secret": SecretStr(secret)})
    return settings


def _variable(loc: tuple[int | str, ...]) -> str:
    """`BAZAAR_NAME: ` for a field's error; nothing for a rule across fields (its message names them)."""
    return f"BAZAAR_{'__'.join(str(p) for p in loc).upper()}: " if loc else ""


def _local_secret(secret_file: Path) -> str:
    """The secret kept in `secret_file`, made on first use. Its folder is the owner's alone (0700), and the file
    is 0600 from the moment it exists: it is written under a temporary name created with that mode, then linked
    into place, so no other user can ever read it and a concurrent start never reads a half-written one."""
    folder = secret_file.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # also when an older version made it with the umask's mode
    if not secret_file.exists():
        draft = folder / f".{secret_file.name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
                out.flush()
                os.fsync(out.fileno())
            os.link(draft, secret_file)  # atomic, and refuses to replace a secret another start has made
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    secret = secret_file.read_text().strip()
    if not secret:
        raise SettingsError(f"The JWT secret file {secret_file} is empty: delete it (a new one is made) "
                            "or set BAZAAR_JWT_SECRET")
    return secret
