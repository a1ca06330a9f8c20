"""`python -m benchmarks.hot_sku_profile`: keep Bazaar's shard busy on one hot SKU long enough to profile it.

It starts its own redis-server (AOF, `appendfsync always`) and, with `--through ray`, a local Ray, then feeds the
shard `reserve_many` batches as `make bench` does. With `--py-spy OUT` (py-spy installed: `.venv/bin/pip install
py-spy`) it records the shard's process (`--through ray`) or this one (`--through none`, the shard in-process)
into OUT (an SVG flame graph, or collapsed stacks when OUT ends in .txt); otherwise it prints the pids, for
`py-spy top -p PID` by hand.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.hot_sku import Mode
from benchmarks.hot_sku_shard import ShardBench
from config import load_settings
from serve.local_redis import LocalRedis, free_port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hot_sku_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--through", choices=["ray", "none"], default="ray")
    parser.add_argument("--reservations", type=int, default=400_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--py-spy", metavar="OUT", help="record the shard's process with py-spy into OUT")
    parser.add_argument("--seconds", type=int, default=10, help="how long py-spy records (default 10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bzp-") as tmp:
        server = LocalRedis(Path(tmp) / "redis", free_port(), appendfsync="always").start()
        try:
            settings = load_settings(env="test", data_dir=Path(tmp), redis_url=server.url,
                                     ray_namespace=f"bazaar-profile-{os.getpid()}", jwt_secret="p" * 48)
            if args.through == "ray":
                import ray

                ray.init(num_cpus=2, include_dashboard=False, namespace=settings.ray_namespace,
                         log_to_driver=False, configure_logging=False)
            bench = ShardBench(settings, 10**9, args.batch, args.in_flight, through_ray=args.through == "ray")
            print(f"shard pid {bench.pid}, driver pid {os.getpid()}, redis-server pid "
                  f"{server.process.pid if server.process else '?'}", flush=True)
            spy = _py_spy(bench.pid, args.py_spy, args.seconds) if args.py_spy else None
            mode = Mode("reserve_many")
            bench.reserve(mode, args.reservations)
            print(f"{mode.rate:,.0f} reservations/s, {mode.reservations / max(mode.transactions, 1):,.0f} per "
                  f"MULTI/EXEC; {bench.verify()}", flush=True)
            if spy is not None:
                spy.wait()
                print(f"profile written to {args.py_spy}")
            bench.close()
        finally:
            server.stop()
    return 0


def _py_spy(pid: int, out: str, seconds: int) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        print("py-spy is not installed (.venv/bin/pip install py-spy): no profile", flush=True)
        return None
    fmt = ["-f", "raw"] if out.endswith(".txt") else []
    return subprocess.Popen([binary, "record", "-p", str(pid), "-d", str(seconds), "-r", "200", "--nonblocking",
                             "-o", out, *fmt], stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    raise SystemExit(main())
