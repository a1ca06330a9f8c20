"""What one Ray actor call costs on this machine, in CPU by process: a no-op method called from this process.

    .venv/bin/python -m benchmarks.ray_call

The floor under every actor hop of the shop (a checkout makes five per loop: add and checkout into the shopper
shard, the sale into the inventory shard). Starts its own local Ray and stops it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ray

from benchmarks import cpu_budget

CALLS = 5_000
IN_FLIGHT = 16


class NoOp:
    async def call(self, number: int, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "number": number}


def main() -> None:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        actor: Any = ray.remote(NoOp).options(num_cpus=0, max_concurrency=1000).remote()

        async def drive(calls: int) -> None:
            numbers = iter(range(calls))

            async def caller() -> None:
                for number in numbers:
                    await actor.call.remote(number, "usr_01ABCDEFGHJKMNPQRSTVWXYZ01", {"quantity": 1})

            await asyncio.gather(*(caller() for _ in range(IN_FLIGHT)))

        asyncio.run(drive(500))  # warm-up
        before, started = cpu_budget.snapshot(), time.perf_counter()
        asyncio.run(drive(CALLS))
        elapsed, after = time.perf_counter() - started, cpu_budget.snapshot()
        print(f"{CALLS} no-op actor calls, {IN_FLIGHT} in flight: {CALLS / elapsed:,.0f} calls/s")
        print("\n".join(cpu_budget.report(cpu_budget.budget(before, after, CALLS), "call")))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
