"""Sessions: refresh-token families, and the revocation of access tokens before they expire.

These are security records of the HTTP layer, not actor state: written here, in Redis, by digest only
(`serve.tokens.secret_digest`), each with a TTL. A login starts a *session* (a refresh-token family, `ses_...`):
- `keys.refresh_token(digest)` holds `{user_id, session}` for the session's one valid refresh token;
- `keys.session(session)` holds the user and the digest of that token, so the session can be ended by its id;
- `keys.user_sessions(user_id)` (zset session -> expiry) lists the user's sessions, for "log out everywhere".
A refresh *rotates* the token in one Lua script: of two concurrent uses of one token exactly one succeeds. The
used digest is remembered with its session for a refresh TTL (`keys.refresh_used`); a used token presented again
was copied, so its whole session ends, the thief's and the owner's tokens alike (`refresh_token_reused`).

Access tokens are JWTs whose signature each replica checks without Redis (`serve/tokens.py`); revocation is
checked on every authenticated request with ONE round trip (MGET of three keys), so a logout that has answered
is honoured by every replica at once:
- `keys.user_token_generation(user_id)`, a counter raised by "log out everywhere" and password changes: a token
  issued under an older generation (`gen`) is revoked. The generation is read in the script that starts or
  rotates a session, atomically with the ending of sessions, so no clocks are compared and a login racing a
  "log out everywhere" is either ended by it or issued under the new generation;
- `keys.revoked_session(session)`: the session was ended (logout, reuse); its tokens carry it (`ses`);
- `keys.revoked_access_token(jti)`: one token, presented at logout.
The scripts build the keys of sessions and users they find from `actors.keys` prefixes (one Redis, no cluster).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from actors import keys, reads
from domain.errors import Unauthorized
from domain.ids import new_id
from domain.revocation import Revocation
from serve.context import Context
from serve.tokens import AccessToken, new_refresh_token, secret_digest

# ARGV[1..6] of every script: the key prefixes; the script's own arguments follow
_PREFIXES = (keys.refresh_token(""), keys.refresh_used(""), keys.session(""), keys.user_sessions(""),
             keys.user_token_generation(""), keys.revoked_session(""))
_COMMON = """
local P_TOKEN, P_USED, P_SESSION, P_USER, P_GEN, P_REVOKED = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local function end_session(session, revoked_ttl)
  local owner = redis.call('HMGET', P_SESSION .. session, 'user_id', 'digest')
  if owner[2] then redis.call('DEL', P_TOKEN .. owner[2]) end
  if owner[1] then redis.call('ZREM', P_USER .. owner[1], session) end
  redis.call('DEL', P_SESSION .. session)
  redis.call('SET', P_REVOKED .. session, '1', 'EX', revoked_ttl)
end
local function keep(user_id, session, digest, ttl, expires_at)
  redis.call('SET', P_TOKEN .. digest, cjson.encode({user_id = user_id, session = session}), 'EX', ttl)
  redis.call('HSET', P_SESSION .. session, 'user_id', user_id, 'digest', digest)
  redis.call('EXPIRE', P_SESSION .. session, ttl)
  redis.call('ZADD', P_USER .. user_id, expires_at, session)
  redis.call('EXPIRE', P_USER .. user_id, ttl)
  return tonumber(redis.call('GET', P_GEN .. user_id) or '0')
end
"""
# ARGV 7 user_id, 8 session, 9 digest, 10 ttl, 11 now, 12 expires_at -> the user's token generation
_START = _COMMON + """
redis.call('ZREMRANGEBYSCORE', P_USER .. ARGV[7], '-inf', ARGV[11])
return keep(ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[12])
"""
# ARGV 7 old digest, 8 new digest, 9 ttl, 10 expires_at, 11 revoked ttl
# -> {'rotated', user_id, session, generation} | {'reused'} | {'unknown'}
_ROTATE = _COMMON + """
local record = redis.call('GET', P_TOKEN .. ARGV[7])
if record then
  local held = cjson.decode(record)
  redis.call('DEL', P_TOKEN .. ARGV[7])
  if not held.session then return {'unknown'} end
  redis.call('SET', P_USED .. ARGV[7], held.session, 'EX', ARGV[9])
  return {'rotated', held.user_id, held.session, keep(held.user_id, held.session, ARGV[8], ARGV[9], ARGV[10])}
end
local session = redis.call('GET', P_USED .. ARGV[7])
if session then
  end_session(session, ARGV[11])
  return {'reused'}
