"""The HAProxy wrapper puts the API's 503 in place of Serve's plain-text 500 page: a real HAProxy, started through
it with Serve's kind of configuration, answers a request it cannot pass on in the contract's shape."""

from __future__ import annotations

from pathlib import Path

import httpx

from serve.local_redis import free_port
from tests.support import haproxy_in_front_of


def test_haproxy_answers_a_request_no_replica_can_take_with_the_contracts_503(tmp_path: Path) -> None:
    dead_replica = f"127.0.0.1:{free_port()}"
    with haproxy_in_front_of(dead_replica, tmp_path) as url:
        response = httpx.post(f"{url}/v1/checkout", json={}, timeout=10)
    assert response.status_code == 503, response.text
    assert response.json() == {"error": {"code": "unavailable", "message": response.json()["error"]["message"],
                                         "details": None}}
    assert response.headers["retry-after"] == "1"
