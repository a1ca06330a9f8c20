"""Closed-loop GET load from `wrk` (a C load generator, epoll, no interpreter lock): the server's latency, not the
load generator's.

Sixteen Python threads sharing one interpreter lock add their own waits to what they time (a thread whose answer
has arrived waits for the lock), and on 2 cores the client process takes CPU the server would use. `wrk` is the
check on that: it drives more requests per second from the same 16 connections, and its tail shows the server's
own stalls (benchmarks/README.md, "Recommendations through HTTP"). `make bench-deps` installs it (Debian's `wrk`,
as root); without it, callers print their Python client's figures only and say so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# One request per call of `request()`: a random path and a random caller (token, or none) each time; `done()` prints
# one line that `run` parses. wrk's percentiles are in microseconds.
SCRIPT = """
local paths = %(paths)s
local tokens = %(tokens)s
request = function()
  local token = tokens[math.random(#tokens)]
  local path = paths[math.random(#paths)]
  if token == "" then return wrk.format("GET", path, {}) end
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BAZAAR-WRK %%d %%d %%d %%.3f %%.3f %%.3f %%.3f %%.6f\\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.duration / 1e6))
end
"""


@dataclass(frozen=True)
class Result:
    requests: int
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"  # JSON strings are Lua strings for these ids


def run(port: int, paths: list[str], tokens: list[str | None], connections: int, seconds: float,
        threads: int = 2) -> Result:
    """`connections` keep-alive connections on `threads` wrk threads for `seconds`, each request a random one of
    `paths` as a random one of `tokens` (None: no Authorization)."""
    with tempfile.TemporaryDirectory(prefix="bzr-wrk-") as folder:
        script = Path(folder) / "load.lua"
        script.write_text(SCRIPT % {"paths": lua_list(paths), "tokens": lua_list([t or "" for t in tokens])})
        done = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script),
             f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BAZAAR-WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    fields = line.split()[1:]
    return Result(int(fields[0]), int(fields[1]), int(fields[2]), *(float(f) for f in fields[3:]))
