"""The short chaos run (`make chaos` runs every scenario): checkout traffic from careful clients while shopper and
inventory shard processes are SIGKILLed twice in a row and redis-server is SIGKILLed and restarted from its AOF;
afterwards nothing acknowledged is lost, nothing is oversold or charged twice, no unit leaks, and the whole store
passes the audit."""

from __future__ import annotations

from config import Settings
from serve.local_redis import LocalRedis
from tests.chaos import QUICK, RETRYABLE, SCENARIOS, Chaos, table
from tests.shop import Shop


def test_checkouts_survive_processes_killed_under_load(shop: Shop, settings: Settings,
                                                       redis_server: LocalRedis) -> None:
    chaos = Chaos(shop, settings, redis_server, seed=7)
    outcomes = [chaos.run(name, SCENARIOS[name], shoppers=10) for name in QUICK]
    report = table(outcomes)
    print(report)
    for outcome in outcomes:
        assert outcome.stuck == [], outcome.stuck  # every careful client got its answers
        assert outcome.acknowledged > 0 and outcome.sold_out > 0, report  # a real sale that sold out part-way
        assert sum(outcome.unexpected.values()) > 0, report  # the faults hit the traffic: something was retried
        assert (outcome.lost, outcome.oversold, outcome.double_charged, outcome.leaked_units) == (0, 0, 0, 0), report
        assert outcome.violations == [], [str(v) for v in outcome.violations]
        assert set(outcome.unexpected) <= RETRYABLE, report  # retried only on 503 or no connection
