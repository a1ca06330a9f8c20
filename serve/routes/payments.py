"""Card tokenization, for a signed-in shopper. The card number goes straight to the gateway's tokenize call and
only the token comes back; the token works only for this shopper, until it expires. The number and cvc are
`SecretStr` here so no repr, log line or error detail can show them; validation messages name the field, never
the value. Tokenizing is rate limited per shopper and per client address (card testing tries many numbers, and
from many accounts).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field, SecretStr

from serve.deps import Ctx, CurrentUser, client_ip
from serve.ratelimit import take_slot
from serve.schemas import Body

router = APIRouter(tags=["payments"])


class CardBody(Body):
    card_number: SecretStr = Field(max_length=40)
    exp_month: int
    exp_year: int
    cvc: SecretStr = Field(max_length=8)
    holder_name: str | None = Field(default=None, max_length=200)


@router.post("/v1/payments/tokens", status_code=201)
async def create_token(body: CardBody, request: Request, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    """201 `{"token", "brand", "last4", "exp_month", "exp_year", "expires_at"}`; 422 `invalid_card` (Luhn,
    expiry, cvc); 429 `rate_limited`."""
    await take_slot(ctx, f"card-tokens:{user.user_id}", ctx.settings.payment_tokens_per_minute)
    await take_slot(ctx, f"card-tokens-ip:{client_ip(request)}", ctx.settings.payment_tokens_per_minute_per_ip)
    return await ctx.gateway.tokenize(user.user_id, body.card_number.get_secret_value(), body.exp_month,
                                      body.exp_year, body.cvc.get_secret_value(), body.holder_name or None)
