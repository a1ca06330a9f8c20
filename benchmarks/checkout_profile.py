"""`python -m benchmarks.checkout_profile`: keep the shop checking out at N shoppers and record the processes on the
checkout's path with py-spy, then print where each kind of process spends its samples.

It starts the shop as `make bench` does (its own redis-server with `appendfsync always`, a local Ray, every actor,
the Serve app behind HAProxy, a real mail server), registers the shoppers, warms up, and records
`--seconds` of steady add-to-cart-then-checkout traffic. For each process kind (`--kinds`) it prints the functions
with the most samples, both as the innermost frame (self) and anywhere on the stack (total), summed over that
kind's processes; `--out DIR` keeps py-spy's collapsed stacks (`py-spy record -f raw`) for a flame graph.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks import cpu_budget
from benchmarks.core import shop_running
from benchmarks.http_checkout import CheckoutBench, Route, Shopper, run_concurrently

KINDS = ("ray::ShopperShard", "ray::ServeReplica:bazaar:api", "ray::InventoryShard", "ray::Notifier")


def summarize(stacks: Path, top: int) -> list[str]:
    """The `top` functions by self and by total samples of one or more collapsed-stack files."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in stacks.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        n = int(count)
        samples += n
        names = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                 if " (" in f else f for f in frames.split(";")]
        own[names[-1]] += n
        for name in set(names):
            total[name] += n
    lines = [f"    {samples} samples"]
    lines += ["    self:"] + [f"      {100 * n / samples:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["    total:"] + [f"      {100 * n / samples:5.1f}%  {name}" for name, n in total.most_common(top)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.checkout_profile", description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20, help="how long py-spy records (default 20)")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), help="process kinds to record")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="keep the collapsed stacks in this directory")
    args = parser.parse_args(argv)
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        print("py-spy is not installed (.venv/bin/pip install py-spy)")
        return 1
    if True:
        with tempfile.TemporaryDirectory(prefix="bzc-") as tmp, shop_running(Path(tmp), True) as (_, shop):
            out = args.out or Path(tmp) / "stacks"
            out.mkdir(parents=True, exist_ok=True)
            bench = CheckoutBench(shop, args.shoppers, stock=10**8)
            bench.prepare()
            bench.measure(1, 2, 20, args.shoppers)  # warm-up and a short round
            stop = threading.Event()
            checkout, cart = Route("checkout"), Route("cart")

            async def shopper(s: Shopper) -> None:
                while not stop.is_set():
                    await bench.checkouts(s, 5, checkout, cart, _Bar())

            shopping = threading.Thread(target=lambda: run_concurrently([shopper(s) for s in bench.shoppers]),
                                        daemon=True)
            shopping.start()
            time.sleep(3)
            pids = {pid: sample.label for pid, sample in cpu_budget.snapshot().items() if sample.label in args.kinds}
            started = time.perf_counter()
            spies = {pid: subprocess.Popen([binary, "record", "-p", str(pid), "-d", str(args.seconds), "-r", "100",
                                            "--nonblocking", "-f", "raw", "-o", str(out / f"{pid}.txt")],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids}
            before = len(checkout.latencies)
            for spy in spies.values():
                spy.wait()
            done, elapsed = len(checkout.latencies) - before, time.perf_counter() - started
            stop.set()
            shopping.join()
            print(f"\n{done} checkouts in {elapsed:.1f}s while recording ({done / elapsed:.1f}/s), errors "
                  f"{checkout.errors or 'none'}")
            for kind in args.kinds:
                merged = out / f"{kind.replace(':', '_').replace('/', '_')}.txt"
                merged.write_text("".join((out / f"{pid}.txt").read_text() for pid, label in pids.items()
                                          if label == kind and (out / f"{pid}.txt").exists()))
                print(f"\n  {kind} ({sum(1 for label in pids.values() if label == kind)} processes)")
                print("\n".join(summarize(merged, args.top)))
    return 0


class _Bar:
    def update(self, n: int) -> None:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
