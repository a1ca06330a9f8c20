"""The HAProxy wrapper (serve/haproxy_wrapper.py), with a real HAProxy started through it:
- it puts the API's 503 in place of Serve's plain-text 500 page: a request HAProxy cannot pass on is answered in
  the contract's shape;
- on the configuration Serve itself generates, the stats page and the metrics exporter listen on loopback only and
  the admin socket is 600, while the API's frontend stays as Serve wrote it but for its first two rules;
- those rules: Serve's own request headers reach a replica as HAProxy sets them, whatever the client sent."""

from __future__ import annotations

import http.server
import json
import os
import shlex
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from serve.haproxy_wrapper import API_RULES, haproxy_wrapper
from serve.local_redis import free_port
from tests.support import haproxy_in_front_of


class _Echo(http.server.BaseHTTPRequestHandler):
    """A backend that answers every GET with the request headers it received, as JSON."""

    def do_GET(self) -> None:  # http.server calls it by this name
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_serves_request_headers_reach_a_replica_as_haproxy_sets_them_not_as_the_client_sent_them(
        tmp_path: Path) -> None:
    """A client must not be able to have Serve cancel a route part-way (`x-request-timeout-seconds`), nor turn
    back on the disconnect watch that cancels a route when its client hangs up."""
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        with haproxy_in_front_of(f"127.0.0.1:{backend.server_address[1]}", tmp_path) as url:
            plain = httpx.get(f"{url}/v1/products", timeout=10).json()
            spoofed = httpx.get(f"{url}/v1/products", timeout=10, headers={
                "X-Request-Timeout-Seconds": "0.001", "X-Request-Disconnect-Disabled": "?0"}).json()
    finally:
        backend.shutdown()
    for seen in (plain, spoofed):
        assert "x-request-timeout-seconds" not in seen
        assert seen["x-request-disconnect-disabled"] == "?1"


def test_haproxy_answers_a_request_no_replica_can_take_with_the_contracts_503(tmp_path: Path) -> None:
    dead_replica = f"127.0.0.1:{free_port()}"
    with haproxy_in_front_of(dead_replica, tmp_path) as url:
        response = httpx.post(f"{url}/v1/checkout", json={}, timeout=10)
    assert response.status_code == 503, response.text
    assert response.json() == {"error": {"code": "unavailable", "message": response.json()["error"]["message"],
                                         "details": None}}
    assert response.headers["retry-after"] == "1"


def serve_generated_config(directory: Path, api_port: int, stats_port: int, metrics_port: int) -> Path:
    """The configuration Serve's own HAProxy manager writes (its template, its defaults), in `directory`."""
    from ray.serve._private.haproxy import HAProxyApi, HAProxyConfig
    from ray.serve.config import HTTPOptions

    config = directory / "haproxy.cfg"
    cfg = HAProxyConfig(socket_path=str(directory / "admin.sock"), stats_port=stats_port, metrics_port=metrics_port,
                        http_options=HTTPOptions(host="0.0.0.0", port=api_port), enable_hap_optimization=False,
                        server_state_base=str(directory), server_state_file=str(directory / "server-state"),
                        metrics_socket_path=str(directory / "metrics.sock"))
    HAProxyApi(cfg, config_file_path=str(config))._generate_config_file_internal()
    return config


def listening(port: int) -> set[str]:
    """The local addresses (hex, as the kernel shows them) of TCP sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


@contextmanager
def running(wrapper: Path, config: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    haproxy = subprocess.Popen([str(wrapper), "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not listening(port):
            assert haproxy.poll() is None, f"HAProxy stopped: {haproxy.stderr.read() if haproxy.stderr else ''}"
            assert time.monotonic() < deadline, "HAProxy did not start"
            time.sleep(0.05)
        yield haproxy
    finally:
        haproxy.terminate()
        haproxy.wait(timeout=10)


LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
ANYWHERE = "00000000"


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads the kernel's socket table")
def test_serves_own_config_keeps_stats_metrics_and_the_admin_socket_to_this_machine(tmp_path: Path) -> None:
    wrapper = Path(haproxy_wrapper(tmp_path / "bin")["RAY_SERVE_HAPROXY_BINARY_PATH"])
    directory = tmp_path / "hp"
    directory.mkdir()
    api, stats, metrics = free_port(), free_port(), free_port()
    config = serve_generated_config(directory, api, stats, metrics)
    as_generated = config.read_text()
    assert f"bind *:{stats}" in as_generated and f"bind :{metrics}" in as_generated and " mode 666 " in as_generated

    with running(wrapper, config, stats):
        assert listening(stats) == {LOOPBACK} and listening(metrics) == {LOOPBACK}
        assert listening(api) == {ANYWHERE}, "the API's frontend is bound as Serve was told"
        assert stat.S_IMODE(os.stat(directory / "admin.sock").st_mode) == 0o600
        assert httpx.get(f"http://127.0.0.1:{stats}/stats", timeout=5).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{metrics}/metrics", timeout=5).status_code == 200
        outside = _an_outside_address()
        if outside is not None:
            with pytest.raises(httpx.TransportError):
                httpx.get(f"http://{outside}:{stats}/stats", timeout=2)

    hardened = config.read_text()
    assert f"bind 127.0.0.1:{stats}" in hardened and f"bind 127.0.0.1:{metrics}" in hardened
    assert " mode 600 " in hardened and " mode 666 " not in hardened
    assert "\ndefaults\n    option forwardfor\n" in hardened, "HAProxy appends the client's address"
    rules = "".join(f"{rule}\n" for rule in API_RULES)
    assert f"\nfrontend http_frontend\n{rules}" in hardened, "Serve's request headers are set first in the API's"
    assert hardened.replace(f"127.0.0.1:{stats}", f"*:{stats}").replace(f"127.0.0.1:{metrics}", f":{metrics}") \
        .replace(" mode 600 ", " mode 666 ").replace("    option forwardfor\n", "", 1).replace(rules, "", 1) \
        == as_generated, "nothing else changed"


def _an_outside_address() -> str | None:
    """This machine's address on its way out (no packet is sent), if it has one besides loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only asks the kernel for a route
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_a_cluster_node_gets_the_same_wrapper_from_the_command_line(tmp_path: Path) -> None:
    """cluster.yaml evaluates this command's output before `ray start` on every node."""
    printed = subprocess.run([sys.executable, "-m", "serve.haproxy_wrapper", str(tmp_path / "hp")], check=True,
                             capture_output=True, text=True).stdout
    exported = dict(pair.split("=", 1) for pair in shlex.split(printed.removeprefix("export ")))
    wrapper = Path(exported["RAY_SERVE_HAPROXY_BINARY_PATH"])
    assert wrapper.parent == tmp_path / "hp" and os.access(wrapper, os.X_OK)
    assert "option forwardfor" in wrapper.read_text() and "127.0.0.1" in wrapper.read_text()
    cluster = (Path(__file__).parents[2] / "cluster.yaml").read_text()
    assert cluster.count("eval \"$(~/bazaar/.venv/bin/python -m serve.haproxy_wrapper") == 2, "the head and workers"