end
return {'unknown'}
"""
# ARGV 7 digest, 8 revoked ttl -> 1 when a session ended
_END = _COMMON + """
local record = redis.call('GET', P_TOKEN .. ARGV[7])
if not record then return 0 end
redis.call('DEL', P_TOKEN .. ARGV[7])
local held = cjson.decode(record)
if held.session then end_session(held.session, ARGV[8]) end
return 1
"""
# ARGV 7 user_id -> the user's new token generation
_END_ALL = _COMMON + """
local index = P_USER .. ARGV[7]
for _, session in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local digest = redis.call('HGET', P_SESSION .. session, 'digest')
  if digest then redis.call('DEL', P_TOKEN .. digest) end
  redis.call('DEL', P_SESSION .. session)
end
redis.call('DEL', index)
return redis.call('INCR', P_GEN .. ARGV[7])
"""


@dataclass(frozen=True)
class Grant:
    """What a new pair of tokens is issued for: the refresh token and what the access token must carry."""

    refresh_token: str
    user_id: str
    session: str
    generation: int


async def _run(ctx: Context, script: str, *args: str | int) -> Any:
    return await ctx.redis.eval(script, 0, *_PREFIXES, *args)  # type: ignore[misc]


def _revoked_ttl(ctx: Context) -> int:
    """An ended session's access tokens were all issued before it ended, so they are dead within this time."""
    return ctx.settings.jwt_access_ttl_seconds + 5


async def start(ctx: Context, user_id: str) -> Grant:
    """A new session (at login) and its first refresh token."""
    token, session, now = new_refresh_token(), new_id("ses"), int(time.time())
    ttl = ctx.settings.jwt_refresh_ttl_seconds
    generation = await _run(ctx, _START, user_id, session, secret_digest(token), ttl, now, now + ttl)
    return Grant(token, user_id, session, int(generation))


async def rotate(ctx: Context, refresh_token: str) -> Grant:
    """The session's next refresh token, in exchange for its current one, which stops working."""
    token, now, ttl = new_refresh_token(), int(time.time()), ctx.settings.jwt_refresh_ttl_seconds
    outcome = await _run(ctx, _ROTATE, secret_digest(refresh_token), secret_digest(token), ttl, now + ttl,
                         _revoked_ttl(ctx))
    if outcome[0] == "reused":
        raise Unauthorized("refresh_token_reused", "This refresh token was already used, so it may have been "
                           "copied: its session has ended everywhere. Log in again")
    if outcome[0] != "rotated":
        raise Unauthorized("invalid_refresh_token", "The refresh token is expired, revoked or unknown")
    return Grant(token, str(outcome[1]), str(outcome[2]), int(outcome[3]))


async def end(ctx: Context, refresh_token: str) -> None:
    """Logout: the session of this refresh token ends, its access tokens with it. Unknown tokens change nothing."""
    await _run(ctx, _END, secret_digest(refresh_token), _revoked_ttl(ctx))


async def end_all(ctx: Context, user_id: str) -> None:
    """Log out everywhere: every session of the user ends and every access token issued so far is refused."""
    await _run(ctx, _END_ALL, user_id)


async def generation(ctx: Context, user_id: str) -> int:
    """The user's token generation: it moves on each "log out everywhere" (and password change)."""
    return int(await ctx.redis.get(keys.user_token_generation(user_id)) or 0)


async def revoke_access_token(ctx: Context, token: AccessToken) -> None:
    """This one access token is refused from now until it expires."""
    remaining = token.expires - int(time.time())
    if remaining > 0:
        await ctx.redis.set(keys.revoked_access_token(token.jti), "1", ex=remaining + 1)


async def refuse_revoked(ctx: Context, token: AccessToken) -> None:
    """Unauthorized `token_revoked` when the token was revoked: one MGET, on every authenticated request (a hot path
    that reads Redis anyway folds `revocation_of(token)` into its own read instead)."""
    await reads.refuse_revoked(ctx, revocation_of(token))


def revocation_of(token: AccessToken) -> Revocation:
    """What tells whether this token was revoked: its keys and generation (domain/revocation.py), for a check in the
    replica or in an actor's first read."""
    return Revocation([keys.user_token_generation(token.principal.user_id),
                       keys.revoked_session(token.session) if token.session else keys.revoked_session("-"),
                       keys.revoked_access_token(token.jti)], token.generation)

