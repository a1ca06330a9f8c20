"""What one call into an actor costs on this machine, in CPU by process: a no-op method called from this process,
as a Ray actor call and over the actor's direct channel (actors/channel.py), alternating.

    .venv/bin/python -m benchmarks.ray_call

The floor under every actor hop of the shop: a checkout loop made three Ray calls on its path (add to cart and
checkout into the shopper shard, the sale into the inventory shard) before those went over the channel. Starts
its own local Ray and stops it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ray

from actors.channel import Channel, ChannelServer, channel_key
from benchmarks import cpu_budget

CALLS = 5_000
IN_FLIGHT = 16
ROUNDS = 2
SECRET = "a-benchmark-secret-nobody-else-uses-0123456789"


class NoOp:
    def __init__(self) -> None:
        self.server = ChannelServer(self, frozenset({"call"}), channel_key(SECRET))

    async def call(self, number: int, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "number": number}

    async def channel_address(self) -> tuple[str, int]:
        return await self.server.start(ray.util.get_node_ip_address())


def main() -> None:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        actor: Any = ray.remote(NoOp).options(num_cpus=0, max_concurrency=1000).remote()

        async def drive(calls: int, direct: bool) -> None:
            numbers = iter(range(calls))
            channel = Channel("noop", actor, channel_key(SECRET))

            async def caller() -> None:
                for number in numbers:
                    args = (number, "usr_01ABCDEFGHJKMNPQRSTVWXYZ01", {"quantity": 1})
                    await (channel.call("call", *args) if direct else actor.call.remote(*args))

            try:
                await asyncio.gather(*(caller() for _ in range(IN_FLIGHT)))
            finally:
                channel.close()

        for _ in range(ROUNDS):
            for direct in (False, True):
                asyncio.run(drive(500, direct))  # warm-up
                before, started = cpu_budget.snapshot(), time.perf_counter()
                asyncio.run(drive(CALLS, direct))
                elapsed, after = time.perf_counter() - started, cpu_budget.snapshot()
                how = "over the actor's channel" if direct else "as Ray actor calls"
                print(f"{CALLS} no-op calls {how}, {IN_FLIGHT} in flight: {CALLS / elapsed:,.0f} calls/s")
                print("\n".join(cpu_budget.report(cpu_budget.budget(before, after, CALLS), "call")[:4]))
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
