"""Card tokenization. No login needed, like a real gateway's client-side tokenization: the card number goes
straight to the gateway's tokenize call and only the token comes back. The number and cvc are `SecretStr`
here so no repr, log line or error detail can show them; validation messages name the field, never the value.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field, SecretStr

from serve.deps import Ctx
from serve.schemas import Body

router = APIRouter(tags=["payments"])


class CardBody(Body):
    card_number: SecretStr = Field(max_length=40)
    exp_month: int
    exp_year: int
    cvc: SecretStr = Field(max_length=8)
    holder_name: str | None = Field(default=None, max_length=200)


@router.post("/v1/payments/tokens", status_code=201)
async def create_token(body: CardBody, ctx: Ctx) -> dict[str, Any]:
    """201 `{"token", "brand", "last4", "exp_month", "exp_year"}`; 422 `invalid_card` (Luhn, expiry, cvc)."""
    gateway = ctx.router.handle("payments")
    card: dict[str, Any] = await gateway.tokenize.remote(
        body.card_number.get_secret_value(), body.exp_month, body.exp_year, body.cvc.get_secret_value(),
        body.holder_name or None)
    return card
