"""`make bench` judges issue 9's bars from the figures of its own run: a figure on the wrong side of a bar is NOT MET,
and only what the run measured is judged."""

from __future__ import annotations

from benchmarks.bars import issue9, report
from benchmarks.hot_sku import Mode, Oversell
from benchmarks.http_checkout import Route


def route(name: str, count: int, seconds: float, latency_ms: float) -> Route:
    r = Route(name, latencies=[latency_ms / 1000] * count, seconds=seconds)
    r.marks.append(count)
    return r


def checkout(rate: float, p99_ms: float, cart_p99_ms: float, noop_rate: float) -> dict[str, Route]:
    return {"checkout": route("checkout", int(rate * 10), 10, p99_ms), "cart": route("cart", 100, 10, cart_p99_ms),
            "noop": route("noop", int(noop_rate * 10), 10, 5)}


def mode(name: str, rate: float) -> Mode:
    return Mode(name, reservations=int(rate * 10), seconds=10)


def hot(shard: float, lua_single: float, lua: float, postgres: float, oversold: int = 0, durable: bool = True
        ) -> dict[str, object]:
    return {"modes": {"shard": mode("shard", shard), "lua": mode("lua", lua), "lua_single": mode("one", lua_single),
                      "postgres": mode("pg", postgres)},
            "oversell": {"shard": Oversell(500, 1500, 500 + oversold, 0 if not oversold else -oversold)},
            "checks": {"shard": {"ok": durable}}}


def verdicts(figures: dict[str, object]) -> dict[str, bool | None]:
    return {bar.name: bar.met for bar in issue9(figures)}


def test_a_run_on_the_right_side_of_every_bar_meets_them_all() -> None:
    figures = {"checkout": {16: {"routes": checkout(300, 60, 30, 4000)},
                            64: {"routes": checkout(400, 200, 100, 4000)}},
               "hot_sku": hot(shard=50_000, lua_single=20_000, lua=150_000, postgres=3_000)}
    judged = verdicts(figures)
    assert [met for met in judged.values() if met is not None] == [True] * 9
    assert [name for name, met in judged.items() if met is None] == [
        "hot SKU: shard / the Lua script given the shard's coalescing (comparison)"]
    assert all("NOT MET" not in line for line in report(issue9(figures)))


def test_each_figure_past_its_bar_is_not_met() -> None:
    figures = {"checkout": {16: {"routes": checkout(140, 210, 51, 4000)},
                            64: {"routes": checkout(300, 501, 100, 4000)}},
               "hot_sku": hot(shard=19_000, lua_single=20_000, lua=150_000, postgres=2_000, oversold=1, durable=False)}
    judged = verdicts(figures)
    assert [name for name, met in judged.items() if met is True] == []
    assert sum(met is False for met in judged.values()) == 9
    assert sum("NOT MET" in line for line in report(issue9(figures))) == 9


def test_the_share_of_the_no_op_rate_is_judged_on_its_own() -> None:
    judged = verdicts({"checkout": {16: {"routes": checkout(200, 60, 30, 4000)}}})  # 5% of the no-op rate
    assert judged["16 shoppers: checkout rate >= 6% of the no-op rate"] is False
    assert judged["16 shoppers: checkouts/s >= 150"] is True
    assert not any(name.startswith(("64", "hot")) for name in judged)  # a --only checkout run at 16 judges that


def test_a_run_that_measured_nothing_prints_no_bars() -> None:
    assert issue9({}) == [] and report([]) == []
