"""Ray starts its workers at niceness 15 unless told; the shop's workers are the service (serve/main.py
`local_ray_environment`): they run at the niceness of Ray's own processes and redis-server."""

from __future__ import annotations

import os

from ray.util.state import list_actors

from serve.local_redis import LocalRedis


def test_every_actor_and_api_replica_runs_at_the_niceness_of_redis_server(api_url: str,
                                                                          redis_server: LocalRedis) -> None:
    alive = [a for a in list_actors(filters=[("state", "=", "ALIVE")], limit=1000) if a.pid]
    assert {"ShopperShard", "InventoryShard", "ServeReplica:bazaar:api"} <= {a.class_name for a in alive}
    assert redis_server.process is not None
    expected = os.getpriority(os.PRIO_PROCESS, redis_server.process.pid)
    niceness = {a.class_name: os.getpriority(os.PRIO_PROCESS, a.pid) for a in alive}
    assert niceness == dict.fromkeys(niceness, expected)
