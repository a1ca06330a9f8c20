"""Signing in: the password check, behind per-email and per-address backoff (domain/login_backoff.py).

Failures are counted in Redis per email (by digest) and per client address, in `keys.login_failures`. Every
attempt is counted as a failure *before* its password is checked, in the same script that decides whether it may
go ahead, so parallel guesses cannot slip past the count; a success gives its count back. An attempt that ends
neither way (the hashing is `busy`, Redis or an actor fails) gives it back too.

The owner is not locked out by someone guessing their password: the addresses an account signed in from are kept
(`keys.login_known_addresses`, `login_known_address_seconds`), and from one of those the email's backoff does not
apply; the address's own backoff always does. Attempts while held back are answered 429 and do not count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from actors import keys, reads
from config import Settings
from domain.clock import epoch
from domain.errors import RateLimited, Unauthorized
from domain.login_backoff import Backoff, LoginPolicy
from domain.passwords import HashGate, Passwords
from domain.users import User, email_key
from serve.context import Context
from serve.tokens import secret_digest

KNOWN_ADDRESSES_KEPT = 20  # per account, the most recent

# KEYS: the email's failures, the address's failures, the email's known addresses.
# ARGV: now, memory seconds, address, known since, then per email and per address: free, #waits, waits...
# Returns {seconds to wait} when held back, else {"0", previous t of the email, previous t of the address}.
_BEGIN = """
local now = tonumber(ARGV[1])
local seen = redis.call('ZSCORE', KEYS[3], ARGV[3])
local known = seen and tonumber(seen) >= tonumber(ARGV[4])
local function held(key, at)
  local state = redis.call('HMGET', key, 'n', 't')
  local n, t = tonumber(state[1] or '0'), state[2] or '0'
  local free, count = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  if n < free then return 0, t, at + 2 + count end
  return tonumber(t) + tonumber(ARGV[at + 2 + math.min(n - free, count - 1)]) - now, t, at + 2 + count
end
local email_wait, email_t, next_at = held(KEYS[1], 5)
local address_wait, address_t = held(KEYS[2], next_at)
local wait = address_wait
if not known and email_wait > wait then wait = email_wait end
if wait > 0 then return {tostring(wait)} end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  redis.call('HINCRBY', key, 'n', 1)
  redis.call('HSET', key, 't', ARGV[1])
  redis.call('EXPIRE', key, ARGV[2])
end
return {'0', email_t, address_t}
"""

# KEYS: the email's failures, the address's failures. ARGV: the attempt's time, previous t of each.
# Takes back one failure per key, and its time where no later failure came since.
_GIVE_BACK = """
for i, key in ipairs(KEYS) do
  if redis.call('HINCRBY', key, 'n', -1) <= 0 then redis.call('DEL', key)
  elseif redis.call('HGET', key, 't') == ARGV[1] then redis.call('HSET', key, 't', ARGV[1 + i]) end
end
"""


@dataclass(frozen=True)
class Attempt:
    email_failures: str
    address_failures: str
    known_addresses: str
    address: str
    started: str  # the epoch it was counted at, as written
    previous: tuple[str, str]  # the failure times it replaced, per email and per address


@cache
def _passwords(time_cost: int, memory_kib: int, parallelism: int, limit: int, waiting: int) -> Passwords:
    return Passwords(time_cost, memory_kib, parallelism, HashGate(limit, waiting))


def passwords(settings: Settings) -> Passwords:
    """This process's hasher: one gate, so one cap on concurrent hashes, for every route of the replica."""
    return _passwords(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism,
                      settings.max_concurrent_password_hashes, settings.max_waiting_password_hashes)


def email_digest(email: str) -> str:
    return secret_digest(email_key(email))


async def signed_in(ctx: Context, email: str, password: str, address: str) -> User:
    """The user whose email and password these are; 401 otherwise, 429 while held back."""
    attempt = await begin(ctx, email, address)
    hasher = passwords(ctx.settings)
    try:
        user = await reads.user_by_email(ctx, email)
        # an unknown email still pays for a hash check, so the two failures look the same from outside
        right = await hasher.verify_async(user.password_hash if user else None, password)
    except Exception:
        await give_back(ctx, attempt)
        raise
    if not right or user is None:
        raise Unauthorized("invalid_credentials", "The email or password is not correct")
    await succeeded(ctx, attempt)
    if hasher.needs_rehash(user.password_hash):
        await ctx.router.owner("users", user.id).rehash_password.remote(user.id, password)
    return user


async def begin(ctx: Context, email: str, address: str) -> Attempt:
    """Counts the attempt as a failure, or raises RateLimited (with `retry_after`) while it is held back."""
    policy = LoginPolicy.from_settings(ctx.settings)
    digest, now = email_digest(email), repr(epoch())
    attempt_keys = (keys.login_failures(f"email:{digest}"), keys.login_failures(f"ip:{address}"),
                    keys.login_known_addresses(digest))
    backoffs = [*_script_args(policy.per_email), *_script_args(policy.per_address)]
    reply: list[Any] = await ctx.redis.eval(  # type: ignore[misc]
        _BEGIN, 3, *attempt_keys, now, policy.memory_seconds, address,
        repr(float(now) - policy.known_address_seconds), *backoffs)
    if reply[0] != "0":
        retry_after = max(1, math.ceil(float(reply[0])))
        raise RateLimited("rate_limited", f"Too many failed sign-ins; retry in {retry_after} s",
                          {"retry_after": retry_after})
    return Attempt(*attempt_keys, address, now, (reply[1], reply[2]))


def _script_args(backoff: Backoff) -> list[float]:
    waits = backoff.schedule()
    return [backoff.free, len(waits), *waits]


async def give_back(ctx: Context, attempt: Attempt) -> None:
    await ctx.redis.eval(_GIVE_BACK, 2, attempt.email_failures, attempt.address_failures,  # type: ignore[misc]
                         attempt.started, *attempt.previous)


async def succeeded(ctx: Context, attempt: Attempt) -> None:
    """The owner signed in: the attempt was no failure, and the address is theirs for a while."""
    policy = LoginPolicy.from_settings(ctx.settings)
    now = float(attempt.started)
    pipe = ctx.redis.pipeline(transaction=True)
    pipe.eval(_GIVE_BACK, 2, attempt.email_failures, attempt.address_failures, attempt.started, *attempt.previous)
    pipe.zadd(attempt.known_addresses, {attempt.address: now})
    pipe.zremrangebyscore(attempt.known_addresses, "-inf", f"({now - policy.known_address_seconds}")
    pipe.zremrangebyrank(attempt.known_addresses, 0, -KNOWN_ADDRESSES_KEPT - 1)
    pipe.expire(attempt.known_addresses, policy.known_address_seconds)
    await pipe.execute()
