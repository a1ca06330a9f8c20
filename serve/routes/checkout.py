"""POST /v1/checkout: parse, authorize, hand the saga to the shopper's shard (actors/checkout.py)."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import Field, model_validator

from domain.checkout import CheckoutRequest
from domain.orders import view_for
from serve import sessions
from serve.deps import Ctx, SignedToken, client_ip
from serve.routes.users import AddressBody
from serve.schemas import Body, Id

router = APIRouter(tags=["checkout"])

IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=128,
                                       pattern=r"^[A-Za-z0-9_.:\-]+$")]


class CheckoutBody(Body):
    shipping_address_id: Id | None = None
    shipping_address: AddressBody | None = None
    payment_token: Id = Field(description="a token from POST /v1/payments/tokens")
    coupon_code: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one_address(self) -> CheckoutBody:
        if (self.shipping_address_id is None) == (self.shipping_address is None):
            raise ValueError("give exactly one of shipping_address_id or shipping_address")
        return self


@router.post("/v1/checkout", status_code=201)
async def checkout(body: CheckoutBody, idempotency_key: IdempotencyKey, request: Request, response: Response,
                   ctx: Ctx, token: SignedToken) -> dict[str, Any]:
    """The token's revocation is checked by the shopper's shard in its first read, before anything is answered or
    changed (actors/checkout.py)."""
    user = token.principal
    fields = body.model_dump()
    request_hash = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    result = await ctx.router.direct_owner("shoppers", user.user_id).call(
        "checkout", user.user_id, idempotency_key, CheckoutRequest(**fields), request_hash, client_ip(request),
        sessions.revocation_of(token))
    response.status_code = 201 if result.created else 200
    return {"order": view_for(result.order, admin=user.is_admin)}
