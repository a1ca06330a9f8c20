"""Payouts on a schedule: pay every approved seller its positive ledger balance through the gateway, as
`POST /v1/admin/payouts/run` does (docs/api-fulfilment.md). The scheduler runs it as a Ray Job (`schedules`:
`payouts`, daily by default); it joins the shop's cluster and asks each seller's user shard (actors/payouts.py), so
a run racing another, or one cut short, pays nothing twice.

    python -m pipelines.payouts        (needs the shop's cluster: RAY_ADDRESS, as a Ray Job's entrypoint has it)
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import redis

from actors import keys
from actors.routing import Router
from config import Settings, load_settings
from pipelines.summary import print_summary
from serve.main import plain_env_overrides


def run(settings: Settings) -> list[dict[str, Any]]:
    import ray

    from analytics.files import ensure_ray

    ensure_ray(settings)
    client = redis.Redis.from_url(settings.redis_url or f"redis://127.0.0.1:{settings.redis_port}/0",
                                  decode_responses=True)
    try:
        sellers = [json.loads(raw) for raw in client.hvals(keys.SELLERS)]  # type: ignore[union-attr]
    finally:
        client.close()
    router = Router(settings)
    approved = [s for s in sellers if s.get("status") == "approved"]
    runs = ray.get([router.owner("users", s["user_id"]).pay_out.remote(s["id"]) for s in approved])
    return [payout for paid in runs for payout in paid]


def main() -> int:
    settings = load_settings(**plain_env_overrides(os.environ))
    if not settings.ray_address:
        print("payouts: the shop's cluster is needed (RAY_ADDRESS)", file=sys.stderr)
        return 2
    payouts = run(settings)
    print(f"payouts: {len(payouts)} paid, {sum(-p['amount'] for p in payouts)} in minor units")
    print_summary(len(payouts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
