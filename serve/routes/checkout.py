"""POST /v1/checkout: parse, authorize, hand the saga to the shopper's checkout shard."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from pydantic import Field, model_validator

from serve.deps import Ctx, CurrentUser
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
async def checkout(body: CheckoutBody, idempotency_key: IdempotencyKey, response: Response, ctx: Ctx,
                   user: CurrentUser) -> dict[str, Any]:
    request = body.model_dump()
    request_hash = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    result = await ctx.router.owner("checkout", user.user_id).checkout.remote(
        user.user_id, idempotency_key, request, request_hash)
    response.status_code = result["status"]
    return {"order": result["order"]}
