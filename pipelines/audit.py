"""`make audit`: check every invariant of a live shop from Redis, read-only (the checks: domain/audit.py).

    python -m pipelines.audit [--recovery-seconds 60] [--json]

Reads the whole store (stock and reservations of every inventory shard, every order, every payment, every
unfinished checkout saga, every seller's ledger) with a progress bar, prints each violation, and exits 1 when
there is any (0 when the store is sound, 2 when it cannot be read). The Redis is REDIS_URL / BAZAAR_REDIS_URL,
else the one `make run` starts (127.0.0.1:BAZAAR_REDIS_PORT). It writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import redis
from tqdm import tqdm

from actors import keys
from config import Settings, load_settings
from config.settings import SettingsError
from domain.audit import Snapshot, Violation, audit
from serve.main import plain_env_overrides

BATCH = 1000


def read_store(client: redis.Redis, settings: Settings, recovery_seconds: float) -> Snapshot:
    """Sagas first: whatever a saga read here did is then either in flight (skipped) or finished (checked)."""
    store = Snapshot(now=time.time(), sweep_seconds=settings.reservation_sweep_seconds,
                     recovery_seconds=recovery_seconds)
    with tqdm(desc="reading the store", unit="record", leave=False) as bar:
        for shard in range(settings.shopper_shards):
            store.sagas.update(_hash(client, keys.sagas(shard), bar))
        for shard in range(settings.inventory_shards):
            store.levels.update(_hash(client, keys.inventory_stock(shard), bar))
            store.reservations.update(_hash(client, keys.inventory_reservations(shard), bar))
            store.watches.update(_hash(client, keys.inventory_watches(shard), bar))
            store.purchase_orders.update(_hash(client, keys.purchase_orders(shard), bar))
        order_keys = [key for key in client.scan_iter(match=keys.order("*"), count=BATCH)]
        for start in range(0, len(order_keys), BATCH):
            chunk = order_keys[start:start + BATCH]
            raws: list[str | None] = client.mget(chunk)  # type: ignore[assignment]
            for raw in raws:
                if raw is not None:
                    order = json.loads(raw)
                    store.orders[order["id"]] = order
            bar.update(len(chunk))
        store.payments.update(_hash(client, keys.PAYMENTS, bar))
        prefix = keys.SELLER_LEDGERS.rstrip("*")
        for key in client.scan_iter(match=keys.SELLER_LEDGERS, count=BATCH):
            store.seller_ledgers[key[len(prefix):]] = _hash(client, key, bar)
        prefix, suffix = keys.coupon_uses("*").split("*")
        for key in client.scan_iter(match=keys.coupon_uses("*"), count=BATCH):
            store.coupon_uses[key[len(prefix):-len(suffix)]] = _hash(client, key, bar)
    return store


def _hash(client: redis.Redis, key: str, bar: tqdm[Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for field, raw in client.hscan_iter(key, count=BATCH):
        found[field] = json.loads(raw)
        bar.update(1)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.audit", description=__doc__.split("\n")[0])
    parser.add_argument("--recovery-seconds", type=float, default=60.0,
                        help="how long a checkout may be in flight before it must have finished (default 60)")
    parser.add_argument("--json", action="store_true", help="print the violations as JSON lines")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(**plain_env_overrides(__import__("os").environ))
    except SettingsError as exc:
        print(exc.code, file=sys.stderr)
        return 2
    violations, summary = run(settings, args.recovery_seconds)
    for violation in violations:
        print(json.dumps(violation.__dict__) if args.json else violation)
    print(summary, file=sys.stderr)
    return 1 if violations else 0


def run(settings: Settings, recovery_seconds: float = 60.0) -> tuple[list[Violation], str]:
    url = settings.redis_url or f"redis://127.0.0.1:{settings.redis_port}/0"
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        store = read_store(client, settings, recovery_seconds)
    except redis.RedisError as exc:
        raise SystemExit(f"cannot read the store at {url}: {exc}") from None
    finally:
        client.close()
    violations = audit(store)
    uses = sum(len(u) for u in store.coupon_uses.values())
    summary = (f"audited {len(store.levels)} variants, {len(store.reservations)} reservations, {len(store.orders)} "
               f"orders, {len(store.payments)} payments, {len(store.sagas)} unfinished sagas, {uses} coupon uses: "
               + (f"{len(violations)} violations" if violations else "no violations"))
    return violations, summary


if __name__ == "__main__":
    raise SystemExit(main())
