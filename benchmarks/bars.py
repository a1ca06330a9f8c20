"""Issue 9's bars, read off one `make bench` run: each bar, what this run measured, and whether it is met.

Only what the run measured is judged (a `--only` run judges its half). The hot SKU's bar is the Redis Lua script of
the issue and of DESIGN.md (one script per reservation, one round trip each, 15,200-20,600/s there); the same script
given the shard's own coalescing (1,024 per pipeline) is printed beside it as a comparison, not as a bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Bar:
    name: str
    measured: str
    met: bool | None  # None: printed for comparison, not a bar


def issue9(figures: dict[str, Any]) -> list[Bar]:
    bars: list[Bar] = []
    checkout = figures.get("checkout") or {}
    if 16 in checkout:
        routes = checkout[16]["routes"]
        co, cart, noop = routes["checkout"], routes["cart"], routes["noop"]
        share = co.rate / noop.rate if noop.rate else 0.0
        co_p99, cart_p99 = co.percentile(99), cart.percentile(99)  # each sorts the route's latencies
        bars += [
            Bar("16 shoppers: checkouts/s >= 150", f"{co.rate:.1f}/s", co.rate >= 150),
            Bar("16 shoppers: checkout p99 <= 200 ms", f"{co_p99:.1f} ms", co_p99 <= 200),
            Bar("16 shoppers: add-to-cart p99 <= 50 ms", f"{cart_p99:.1f} ms", cart_p99 <= 50),
            Bar("16 shoppers: checkout rate >= 6% of the no-op rate", f"{100 * share:.1f}%", share >= 0.06),
        ]
    if 64 in checkout:
        p99 = checkout[64]["routes"]["checkout"].percentile(99)
        bars.append(Bar("64 shoppers: checkout p99 <= 500 ms", f"{p99:.1f} ms", p99 <= 500))
    hot = figures.get("hot_sku")
    if hot:
        modes = hot["modes"]
        shard = modes["shard"].rate

        def versus(key: str) -> float:
            other = modes[key].rate if key in modes else 0.0
            return shard / other if other else 0.0

        if "lua_single" in modes:
            lua_single = versus("lua_single")
            bars.append(Bar("hot SKU: shard >= the Redis Lua script (one per round trip, the issue's)",
                            f"{lua_single:.2f}x", lua_single >= 1))
        if "lua" in modes:
            bars.append(Bar("hot SKU: shard / the Lua script given the shard's coalescing (comparison)",
                            f"{versus('lua'):.2f}x", None))
        if "postgres" in modes:
            postgres = versus("postgres")
            bars.append(Bar("hot SKU: shard >= 10x PostgreSQL", f"{postgres:.1f}x", postgres >= 10))
        oversold = sum(o.oversold for o in hot["oversell"].values())
        bars.append(Bar("hot SKU: 0 oversold, every engine", f"{oversold} oversold",
                        oversold == 0 and all(o.ok for o in hot["oversell"].values())))
        failed = [name for name, check in hot["checks"].items() if not check["ok"]]
        bars.append(Bar("hot SKU: every acknowledgement durable (appendfsync always)",
                        "all checks OK" if not failed else "failed: " + ", ".join(failed), not failed))
    return bars


def report(bars: list[Bar]) -> list[str]:
    if not bars:
        return []
    width = max(len(b.name) for b in bars)
    lines = ["issue 9's bars, this run:"]
    for b in bars:
        verdict = "(comparison)" if b.met is None else "met" if b.met else "NOT MET"
        lines.append(f"  {b.name:<{width}}  {b.measured:>14}  {verdict}")
    return lines
