"""The sign-in backoff's arithmetic, without Ray or Redis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from config import Settings
from domain.login_backoff import Backoff, LoginPolicy


def test_the_first_failures_are_free_then_each_one_doubles_the_wait() -> None:
    backoff = Backoff(free=3, base_seconds=2, max_seconds=60)
    assert [backoff.wait_after(n) for n in range(9)] == [0, 0, 0, 2, 4, 8, 16, 32, 60]


def test_the_wait_never_passes_the_cap_however_many_failures() -> None:
    backoff = Backoff(free=1, base_seconds=1, max_seconds=900)
    assert backoff.wait_after(10_000) == 900
    assert backoff.wait_after(10**9) == 900


def test_the_schedule_runs_from_the_first_wait_to_the_cap() -> None:
    assert Backoff(free=5, base_seconds=1, max_seconds=10).schedule() == [1, 2, 4, 8, 10]
    assert Backoff(free=2, base_seconds=3, max_seconds=3).schedule() == [3]


@given(free=st.integers(1, 50), base=st.floats(0.01, 100), cap_factor=st.floats(1, 10_000),
       failures=st.integers(0, 500))
def test_the_schedule_the_redis_script_reads_gives_the_same_wait(free: int, base: float, cap_factor: float,
                                                                  failures: int) -> None:
    backoff = Backoff(free, base, base * cap_factor)
    schedule = backoff.schedule()
    looked_up = 0.0 if failures < free else schedule[min(failures - free, len(schedule) - 1)]
    assert looked_up == backoff.wait_after(failures)
    assert len(schedule) <= 25  # short enough to pass to the script on every attempt


def test_an_address_gets_more_free_failures_than_an_email_by_default() -> None:
    policy = LoginPolicy.from_settings(Settings())
    assert policy.per_address.free > policy.per_email.free
    assert policy.memory_seconds >= policy.per_email.max_seconds
