"""A redis-server of our own: AOF persistence under the data directory, on a port of its own and on a Unix socket
beside its data, which is what its clients are given: every Redis round trip of a checkout is a message through the
kernel, and over a Unix socket that costs each side about half what TCP over loopback does (benchmarks/README.md).
The port stays open for operators (redis-cli, `make audit`)."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis


def with_db(url: str, db: int) -> str:
    """The same Redis at database `db`, for a TCP URL (`redis://host:port/N`) or a Unix socket's (`unix://path?db=N`)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"] + [("db", str(db))]
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))


QUIET_PORTS_FROM = 20_000  # Ray's workers listen on 10002-19999 by default; below those, well-known services
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on loopback now that no other process is likely to take before its user binds it: one between
    Ray's worker ports and the kernel's ephemeral range. A port from that range (what binding port 0 gives) is also
    what every outbound connection of every process draws from, and one was seen taken that way before Serve's
    HAProxy could bind it (`make bench` failed to start: "cannot bind socket (Address already in use)"). From the
    ephemeral range only when the machine leaves no room below it."""
    low = ephemeral_ports()[0]
    room = range(QUIET_PORTS_FROM, low)
    for port in random.sample(room, min(64, len(room))) if len(room) >= 1_000 else ():
        if port in _HANDED_OUT:  # not bound yet, perhaps: two servers of one process must not get the same port
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ephemeral_ports() -> tuple[int, int]:
    """The kernel's range for ports it picks itself (Linux's default 32768-60999; IANA's 49152-65535 elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49_152, 65_535


SOCKET_PATH_MAX = 100  # a Unix socket's path has at most 107 bytes on Linux: a deeper data directory gets TCP only


class LocalRedis:
    def __init__(self, data_dir: Path, port: int, appendfsync: str = "always", unix_socket: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.appendfsync = appendfsync
        socket_path = self.data_dir / "redis.sock"
        self.socket_path = socket_path if unix_socket and len(str(socket_path)) <= SOCKET_PATH_MAX else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """What clients are given: the Unix socket when there is one, else the port."""
        return f"unix://{self.socket_path}?db=0" if self.socket_path else self.tcp_url

    @property
    def tcp_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> LocalRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed: apt-get install redis-server (make run does it as root)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
             "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
             "--daemonize", "no", "--logfile", str(self.data_dir / "redis.log"), "--protected-mode", "yes",
             *(["--unixsocket", str(self.socket_path), "--unixsocketperm", "700"] if self.socket_path else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"redis-server exited at start; see {self.data_dir / 'redis.log'}")
            try:
                if client.ping():
                    return self
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        raise SystemExit(f"redis-server did not answer on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
