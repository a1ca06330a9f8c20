"""Who is calling: the client address that rate limits and card-testing counters are kept per.

The TCP peer of a replica is a proxy (Serve's HAProxy, on this machine) for everyone, and X-Forwarded-For is
whatever the client wrote, plus one address per proxy on the way. So the header is read only when the peer is a
trusted proxy (`trusted_proxies`), from the right: each trusted proxy appended the address it was called from,
and the first address that is not a trusted proxy is the client. What a client wrote itself is to the left of
that and never read. When every address is trusted the leftmost is the client (a caller on the proxy's machine).

Two things make the real deployment fit that: Serve's HAProxy appends the address it was called from
(`option forwardfor`, added by serve/haproxy_wrapper.py's wrapper), and uvicorn, in Serve's proxy and in each
replica, is told to trust no proxy itself (`UVICORN_ENV`): by default it would rewrite the peer from the header
for any caller on 127.0.0.1, before this code could see the real peer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

# uvicorn rewrites the peer from X-Forwarded-For for the hosts in FORWARDED_ALLOW_IPS (default 127.0.0.1, ::1);
# "" trusts none. Set in the environment of Serve's proxy (before Ray starts) and of the API replicas.
UVICORN_ENV = {"FORWARDED_ALLOW_IPS": ""}
UNKNOWN = "unknown"
MAX_LENGTH = 64  # an entry that is no address is kept as written, this long at most (it names a counter)

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


class TrustedProxies:
    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)

    def __contains__(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)


@cache
def trusted(networks: tuple[Network, ...]) -> TrustedProxies:
    return TrustedProxies(networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], proxies: TrustedProxies) -> str:
    """The client's address, normalized (`::ffff:1.2.3.4` is `1.2.3.4`); `forwarded_for` are the values of every
    X-Forwarded-For header in order."""
    if not peer:
        return UNKNOWN
    if _parse(peer) not in proxies:
        return _normalized(peer)
    chain = [entry.strip() for value in forwarded_for for entry in value.split(",") if entry.strip()]
    for entry in reversed(chain):
        if _parse(entry) not in proxies:
            return _normalized(entry)
    return _normalized(chain[0]) if chain else _normalized(peer)


def _parse(entry: str) -> Address | None:
    """An address as written in X-Forwarded-For: bare, `[v6]`, `[v6]:port` or `v4:port`; None if it is none."""
    host = entry.strip()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        address = ip_address(host)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _normalized(entry: str) -> str:
    address = _parse(entry)
    return str(address) if address is not None else entry.strip()[:MAX_LENGTH] or UNKNOWN
