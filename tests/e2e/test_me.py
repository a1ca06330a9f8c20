"""A shopper's own account: profile, preferences and address book, through the real HTTP app."""

from __future__ import annotations

from typing import Any

import pytest

from tests.shop import Account, Shop, assert_error

pytestmark = pytest.mark.ray


def add_address(shop: Shop, account: Account, **fields: Any) -> dict[str, Any]:
    r = shop.http.post("/v1/me/addresses", json={**shop.address(), **fields}, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()["address"]


def address_book(shop: Shop, account: Account) -> list[dict[str, Any]]:
    r = shop.http.get("/v1/me/addresses", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_shopper_sees_their_profile_with_default_preferences_and_no_password_hash(shop: Shop) -> None:
    account = shop.register()
    r = shop.http.get("/v1/me", headers=account.headers)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert (user["email"], user["first_name"], user["last_name"]) == (account.email, "Ada", "Lovelace")
    assert user["preferences"]["notifications"] == {"email": True, "sms": False, "push": True, "in_app": True,
                                                    "muted": []}
    assert user["addresses"] == [] and user["role"] == "customer"
    assert "password_hash" not in user and "$argon2" not in r.text


def test_a_shopper_renames_and_turns_on_sms_without_losing_other_preferences(shop: Shop) -> None:
    account = shop.register()
    patch = {"first_name": "Augusta", "phone": "+44 20 7946 0958",
             "preferences": {"language": "en-GB", "currency": "GBP", "notifications": {"sms": True}}}
    r = shop.http.patch("/v1/me", json=patch, headers=account.headers)
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert (user["first_name"], user["last_name"], user["phone"]) == ("Augusta", "Lovelace", "+44 20 7946 0958")
    assert user["preferences"] == {"language": "en-GB", "currency": "GBP",
                                   "notifications": {"email": True, "sms": True, "push": True, "in_app": True,
                                                     "muted": []}}
    assert shop.http.get("/v1/me", headers=account.headers).json()["user"] == user  # durable, read back


@pytest.mark.parametrize("patch", [{"email": "new@example.com"}, {"role": "admin"}, {"nickname": "Ada"},
                                   {"preferences": {"theme": "dark"}}])
def test_email_role_and_unknown_fields_cannot_be_patched(shop: Shop, patch: dict[str, Any]) -> None:
    account = shop.register()
    assert_error(shop.http.patch("/v1/me", json=patch, headers=account.headers), 422)
    user = shop.http.get("/v1/me", headers=account.headers).json()["user"]
    assert (user["email"], user["role"]) == (account.email, "customer")


@pytest.mark.parametrize(("patch", "code"), [({"first_name": ""}, "invalid_name"),
                                             ({"preferences": {"currency": "dollars"}}, "validation_error"),
                                             ({"preferences": {"language": "Klingon"}}, "invalid_preferences"),
                                             ({"phone": "call me maybe"}, "invalid_phone")])
def test_a_bad_profile_value_is_refused_and_nothing_changes(shop: Shop, patch: dict[str, Any], code: str) -> None:
    account = shop.register()
    before = shop.http.get("/v1/me", headers=account.headers).json()["user"]
    assert_error(shop.http.patch("/v1/me", json={"last_name": "King", **patch}, headers=account.headers), 422, code)
    assert shop.http.get("/v1/me", headers=account.headers).json()["user"] == before


def test_an_address_book_keeps_exactly_one_default(shop: Shop) -> None:
    account = shop.register()
    home = add_address(shop, account)
    assert home["id"].startswith("adr_") and home["is_default"] and home["country"] == "US"
    work = add_address(shop, account, type="work", street="2 Office Park", country="gb", is_default=True)
    assert work["country"] == "GB"
    book = {a["id"]: a for a in address_book(shop, account)}
    assert [a["is_default"] for a in (book[home["id"]], book[work["id"]])] == [False, True]

    r = shop.http.delete(f"/v1/me/addresses/{work['id']}", headers=account.headers)
    assert r.status_code == 204 and r.content == b""
    assert [(a["id"], a["is_default"]) for a in address_book(shop, account)] == [(home["id"], True)]


def test_a_shopper_corrects_a_street_and_only_the_street_changes(shop: Shop) -> None:
    account = shop.register()
    home = add_address(shop, account)
    r = shop.http.patch(f"/v1/me/addresses/{home['id']}", json={"street": "12 Elm St"}, headers=account.headers)
    assert r.status_code == 200, r.text
    assert r.json()["address"] == {**home, "street": "12 Elm St"}
    assert address_book(shop, account) == [{**home, "street": "12 Elm St"}]


@pytest.mark.parametrize("fields", [{"country": "USA"}, {"country": "1X"}, {"type": "castle"}, {"street": ""},
                                    {"floor": 3}])
def test_a_bad_address_is_refused(shop: Shop, fields: dict[str, Any]) -> None:
    account = shop.register()
    r = shop.http.post("/v1/me/addresses", json={**shop.address(), **fields}, headers=account.headers)
    assert_error(r, 422)
    assert address_book(shop, account) == []


def test_nobody_can_touch_another_shoppers_address(shop: Shop) -> None:
    owner, stranger = shop.register(), shop.register()
    home = add_address(shop, owner)
    url = f"/v1/me/addresses/{home['id']}"
    assert_error(shop.http.patch(url, json={"street": "Stolen St"}, headers=stranger.headers), 404,
                 "address_not_found")
    assert_error(shop.http.delete(url, headers=stranger.headers), 404, "address_not_found")
    assert address_book(shop, stranger) == []
    assert address_book(shop, owner) == [home]


def test_an_unknown_address_is_not_found(shop: Shop) -> None:
    account = shop.register()
    assert_error(shop.http.delete("/v1/me/addresses/adr_nonsense", headers=account.headers), 404)
