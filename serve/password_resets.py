"""Password-reset tokens: single use, expiring, stored by digest, delivered through the outbox.

A request makes a token (256 random bits) and, in one MULTI, stores its record `{user_id, email, generation}` at
`keys.password_reset(digest)` with the TTL `settings.password_reset_ttl_seconds`, and appends a message for the
notification service to `keys.OUTBOX`: `{type: "password_reset", user_id, email, token, expires_at}`. The raw
token is in that message only: never in the event stream, never in a log (but the local operator console's, see
`serve/local_outbox.py`). Confirming consumes the record with GETDEL, so a token works once even when two
confirmations race. A token also dies when the user's sessions are reset (`serve/sessions.py` generation: a
password change, another reset, "log out everywhere") after it was made.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from actors import keys
from domain.errors import BadRequest
from domain.users import User
from serve import sessions
from serve.context import Context
from serve.tokens import new_refresh_token, secret_digest

OUTBOX_MAXLEN = 100_000  # approximate; the notification service reads well within it


@dataclass(frozen=True)
class ResetRecord:
    user_id: str
    email: str
    generation: int  # the user's token generation when the reset was asked for


def _invalid() -> BadRequest:
    return BadRequest("invalid_reset_token", "This password-reset token is expired, already used or unknown; "
                      "ask for a new one")


async def request_reset(ctx: Context, user: User) -> None:
    """A new reset token for the user, handed to the notification service through the outbox."""
    token = new_refresh_token()  # the same 256 bits of the OS's CSPRNG as a refresh token
    ttl = ctx.settings.password_reset_ttl_seconds
    record = {"user_id": user.id, "email": user.email, "generation": await sessions.generation(ctx, user.id)}
    message = {"type": "password_reset", "user_id": user.id, "email": user.email, "token": token,
               "expires_at": str(int(time.time()) + ttl)}
    pipe = ctx.redis.pipeline(transaction=True)
    pipe.set(keys.password_reset(secret_digest(token)), json.dumps(record), ex=ttl)
    pipe.xadd(keys.OUTBOX, message, maxlen=OUTBOX_MAXLEN, approximate=True)  # type: ignore[arg-type]
    await pipe.execute()


async def peek(ctx: Context, token: str) -> ResetRecord:
    """The token's record, left in place (a refused new password does not use the token up)."""
    raw = await ctx.redis.get(keys.password_reset(secret_digest(token)))
    if raw is None:
        raise _invalid()
    return ResetRecord(**json.loads(raw))


async def consume(ctx: Context, token: str) -> ResetRecord:
    """The token's record, removed: exactly one caller gets it. BadRequest `invalid_reset_token` when the token
    is unknown, expired, used, or older than the user's last session reset."""
    raw = await ctx.redis.getdel(keys.password_reset(secret_digest(token)))
    if raw is None:
        raise _invalid()
    record = ResetRecord(**json.loads(raw))
    if record.generation != await sessions.generation(ctx, record.user_id):
        raise _invalid()
    return record
