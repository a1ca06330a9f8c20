"""The redis-server `make run`, the tests and the benchmarks start (serve/local_redis.py): its clients are given its
Unix socket, which only our own user may open; operators keep its port."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import redis

from serve.local_redis import QUIET_PORTS_FROM, LocalRedis, ephemeral_ports, free_port, with_db


def test_clients_are_given_the_unix_socket_and_the_port_still_answers(tmp_path: Path) -> None:
    server = LocalRedis(tmp_path / "redis", free_port(), appendfsync="everysec").start()
    try:
        assert server.socket_path is not None
        assert server.url == f"unix://{server.socket_path}?db=0"
        client = redis.Redis.from_url(server.url, decode_responses=True)
        client.set("written", "over the socket")
        assert stat.S_IMODE(server.socket_path.stat().st_mode) == 0o700
        by_port = redis.Redis.from_url(server.tcp_url, decode_responses=True)
        assert by_port.get("written") == "over the socket"
        assert int(by_port.client_info()["db"]) == 0 == int(client.client_info()["db"])
    finally:
        server.stop()


def test_without_the_socket_clients_are_given_the_port(tmp_path: Path) -> None:
    server = LocalRedis(tmp_path / "redis", free_port(), appendfsync="everysec", unix_socket=False).start()
    try:
        assert server.url == server.tcp_url == f"redis://127.0.0.1:{server.port}/0"
        assert redis.Redis.from_url(server.url).ping()
        assert not (tmp_path / "redis" / "redis.sock").exists()
    finally:
        server.stop()


def test_a_data_directory_too_deep_for_a_unix_socket_gets_the_port(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5)
    server = LocalRedis(deep, free_port(), appendfsync="everysec").start()
    try:
        assert server.socket_path is None
        assert server.url == server.tcp_url
        assert redis.Redis.from_url(server.url).ping()
    finally:
        server.stop()


def test_another_database_of_the_same_server_by_either_url() -> None:
    assert with_db("unix:///var/bazaar/redis/redis.sock?db=0", 7) == "unix:///var/bazaar/redis/redis.sock?db=7"
    assert with_db("redis://127.0.0.1:6390/0", 3) == "redis://127.0.0.1:6390/3"
    assert with_db("redis://:secret@redis.internal:6379", 2) == "redis://:secret@redis.internal:6379/2"


def test_free_ports_come_from_below_the_kernels_own_range_and_can_be_bound() -> None:
    """The kernel hands ports of its ephemeral range to every outbound connection and every bind to port 0, so a
    port picked there can be taken by another process before its server binds it; ours come from below that range
    (and above Ray's worker ports)."""
    low = ephemeral_ports()[0]
    ports = [free_port() for _ in range(20)]
    assert all(QUIET_PORTS_FROM <= port < low for port in ports), ports
    assert len(set(ports)) > 10  # drawn at random, not the same few
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[0]))


def test_one_process_is_never_handed_the_same_port_twice() -> None:
    ports = [free_port() for _ in range(600)]  # at random from ~12,000 ports, 600 would repeat one 99.9% of the time
    assert len(set(ports)) == len(ports)
