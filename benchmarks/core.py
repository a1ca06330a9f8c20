"""`python -m benchmarks.core` (`make bench`): the platform's core figures, measured in one run on this machine.

1. Reservations per second on one hot SKU, straight to its inventory shard actor, every acknowledgement durable
   (Redis AOF `appendfsync always`): one `reserve` call per reservation, against `reserve_many` batches;
   and the same loop as a PostgreSQL conditional UPDATE when a local PostgreSQL answers.
2. Checkout p50/p99 through HTTP at 16 concurrent shoppers, next to a no-op route of the same Serve app.

The machine is shared and noisy, so the figures that mean something are the ratios within one run. It starts
its own redis-server, Ray and Serve app, and stops them on the way out, Ctrl-C included. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import bars, cpu_budget, hot_sku_report
from benchmarks.hot_sku import Mode, Oversell, PostgresBench, cpu_of
from benchmarks.hot_sku_report import ENGINES
from benchmarks.http_checkout import CheckoutBench, Route
from config import Settings, load_settings
from serve.haproxy_wrapper import local_haproxy_environment
from serve.local_redis import LocalRedis, free_port, with_db
from serve.main import local_ray_environment

ADMIN_EMAIL = "admin@bazaar.bench"
ADMIN_PASSWORD = "Bench-admin-" + secrets.token_hex(6)
RESULTS_DIR = Path(__file__).with_name("results")


@dataclass(frozen=True)
class Plan:
    rounds: int = 2
    # hot SKU: reservations per round and engine, and what each engine's client gets
    batched: int = 100_000  # Bazaar's shard: `reserve_many` calls of `batch`, `batched_in_flight` outstanding
    batch: int = 1024
    batched_in_flight: int = 4
    lua: int = 100_000  # pipelines of `batch` scripts on `batched_in_flight` connections (the shard's shape)
    lua_single: int = 20_000  # one script per round trip, `single_in_flight` connections
    setnx: int = 1_000
    setnx_buyers: int = 4  # more only queue on the lock: 16 buyers did a third of what 1 to 4 did
    postgres: int = 4_000
    postgres_connections: int = 8  # one row's lock serializes them: 8 did best of 8, 16 and 64
    inproc: int = 100_000  # the shard in-process, `reserve_many` as above
    single: int = 3_000  # the actor, one `reserve` call per reservation
    single_in_flight: int = 64
    sequential: int = 200  # one call at a time (latency)
    oversell_stock: int = 500
    oversell_buyers: int = 1_500
    # checkout
    shoppers: tuple[int, ...] = (16, 64)  # concurrent shoppers, each level measured on its own
    # one inventory and one shopper shard: on 2 cores, alternated runs did more checkouts with less CPU and a lower
    # p99 than two of each (fewer processes to wake, larger group commits; benchmarks/README.md, stop 19)
    inventory_shards: int = 1
    shopper_shards: int = 1
    checkouts: int = 40  # per shopper and round: 10 gave runs of 2 s at 16 shoppers, 106-184/s for the same code
    noops: int = 100  # per worker and round


QUICK = Plan(rounds=1, batched=20_000, lua=20_000, lua_single=4_000, setnx=100, postgres=500, inproc=20_000,
             single=1_000, sequential=50, oversell_stock=100, oversell_buyers=300, checkouts=2, noops=20)


def machine() -> dict[str, Any]:
    import ray

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "memory_gib": round(mem_kib / 2**20, 1),
            "python": platform.python_version(), "ray": ray.__version__, "kernel": platform.release(),
            "loadavg": os.getloadavg()}


def cpu_speed() -> float:
    """Millions of pure-Python loop steps per second, median of five tries: how much of a core this process
    gets right now (higher = quieter machine), to compare runs made at different times."""
    speeds = []
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(400_000):
            total += i
        speeds.append(0.4 / (time.perf_counter() - started))
    return sorted(speeds)[2]


@contextmanager
def environment(data_dir: Path, haproxy: bool, inventory_shards: int = 1, shopper_shards: int = 1
                ) -> Iterator[tuple[Settings, LocalRedis]]:
    """Our own redis-server (AOF always) and local Ray; everything stopped again on the way out. The shop reaches
    Redis as `make run`'s does: by its Unix socket unless BAZAAR_REDIS_UNIX_SOCKET=0."""

    unix_socket = Settings().redis_unix_socket  # the environment's choice (load_settings would make a secret file)
    server = LocalRedis(data_dir / "redis", free_port(), appendfsync="always", unix_socket=unix_socket).start()
    mail = MailSink()
    try:
        settings = load_settings(
            env="test", data_dir=data_dir, redis_url=server.url, ray_namespace=f"bazaar-bench-{os.getpid()}",
            smtp_host="127.0.0.1", smtp_port=mail.port,
            http_port=free_port(), haproxy=haproxy, jwt_secret=secrets.token_urlsafe(48),
            argon2_time_cost=1, argon2_memory_kib=8192,
            inventory_shards=inventory_shards, shopper_shards=shopper_shards, user_shards=2,
            register_per_minute_per_ip=1_000_000, login_failures_per_email_free=1_000_000,
            login_failures_per_ip_free=1_000_000, payment_tokens_per_minute_per_ip=1_000_000,
            fraud_max_orders_per_user_hour=1_000_000, fraud_max_orders_per_card_hour=1_000_000,
            admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
        )
        with local_ray(settings, data_dir, haproxy):
            yield settings, server
    finally:
        mail.stop()
        server.stop()


