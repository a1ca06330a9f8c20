"""The HAProxy wrapper puts the API's 503 in place of Serve's plain-text 500 page: a real HAProxy, started through
it with Serve's kind of configuration, answers a request it cannot pass on in the contract's shape."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from serve.haproxy_errors import contract_error_wrapper
from serve.local_redis import free_port


def test_haproxy_answers_a_request_no_replica_can_take_with_the_contracts_503(tmp_path: Path) -> None:
    wrapper = Path(contract_error_wrapper(tmp_path / "bin")["RAY_SERVE_HAPROXY_BINARY_PATH"])
    config_dir = tmp_path / "hp"
    config_dir.mkdir()
    (config_dir / "500.http").write_text("HTTP/1.1 500 Internal Server Error\r\n\r\nInternal Server Error")  # Serve's
    port, dead_replica = free_port(), free_port()
    config = config_dir / "haproxy.cfg"
    config.write_text(f"""defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    errorfile 502 {config_dir / '500.http'}
    errorfile 503 {config_dir / '500.http'}
    errorfile 504 {config_dir / '500.http'}
frontend api
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    server replica 127.0.0.1:{dead_replica}
""")
    haproxy = subprocess.Popen([str(wrapper), "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        response = None
        deadline = time.monotonic() + 20
        while response is None:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/v1/checkout", json={}, timeout=10)
            except httpx.TransportError:  # HAProxy is still starting
                assert time.monotonic() < deadline and haproxy.poll() is None, "HAProxy did not start"
                time.sleep(0.1)
        assert response.status_code == 503, response.text
        assert response.json() == {"error": {"code": "unavailable", "message": response.json()["error"]["message"],
                                             "details": None}}
        assert response.headers["retry-after"] == "1"
    finally:
        haproxy.terminate()
        haproxy.wait(timeout=10)
