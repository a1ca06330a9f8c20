"""The caller's own account: profile, preferences and addresses. Reads come from committed state in Redis;
every change goes through the user's shard actor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import Field

from actors import reads
from domain.errors import NotFound
from domain.users import AddressType, User
from serve.context import Context
from serve.deps import Ctx, CurrentUser
from serve.schemas import Body

router = APIRouter(tags=["users"])


# -- reads of committed users (also used by auth and sellers) -----------------------------------------
async def own_user(ctx: Context, user_id: str) -> User:
    user = await reads.user(ctx, user_id)
    if user is None:
        raise NotFound("user_not_found", "This account no longer exists")
    return user


# -- request bodies -------------------------------------------------------------------------------------
class NotificationsPatch(Body):
    email: bool | None = None
    sms: bool | None = None
    push: bool | None = None
    in_app: bool | None = None  # the inbox and its live stream
    muted: list[str] | None = Field(default=None, max_length=20, examples=[["price_drop"]])


class PreferencesPatch(Body):
    language: str | None = Field(default=None, max_length=16, examples=["en"])
    currency: str | None = Field(default=None, max_length=3, examples=["USD"])
    notifications: NotificationsPatch | None = None


class ProfilePatch(Body):
    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    phone: str | None = Field(default=None, max_length=24)
    preferences: PreferencesPatch | None = None


class AddressBody(Body):
    type: AddressType = "home"
    street: str = Field(max_length=200)
    city: str = Field(max_length=100)
    state: str = Field(default="", max_length=100)
    zip_code: str = Field(max_length=16)
    country: str = Field(max_length=2, examples=["US"])
    is_default: bool = False


class AddressPatch(Body):
    type: AddressType | None = None
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    zip_code: str | None = Field(default=None, max_length=16)
    country: str | None = Field(default=None, max_length=2)
    is_default: bool | None = None


# -- routes ---------------------------------------------------------------------------------------------
@router.get("/v1/me")
async def get_me(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    return {"user": (await own_user(ctx, me.user_id)).public()}


@router.patch("/v1/me")
async def patch_me(body: ProfilePatch, me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)  # only what was sent; the domain validates the values
    user = await ctx.router.owner("users", me.user_id).update_profile.remote(me.user_id, changes)
    return {"user": user}


@router.get("/v1/me/addresses")
async def list_addresses(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    user = await own_user(ctx, me.user_id)
    return {"items": user.public()["addresses"]}


@router.post("/v1/me/addresses", status_code=201)
async def add_address(body: AddressBody, me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    address = await ctx.router.owner("users", me.user_id).add_address.remote(me.user_id, body.model_dump())
    return {"address": address}


@router.patch("/v1/me/addresses/{address_id}")
async def update_address(address_id: str, body: AddressPatch, me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    address = await ctx.router.owner("users", me.user_id).update_address.remote(me.user_id, address_id, fields)
    return {"address": address}


@router.delete("/v1/me/addresses/{address_id}", status_code=204)
async def delete_address(address_id: str, me: CurrentUser, ctx: Ctx) -> Response:
    await ctx.router.owner("users", me.user_id).delete_address.remote(me.user_id, address_id)
    return Response(status_code=204)
