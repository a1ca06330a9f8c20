"""Changing a password (signed in, with the current one) and resetting a forgotten one (with a mailed token).

Either way the user's shard checks the policy, hashes and stores the new password, and then every session of the
user ends (`serve/sessions.py`), the caller's own included: the client logs in again with the new password.
A reset request answers 202 whether or not the email has an account, so it tells nobody which emails do; the
token travels through the outbox (`serve/password_resets.py`).

Rate limits (fixed windows, `serve/ratelimit.py`): wrong current passwords per user and minute; reset requests
per client IP and minute and per email and hour (known or not, so the limit tells nothing either);
confirmations per client IP and minute.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from actors import reads
from domain.passwords import check_password
from domain.users import email_key, normalize_email
from serve import password_resets, sessions
from serve.deps import Ctx, CurrentUser, client_ip
from serve.ratelimit import give_back_slot, take_slot
from serve.routes.auth import Password
from serve.schemas import Body

router = APIRouter(tags=["auth"])
HOUR = 3600


class PasswordChangeBody(Body):
    current_password: Password
    new_password: Password


class PasswordResetRequestBody(Body):
    email: str = Field(max_length=254, examples=["ada@example.com"])


class PasswordResetConfirmBody(Body):
    token: str = Field(max_length=256)
    new_password: Password


@router.post("/v1/me/password", status_code=204)
async def change_password(body: PasswordChangeBody, me: CurrentUser, ctx: Ctx) -> Response:
    """403 `invalid_credentials` when `current_password` is wrong; 422 `weak_password`. Every session ends."""
    bucket = f"password-change:{me.user_id}"
    await take_slot(ctx, bucket, ctx.settings.password_change_attempts_per_minute)
    shard = ctx.router.owner("users", me.user_id)
    await shard.change_password.remote(me.user_id, body.current_password, body.new_password)
    await give_back_slot(ctx, bucket)
    await sessions.end_all(ctx, me.user_id)
    return Response(status_code=204)


@router.post("/v1/auth/password-reset", status_code=202)
async def request_password_reset(body: PasswordResetRequestBody, request: Request, ctx: Ctx) -> dict[str, Any]:
    """202 for every well-formed email: a reset token is sent when it has an account."""
    settings = ctx.settings
    email = normalize_email(body.email)  # 422 `invalid_email`: that tells nothing about accounts
    await take_slot(ctx, f"password-reset:ip:{client_ip(request)}", settings.password_reset_per_minute_per_ip)
    await take_slot(ctx, f"password-reset:email:{email_key(email)}", settings.password_reset_per_hour_per_email,
                    window_seconds=HOUR)
    user = await reads.user_by_email(ctx, email)
    if user is not None:
        await password_resets.request_reset(ctx, user)
    return {"status": "accepted",
            "message": "If an account has this email, a message with a reset token is on its way to it"}


@router.post("/v1/auth/password-reset/confirm", status_code=204)
async def confirm_password_reset(body: PasswordResetConfirmBody, request: Request, ctx: Ctx) -> Response:
    """400 `invalid_reset_token` when the token is expired, used or unknown; 422 `weak_password` (the token then
    stays usable). Every session of the user ends."""
    await take_slot(ctx, f"password-reset-confirm:ip:{client_ip(request)}",
                    ctx.settings.password_reset_per_minute_per_ip)
    pending = await password_resets.peek(ctx, body.token)
    check_password(body.new_password, pending.email)  # before the token is used up
    record = await password_resets.consume(ctx, body.token)  # exactly one racing confirmation gets it
    await ctx.router.owner("users", record.user_id).reset_password.remote(record.user_id, body.new_password)
    await sessions.end_all(ctx, record.user_id)
    return Response(status_code=204)