@contextmanager
def local_ray(settings: Settings, data_dir: Path, haproxy: bool) -> Iterator[None]:
    """A local Ray (2 CPUs) as `make run` starts one: without Ray's own metrics, behind HAProxy when `haproxy`, with
    HAProxy's files under `data_dir`; Serve and Ray stopped on the way out. The environment Ray's processes inherit
    is put back then too: a second app in the same process (`bench-search --cold`) must not find the first one's
    HAProxy wrapper, deleted with its directory."""
    import ray

    saved = dict(os.environ)
    try:
        os.environ.update(local_ray_environment(settings))
        if haproxy:  # before Ray starts: its processes inherit the environment
            os.environ.update(local_haproxy_environment(data_dir / "haproxy", private_files=True))
        ray.init(address="local", num_cpus=2, include_dashboard=False, namespace=settings.ray_namespace,
                 log_to_driver=False, configure_logging=False)
        try:
            yield
        finally:
            try:
                from ray import serve

                serve.shutdown()
            finally:
                ray.shutdown()
    finally:
        os.environ.clear()
        os.environ.update(saved)


class MailSink:
    """A real SMTP server that accepts every mail and keeps none (aiosmtpd's Sink), in its own process so that its
    CPU is its own row: a shop sends its order confirmations to a mail relay, and without one the notifier's mails
    failed, were retried and became dead letters, which is not the work a shop does."""

    def __init__(self) -> None:
        import subprocess
        import sys

        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                                         "-l", f"127.0.0.1:{self.port}"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's mail server (aiosmtpd) did not start")
            time.sleep(0.1)

    def _answers(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                return conn.recv(3) == b"220"
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def shop_running(data_dir: Path, haproxy: bool) -> Iterator[tuple[Settings, Any]]:
    """`environment`, with every actor spawned, the store bootstrapped and the Serve app deployed: (settings, a
    tests.shop.Shop signed in as the admin)."""
    from actors.system import bootstrap, spawn_all
    from serve.app import deploy
    from tests.shop import Shop

    with environment(data_dir, haproxy) as (settings, _):
        spawn_all(settings)
        bootstrap(settings)
        deploy(settings)
        with Shop(f"http://127.0.0.1:{settings.http_port}", ADMIN_EMAIL, ADMIN_PASSWORD) as shop:
            yield settings, shop


# -- the two measurements --------------------------------------------------------------------------------
def hot_sku(settings: Settings, server: LocalRedis, plan: Plan, postgres_dsn: str | None) -> dict[str, Any]:
    """The four engines side by side (and the shard's calibration rows), alternating in rounds."""
    import gc

    from benchmarks.hot_sku_redis import LuaBench, LuaRecordBench, SetNxBench
    from benchmarks.hot_sku_shard import ShardBench

    print("\n== 1. one hot SKU, four engines, every acknowledgement durable (Redis AOF always; PostgreSQL "
          "synchronous_commit) ==", flush=True)
    reason = PostgresBench.unavailable(postgres_dsn) if postgres_dsn else "skipped (--no-postgres)"
    if reason:
        print(f"  PostgreSQL: {reason}", flush=True)
    gc_before = gc.get_threshold()  # the in-process shard tunes this process's collector as a shard does its own
    # every engine reaches the server as the shop does (its Unix socket unless BAZAAR_REDIS_UNIX_SOCKET=0), each in
    # a database of its own, away from the HTTP app's keys (0)
    shard_settings = settings.model_copy(update={"redis_url": with_db(server.url, 1)})
    stock = 10**9
    benches: dict[str, Any] = {
        "shard": ShardBench(shard_settings, stock, plan.batch, plan.batched_in_flight),
        "lua": LuaBench(with_db(server.url, 3), stock, plan.batched_in_flight, plan.batch),
        "setnx": SetNxBench(with_db(server.url, 4), stock, plan.setnx_buyers),
        "lua_single": LuaBench(with_db(server.url, 5), stock, plan.single_in_flight, 1),
        "lua_records": LuaRecordBench(with_db(server.url, 6), stock, plan.batched_in_flight, plan.batch),
        "inproc": ShardBench(settings.model_copy(update={"redis_url": with_db(server.url, 2)}), stock, plan.batch,
                             plan.batched_in_flight, through_ray=False),
    }
    if not reason:
        benches["postgres"] = PostgresBench(postgres_dsn or "", stock, plan.postgres_connections)
    modes = {key: Mode(name) for key, name in (
        ("shard", "Bazaar shard (InventoryShard Ray actor), reserve_many"),
        ("lua", "Redis Lua check-and-decrement, pipelined"),
        ("setnx", "Redis SET NX lock around read-check-write"),
        ("postgres", "PostgreSQL UPDATE .. WHERE available >= 1"),
        ("lua_single", "Redis Lua, one script per round trip"),
        ("lua_records", "Redis Lua + the shard's writes (record, event), pipelined"),
        ("inproc", "Bazaar shard in-process (no Ray), reserve_many"),
        ("single", f"Bazaar shard actor, reserve 1 per call, {plan.single_in_flight} in flight"),
        ("sequential", "Bazaar shard actor, reserve 1 per call, 1 in flight")) if key in benches or key in (
            "single", "sequential")}
    counts = {"shard": plan.batched, "lua": plan.lua, "setnx": plan.setnx, "postgres": plan.postgres,
              "lua_single": plan.lua_single, "lua_records": plan.lua, "inproc": plan.inproc}
    shard: ShardBench = benches["shard"]
    oversell: dict[str, Oversell] = {}
    try:
        if "postgres" in benches:
            benches["postgres"].setup()
        for key, bench in benches.items():
            modes[key].client = bench.client
        modes["single"].client = f"Ray actor, one `reserve` call per reservation, {plan.single_in_flight} in flight"
        modes["sequential"].client = "Ray actor, one `reserve` at a time"
        shard.sequential(Mode("warm-up"), 50)
        benches["inproc"].sequential(Mode("warm-up"), 50)
        for r in range(1, plan.rounds + 1):
            for key, bench in benches.items():
                with cpu_of(modes[key], lambda b=bench: getattr(b, "backends", set())):
                    bench.reserve(modes[key], counts[key])
            with cpu_of(modes["single"]):
                shard.one_per_call(modes["single"], plan.single, plan.single_in_flight)
            shard.sequential(modes["sequential"], plan.sequential)
            print(f"  round {r}/{plan.rounds}: " + ", ".join(f"{k} {m.rounds[-1]:,.0f}/s" for k, m in modes.items()
                                                               if m.rounds), flush=True)
        for key in ENGINES:
            if key in benches:
                oversell[key] = benches[key].oversell(plan.oversell_stock, plan.oversell_buyers)
        checks = {f"{key}": bench.verify() for key, bench in benches.items()}
    finally:
        for bench in benches.values():
            bench.close()
        gc.set_threshold(*gc_before)
        gc.unfreeze()
    return {"modes": modes, "checks": checks, "oversell": oversell,
            "postgres_version": benches["postgres"].version if "postgres" in benches else None}


def checkout(settings: Settings, plan: Plan) -> dict[int, dict[str, Any]]:
    """{concurrency: {"routes": {...}, "cpu": [(process kind, CPU ms per checkout, processes)]}}"""
    from actors.system import bootstrap, spawn_all
    from serve.app import deploy
    from tests.shop import Shop

    print(f"\n== 2. checkout through HTTP at {' and '.join(map(str, plan.shoppers))} concurrent shoppers, next to "
          "GET /healthz ==", flush=True)
    started = time.perf_counter()
    spawn_all(settings)
    bootstrap(settings)
    deploy(settings)
    print(f"  actors spawned and Serve app deployed in {time.perf_counter() - started:.1f}s", flush=True)
    results: dict[int, dict[str, Any]] = {}
    with Shop(f"http://127.0.0.1:{settings.http_port}", ADMIN_EMAIL, ADMIN_PASSWORD) as shop:
        most = max(plan.shoppers)
        units = most * (len(plan.shoppers) + plan.rounds * plan.checkouts * len(plan.shoppers)) * 2
        bench = CheckoutBench(shop, most, stock=units)
        bench.prepare()
        for concurrency in plan.shoppers:
            routes = bench.measure(plan.rounds, plan.checkouts, plan.noops, concurrency)
            results[concurrency] = {"routes": routes, "cpu": bench.cpu_rows}
            print(f"\n  {concurrency} shoppers: CPU per checkout (add to cart + checkout), by process, over the "
                  "checkout rounds:")
            print("\n".join(cpu_budget.report(bench.cpu_rows, "checkout")), flush=True)
    return results


# -- the report ------------------------------------------------------------------------------------------
def report_hot_sku(result: dict[str, Any]) -> list[str]:
    return hot_sku_report.table(result)


def report_checkout(results: dict[int, dict[str, Any]]) -> list[str]:
    lines = [f"{'shoppers':>8} {'endpoint':<40} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} "
             f"{'p99 ms':>8} errors"]
    for concurrency, result in results.items():
        routes: dict[str, Route] = result["routes"]
        for name, route in (("GET /healthz (no-op)", routes["noop"]), ("POST /v1/checkout", routes["checkout"]),
                            ("POST /v1/cart/items (between checkouts)", routes["cart"])):
            rate = f"{route.rate:8.1f}" if route is not routes["cart"] else f"{'-':>8}"
            lines.append(f"{concurrency:>8} {name:<40} {len(route.latencies):>8} {rate} {route.percentile(50):8.1f} "
                         f"{route.percentile(90):8.1f} {route.percentile(99):8.1f} {route.errors or 0}")
    lines.append("(req/s of checkout = checkouts completed per second, each shopper also adding its item to the "
                 "cart between checkouts)")
    for concurrency, result in results.items():
        noop, co = result["routes"]["noop"], result["routes"]["checkout"]
        per_round = ", ".join(f"{co.percentile(50, r) / noop.percentile(50, r):.1f}x" for r in range(len(co.marks)))
        cpu = sum(ms for _, ms, _ in result["cpu"])
        lines.append(f"{concurrency} shoppers: checkout rate = {100 * co.rate / noop.rate:.1f}% of the no-op rate; "
                     f"latency checkout / no-op p50 {co.percentile(50) / noop.percentile(50):.1f}x (per round: "
                     f"{per_round}), p99 {co.percentile(99) / noop.percentile(99):.1f}x; CPU {cpu:.1f} ms per "
                     f"checkout, all processes; the load generator used {100 * co.client_cpu / co.seconds:.0f}% of "
                     f"a core in the checkout rounds, {100 * noop.client_cpu / noop.seconds:.0f}% in the no-op rounds")
    return lines


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def save(path: Path, figures: dict[str, Any]) -> None:
    """The figures as JSON (benchmarks/results/ is git-ignored): rates and percentiles, not raw samples."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mode):
            return {"name": value.name, "client": value.client, "reservations": value.reservations,
                    "seconds": round(value.seconds, 3), "per_second": round(value.rate, 1),
                    "per_round": [round(r, 1) for r in value.rounds], "transactions": value.transactions,
                    "commands": value.commands, "cpu_us_per_reservation": hot_sku_report.cpu_columns(value)}
        if isinstance(value, Oversell):
            return {**value.__dict__, "oversold": value.oversold, "ok": value.ok}
        if isinstance(value, Route):
            return {"name": value.name, "requests": len(value.latencies), "seconds": round(value.seconds, 3),
                    "client_cpu_seconds": round(value.client_cpu, 3),
                    "per_second": round(value.rate, 1), "errors": value.errors,
                    **{f"p{q}_ms": round(value.percentile(q), 2) for q in (50, 90, 99)}}
        return str(value)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, default=plain))


def save_hot_sku(stem: Path, result: dict[str, Any], info: dict[str, Any]) -> list[str]:
    """The hot-SKU table as CSV and a chart beside the JSON; the lines to print."""
    when = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load = " ".join(f"{x:.2f}" for x in info["loadavg"]) + " -> " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    csv_path, png_path = stem.with_name(stem.name + "-hot-sku.csv"), stem.with_name(stem.name + "-hot-sku.png")
    hot_sku_report.write_csv(csv_path, result, when, load)
    lines = [f"hot-SKU table saved to {csv_path}"]
    title = (f"One hot SKU, every acknowledgement durable: reservations/s by engine (dots: rounds)\n{when}, "
             f"{info['nproc']} cores, load average {load}")
    problem = hot_sku_report.write_png(png_path, result, title)
    lines.append(problem or f"hot-SKU chart saved to {png_path}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.core", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (about a minute)")
    parser.add_argument("--rounds", type=int, help="alternating rounds of each measurement (default 2)")
    parser.add_argument("--no-haproxy", dest="haproxy", action="store_false",
                        help="serve HTTP through Serve's default proxy instead of HAProxy (which `make run` uses)")
    parser.add_argument("--postgres-dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", choices=["hot-sku", "checkout"], help="run one of the two measurements")
    parser.add_argument("--shoppers", type=int, nargs="+", help="checkout's concurrency levels (default 16 64)")
    parser.add_argument("--inventory-shards", type=int, help="the shop's inventory shards (default 1)")
    parser.add_argument("--shopper-shards", type=int, help="the shop's shopper shards (default 1)")
    args = parser.parse_args(argv)
    overrides = {"rounds": args.rounds, "shoppers": tuple(args.shoppers or ()),
                 "inventory_shards": args.inventory_shards, "shopper_shards": args.shopper_shards}
    plan = replace(QUICK if args.quick else Plan(), **{name: value for name, value in overrides.items() if value})
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C

    info = machine()
    print(f"Bazaar core benchmark{' (--quick)' if args.quick else ''}: "
          f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gib']} GiB, kernel {info['kernel']}, "
          f"python {info['python']}, ray {info['ray']}; load average at start "
          + " ".join(f"{x:.2f}" for x in info["loadavg"]), flush=True)
    info["cpu_speed_start"] = cpu_speed()
    print(f"pure-Python speed at start: {info['cpu_speed_start']:.1f} M loop steps/s (higher = quieter machine)",
          flush=True)
    started = time.perf_counter()
    figures: dict[str, Any] = {"machine": info, "plan": plan.__dict__, "quick": args.quick, "haproxy": args.haproxy}
    lines: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bzb-") as tmp, \
                environment(Path(tmp), args.haproxy, plan.inventory_shards, plan.shopper_shards) as (settings, server):
            info["redis"] = server_version(server)
            if args.only != "checkout":
                result = hot_sku(settings, server, plan, None if args.no_postgres else args.postgres_dsn)
                figures["hot_sku"] = result
                lines += ["", f"hot SKU (redis-server {info['redis']}, appendfsync always"
                          + (f"; PostgreSQL {result['postgres_version']}" if result["postgres_version"] else "")
                          + ")", *report_hot_sku(result)]
            if args.only != "hot-sku":
                results = checkout(settings, plan)
                figures["checkout"] = results
                lines += ["", "HTTP, Serve "
                          + ("behind HAProxy, as `make run` serves it" if args.haproxy else "with its default proxy")
                          + f"; {settings.inventory_shards} inventory, {settings.shopper_shards} shopper and "
                          f"{settings.user_shards} user shard(s), {settings.api_replicas} API replicas",
                          *report_checkout(results)]
    except KeyboardInterrupt:
        print("\ninterrupted: redis-server, Ray and Serve stopped", flush=True)
        return 130
    elapsed = time.perf_counter() - started
    info["cpu_speed_end"] = cpu_speed()
    if args.quick:  # a smoke run's few requests say nothing of a p99
        lines += ["", "issue 9's bars: not judged on a --quick run"]
    else:
        judged = bars.issue9(figures)
        figures["bars"] = [b.__dict__ for b in judged]
        lines += ["", *bars.report(judged)]
    lines.append(f"\nwall time {elapsed:.0f}s; load average at end " + " ".join(f"{x:.2f}" for x in os.getloadavg())
                 + f"; pure-Python speed {info['cpu_speed_start']:.1f} at start, {info['cpu_speed_end']:.1f} at end")
    print("\n".join(lines), flush=True)
    name = time.strftime("core-%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    save(RESULTS_DIR / f"{name}.json", figures)
    print(f"figures saved to {RESULTS_DIR / name}.json")
    if "hot_sku" in figures:
        print("\n".join(save_hot_sku(RESULTS_DIR / name, figures["hot_sku"], info)))
    failed = any(not c["ok"] for c in figures.get("hot_sku", {}).get("checks", {}).values()) or any(
        not o.ok for o in figures.get("hot_sku", {}).get("oversell", {}).values()) or any(
        route.errors for result in figures.get("checkout", {}).values() for route in result["routes"].values())
    return 1 if failed else 0


def server_version(server: LocalRedis) -> str:
    import redis

    client = redis.Redis(port=server.port)
    try:
        info: Any = client.info("server")
        return str(info["redis_version"])
    finally:
        client.close()


if __name__ == "__main__":
    raise SystemExit(main())
