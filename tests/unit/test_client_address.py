"""Who the client is, behind trusted proxies: X-Forwarded-For read from the right, only from a trusted peer."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from serve.client_address import TrustedProxies, client_address

LOCAL = TrustedProxies([ip_network("127.0.0.1/32"), ip_network("::1/128")])
BEHIND_LB = TrustedProxies([ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")])


def test_a_direct_client_is_its_peer_and_its_forwarded_for_is_ignored() -> None:
    assert client_address("203.0.113.7", ["198.51.100.1"], LOCAL) == "203.0.113.7"
    assert client_address("203.0.113.7", [], LOCAL) == "203.0.113.7"


def test_behind_the_local_haproxy_the_address_it_appended_is_the_client() -> None:
    assert client_address("127.0.0.1", ["203.0.113.7"], LOCAL) == "203.0.113.7"


def test_what_the_client_wrote_itself_is_never_read() -> None:
    spoofed = "198.51.100.1, 192.0.2.9"
    assert client_address("127.0.0.1", [f"{spoofed}, 203.0.113.7"], LOCAL) == "203.0.113.7"
    assert client_address("127.0.0.1", [spoofed, "203.0.113.7"], LOCAL) == "203.0.113.7"  # one header each


def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    chain = ["198.51.100.1, 203.0.113.7, 10.1.2.3", "10.0.0.5"]  # spoofed, client, load balancer, next hop
    assert client_address("127.0.0.1", chain, BEHIND_LB) == "203.0.113.7"
    assert client_address("127.0.0.1", chain, LOCAL) == "10.0.0.5"  # a load balancer not trusted is the client


def test_a_caller_on_the_proxys_own_machine_is_the_leftmost_address() -> None:
    assert client_address("127.0.0.1", ["127.0.0.1"], LOCAL) == "127.0.0.1"
    assert client_address("127.0.0.1", [], LOCAL) == "127.0.0.1"
    assert client_address("::1", [], LOCAL) == "::1"


@pytest.mark.parametrize(("written", "address"), [
    ("203.0.113.7:51234", "203.0.113.7"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("2001:DB8:0:0::1", "2001:db8::1"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
])
def test_addresses_are_normalized_so_one_client_counts_once(written: str, address: str) -> None:
    assert client_address("127.0.0.1", [written], LOCAL) == address
    assert client_address(written, [], LOCAL) == address


def test_an_entry_that_is_no_address_is_an_untrusted_client_of_bounded_length() -> None:
    assert client_address("127.0.0.1", ["unknown"], LOCAL) == "unknown"
    assert client_address("127.0.0.1", ["x" * 500], LOCAL) == "x" * 64
    assert client_address(None, ["203.0.113.7"], LOCAL) == "unknown"
