"""Sessions end when the shopper says so, everywhere at once: logout, "log out everywhere", and a copied refresh
token that gives itself away by being used twice. Through the real HTTP app, whose API replicas each keep their
own cache of verified access tokens."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.shop import Account, Shop, assert_error

pytestmark = pytest.mark.ray
ROUNDS = 8  # requests in a row, so both API replicas answer (and cache the token) with near certainty


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def refresh(shop: Shop, refresh_token: str) -> httpx.Response:
    return shop.http.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def me_answers(shop: Shop, access_token: str) -> list[httpx.Response]:
    return [shop.http.get("/v1/me", headers=bearer(access_token)) for _ in range(ROUNDS)]


def assert_refused_everywhere(shop: Shop, access_token: str) -> None:
    for answer in me_answers(shop, access_token):
        assert_error(answer, 401, "token_revoked")


def test_after_logout_the_access_token_is_refused_by_every_replica_at_once(shop: Shop) -> None:
    account = shop.register()
    assert {r.status_code for r in me_answers(shop, account.access_token)} == {200}  # verified and cached
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers)
    assert r.status_code == 204, r.text
    assert_refused_everywhere(shop, account.access_token)
    assert_error(refresh(shop, account.refresh_token), 401, "invalid_refresh_token")


def test_logout_ends_the_sessions_access_tokens_even_when_none_is_sent(shop: Shop) -> None:
    account = shop.register()
    other = shop.login(account.email, account.password)
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token})
    assert r.status_code == 204, r.text
    assert_refused_everywhere(shop, account.access_token)
    assert shop.http.get("/v1/me", headers=other.headers).status_code == 200  # another session goes on
    assert refresh(shop, other.refresh_token).status_code == 200


def test_a_token_sent_with_logout_is_revoked_even_from_another_session(shop: Shop) -> None:
    account = shop.register()
    phone = shop.login(account.email, account.password)
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=phone.headers)
    assert r.status_code == 204, r.text
    assert_refused_everywhere(shop, phone.access_token)
    assert refresh(shop, phone.refresh_token).status_code == 200  # that session's refresh token still works


def test_logging_out_everywhere_ends_every_session_and_token(shop: Shop) -> None:
    account = shop.register()
    laptop = shop.login(account.email, account.password)
    rotated = refresh(shop, laptop.refresh_token).json()
    bystander = shop.register()
    r = shop.http.post("/v1/auth/logout-all", headers=account.headers)
    assert r.status_code == 204 and r.content == b""
    for access_token in (account.access_token, laptop.access_token, rotated["access_token"]):
        assert_refused_everywhere(shop, access_token)
    for refresh_token in (account.refresh_token, rotated["refresh_token"]):
        assert_error(refresh(shop, refresh_token), 401)
    assert_error(shop.http.post("/v1/auth/logout-all", headers=account.headers), 401, "token_revoked")
    again = shop.login(account.email, account.password)  # a new login after it is a new, valid session
    assert {r.status_code for r in me_answers(shop, again.access_token)} == {200}
    assert shop.http.get("/v1/me", headers=bystander.headers).status_code == 200


def test_logging_out_everywhere_needs_a_valid_access_token(shop: Shop) -> None:
    assert_error(shop.http.post("/v1/auth/logout-all"), 401, "missing_token")
    account = shop.register()
    assert_error(shop.http.post("/v1/auth/logout-all", headers=bearer(account.refresh_token)), 401, "invalid_token")


def test_a_reused_refresh_token_ends_its_whole_session(shop: Shop) -> None:
    victim = shop.register()
    elsewhere = shop.login(victim.email, victim.password)
    stolen = victim.refresh_token
    owners = refresh(shop, stolen).json()  # the owner rotates; the thief still holds the old token
    reuse = refresh(shop, stolen)
    assert_error(reuse, 401, "refresh_token_reused")
    assert_error(refresh(shop, owners["refresh_token"]), 401, "invalid_refresh_token")  # the family is over
    assert_refused_everywhere(shop, owners["access_token"])
    assert_refused_everywhere(shop, victim.access_token)
    assert_error(refresh(shop, stolen), 401, "refresh_token_reused")  # and stays so
    assert refresh(shop, elsewhere.refresh_token).status_code == 200  # another session is not touched


def test_two_concurrent_uses_of_one_refresh_token_cannot_both_succeed(shop: Shop) -> None:
    account = shop.register()
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: httpx.post(f"{shop.base_url}/v1/auth/refresh", timeout=60,
                                                     json={"refresh_token": account.refresh_token}), range(6)))
    assert [r.status_code for r in answers].count(200) == 1, [r.text for r in answers]
    assert all(r.json()["error"]["code"] == "refresh_token_reused" for r in answers if r.status_code != 200)
    for winner in (r.json() for r in answers if r.status_code == 200):  # the replays ended its session too
        assert_error(refresh(shop, winner["refresh_token"]), 401, "invalid_refresh_token")


def test_refreshed_tokens_stay_valid_while_the_session_lives(shop: Shop) -> None:
    account: Account = shop.register()
    tokens = {"refresh_token": account.refresh_token}
    for _ in range(3):
        r = refresh(shop, tokens["refresh_token"])
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert shop.http.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert shop.http.get("/v1/me", headers=account.headers).status_code == 200  # earlier access tokens too


def test_a_revoked_token_adds_nothing_to_the_cart_though_its_check_shares_the_offers_read(shop: Shop) -> None:
    """POST /v1/cart/items checks revocation in its one read of the offer and stock (serve/carts.py): refused
    before the cart is touched, on every replica, and before it would tell whether the product exists."""
    account, product = shop.register(), shop.product()
    assert shop.add_to_cart(account, product).status_code == 200  # the token was verified and cached
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers)
    assert r.status_code == 204, r.text
    item = {"product_id": product["id"], "variant_id": product["variants"][0]["id"], "quantity": 1}
    missing = {"product_id": "prd_" + "0" * 26, "variant_id": "var_" + "0" * 26, "quantity": 1}
    for body in [item, missing] * (ROUNDS // 2):
        assert_error(shop.http.post("/v1/cart/items", json=body, headers=account.headers), 401, "token_revoked")
    again = shop.login(account.email, account.password)
    cart = shop.http.get("/v1/cart", headers=again.headers).json()["cart"]
    assert [(i["variant_id"], i["quantity"]) for i in cart["items"]] == [(item["variant_id"], 1)]


def test_a_revoked_token_cannot_check_out_nor_replay_a_checkout_though_the_shard_checks_it(shop: Shop) -> None:
    """POST /v1/checkout leaves the revocation check to the shopper's shard, in its first read (actors/checkout.py):
    after logout the old token places no order, holds no stock and gets no earlier answer by replaying its key."""
    account, product = shop.register(), shop.product(stock=5)
    variant_id = product["variants"][0]["id"]
    assert shop.add_to_cart(account, product).status_code == 200
    body = shop.checkout_body(account)
    placed = shop.checkout(account, body, key="placed-before-logout")
    assert placed.status_code == 201, placed.text
    assert shop.add_to_cart(account, product).status_code == 200
    second = shop.checkout_body(account)
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers)
    assert r.status_code == 204, r.text
    for _ in range(ROUNDS // 2):
        assert_error(shop.checkout(account, body, key="placed-before-logout"), 401, "token_revoked")
        assert_error(shop.checkout(account, second), 401, "token_revoked")
    assert shop.stock(variant_id)["available"] == 4  # only the order placed before the logout holds a unit
    again = shop.login(account.email, account.password)
    orders = shop.http.get("/v1/orders", headers=again.headers).json()["items"]
    assert [o["id"] for o in orders] == [placed.json()["order"]["id"]]
    cart = shop.http.get("/v1/cart", headers=again.headers).json()["cart"]
    assert [(i["variant_id"], i["quantity"]) for i in cart["items"]] == [(variant_id, 1)]
