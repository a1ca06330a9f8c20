"""Becoming a seller: apply, admin approval, and a refreshed token that carries the seller role."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from tests.shop import Account, Shop, assert_error

pytestmark = pytest.mark.ray


def claims(access_token: str) -> dict[str, Any]:
    return jwt.decode(access_token, options={"verify_signature": False})


def apply(shop: Shop, account: Account, store_name: str = "Analytical Engines") -> dict[str, Any]:
    r = shop.http.post("/v1/sellers", json={"store_name": store_name, "description": "Looms and engines"},
                       headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()["seller"]


def admin_list(shop: Shop, status: str) -> list[str]:
    r = shop.http.get("/v1/admin/sellers", params={"status": status}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()["items"]]


def test_an_approved_shopper_gets_the_seller_role_on_the_next_refresh(shop: Shop) -> None:
    account = shop.register()
    seller = apply(shop, account)
    assert seller["id"].startswith("sel_") and seller["status"] == "pending"
    assert seller["user_id"] == account.user["id"] and seller["store_name"] == "Analytical Engines"
    mine = shop.http.get("/v1/sellers/me", headers=account.headers)
    assert mine.status_code == 200 and mine.json()["seller"] == seller
    assert seller["id"] in admin_list(shop, "pending")

    r = shop.http.post(f"/v1/admin/sellers/{seller['id']}/approve", headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["seller"]["status"] == "approved"
    assert seller["id"] in admin_list(shop, "approved") and seller["id"] not in admin_list(shop, "pending")

    assert claims(account.access_token)["role"] == "customer"  # a token says what was true when issued
    r = shop.http.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert r.status_code == 200, r.text
    token = claims(r.json()["access_token"])
    assert (token["role"], token["sid"]) == ("seller", seller["id"])
    me = shop.http.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()["user"]
    assert (me["role"], me["seller_id"]) == ("seller", seller["id"])


def test_a_shopper_applies_to_sell_only_once(shop: Shop) -> None:
    account = shop.register()
    first = apply(shop, account)
    again = shop.http.post("/v1/sellers", json={"store_name": "Second Shop"}, headers=account.headers)
    error = assert_error(again, 409, "already_applied")
    assert error["details"]["seller_id"] == first["id"]


def test_only_an_admin_reviews_seller_applications(shop: Shop) -> None:
    applicant, busybody = shop.register(), shop.register()
    seller = apply(shop, applicant)
    approve = f"/v1/admin/sellers/{seller['id']}/approve"
    assert_error(shop.http.post(approve, headers=busybody.headers), 403, "admin_only")
    assert_error(shop.http.post(approve, headers=applicant.headers), 403, "admin_only")
    assert_error(shop.http.get("/v1/admin/sellers", headers=busybody.headers), 403, "admin_only")
    assert_error(shop.http.post(approve), 401)
    assert shop.http.get("/v1/sellers/me", headers=applicant.headers).json()["seller"]["status"] == "pending"


def test_a_shopper_who_never_applied_has_no_seller_record(shop: Shop) -> None:
    account = shop.register()
    assert_error(shop.http.get("/v1/sellers/me", headers=account.headers), 404, "seller_not_found")


def test_approving_an_unknown_application_is_not_found(shop: Shop) -> None:
    r = shop.http.post("/v1/admin/sellers/sel_01J00000000000000000000000/approve", headers=shop.admin.headers)
    assert_error(r, 404, "seller_not_found")


def test_a_store_needs_a_name(shop: Shop) -> None:
    account = shop.register()
    assert_error(shop.http.post("/v1/sellers", json={"store_name": " "}, headers=account.headers), 422,
                 "invalid_store_name")
    assert_error(shop.http.post("/v1/sellers", json={}, headers=account.headers), 422, "validation_error")
