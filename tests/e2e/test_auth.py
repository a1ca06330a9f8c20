"""Registration, login, token rotation and logout, through the real HTTP app."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from config import Settings
from tests.shop import Shop, assert_error, loopback_address

pytestmark = pytest.mark.ray


def registration(shop: Shop, **fields: object) -> dict[str, object]:
    return {"email": shop.unique_email(), "password": "Correct-horse-42", "first_name": "Grace",
            "last_name": "Hopper", **fields}


def test_a_new_shopper_registers_as_a_customer_and_logs_in(shop: Shop) -> None:
    email = shop.unique_email("Grace.Hopper").replace("example.com", "Example.COM")
    body = registration(shop, email=email, phone="+1 555 0100 99")
    r = shop.http.post("/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert user["email"] == str(body["email"]).lower()
    assert (user["role"], user["first_name"], user["phone"]) == ("customer", "Grace", "+1 555 0100 99")
    assert user["id"].startswith("usr_") and "password_hash" not in user
    assert "Correct-horse-42" not in r.text and "argon2" not in r.text

    r = shop.http.post("/v1/auth/login", json={"email": str(body["email"]).upper(), "password": "Correct-horse-42"})
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    assert tokens["access_token"] and tokens["refresh_token"]
    me = shop.http.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["user"]["id"] == user["id"]


def test_the_first_start_made_the_configured_admin(shop: Shop) -> None:
    me = shop.http.get("/v1/me", headers=shop.admin.headers)
    assert me.status_code == 200, me.text
    assert (me.json()["user"]["role"], me.json()["user"]["email"]) == ("admin", shop.admin.email)


def test_an_email_can_register_only_once_whatever_its_case(shop: Shop) -> None:
    first = shop.register()
    again = registration(shop, email=first.email.upper(), password="Another-pass-77")
    assert_error(shop.http.post("/v1/auth/register", json=again), 409, "email_taken")
    shop.login(first.email, first.password)  # the first account is untouched


@pytest.mark.parametrize("password", ["short1", "no-digits-here-at-all", "123456789012", "x1" * 70])
def test_a_weak_password_is_refused(shop: Shop, password: str) -> None:
    body = registration(shop, password=password)
    error = assert_error(shop.http.post("/v1/auth/register", json=body), 422, "weak_password")
    assert error["details"]["requirements"]
    assert_error(shop.http.post("/v1/auth/login", json={"email": body["email"], "password": password}), 401)


def test_the_email_itself_is_not_a_password(shop: Shop) -> None:
    email = shop.unique_email()
    body = registration(shop, email=email, password=email.split("@")[0])
    assert_error(shop.http.post("/v1/auth/register", json=body), 422, "weak_password")


@pytest.mark.parametrize("email", ["grace", "grace@", "grace@@example.com", "grace hopper@example.com"])
def test_a_malformed_email_is_refused(shop: Shop, email: str) -> None:
    assert_error(shop.http.post("/v1/auth/register", json=registration(shop, email=email)), 422, "invalid_email")


def test_registration_refuses_unknown_fields_such_as_a_role(shop: Shop) -> None:
    error = assert_error(shop.http.post("/v1/auth/register", json=registration(shop, role="admin")), 422)
    assert any(problem["field"] == "role" for problem in error["details"])


def test_a_wrong_password_and_an_unknown_email_look_the_same(shop: Shop) -> None:
    account = shop.register()
    wrong = shop.http.post("/v1/auth/login", json={"email": account.email, "password": "Wrong-pass-123"})
    unknown = shop.http.post("/v1/auth/login", json={"email": shop.unique_email(), "password": "Wrong-pass-123"})
    assert assert_error(wrong, 401, "invalid_credentials") == assert_error(unknown, 401, "invalid_credentials")


def test_a_refresh_token_rotates_and_works_only_once(shop: Shop) -> None:
    account = shop.register()
    r = shop.http.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["refresh_token"] != account.refresh_token and fresh["token_type"] == "bearer"
    me = shop.http.get("/v1/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == account.email

    again = shop.http.post("/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert again.status_code == 200, again.text  # the session goes on with each new refresh token
    # a used one presented again ends the session: tests/e2e/test_sessions.py


def test_logging_out_revokes_that_refresh_token_only(shop: Shop) -> None:
    account = shop.register()
    other_session = shop.login(account.email, account.password)
    r = shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token})
    assert r.status_code == 204 and r.content == b""
    assert_error(shop.http.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token}), 401)
    assert shop.http.post("/v1/auth/logout", json={"refresh_token": account.refresh_token}).status_code == 204
    still = shop.http.post("/v1/auth/refresh", json={"refresh_token": other_session.refresh_token})
    assert still.status_code == 200, still.text


def test_an_invented_refresh_token_is_refused(shop: Shop) -> None:
    assert_error(shop.http.post("/v1/auth/refresh", json={"refresh_token": "made-up-token"}), 401,
                 "invalid_refresh_token")


def test_the_account_pages_need_a_valid_access_token(shop: Shop) -> None:
    assert_error(shop.http.get("/v1/me"), 401, "missing_token")
    assert_error(shop.http.get("/v1/me", headers={"Authorization": "Bearer not.a.jwt"}), 401, "invalid_token")
    account = shop.register()
    refresh_as_access = {"Authorization": f"Bearer {account.refresh_token}"}
    assert_error(shop.http.get("/v1/me", headers=refresh_as_access), 401, "invalid_token")


def guess(client: httpx.Client, email: str, password: str = "Guess-pass-000") -> httpx.Response:
    return client.post("/v1/auth/login", json={"email": email, "password": password})


def test_repeated_bad_logins_for_one_email_are_slowed_down(shop: Shop, settings: Settings) -> None:
    account = shop.register()  # it signed in from 127.0.0.1, its owner's address
    bystander = shop.register()
    with shop.client_at(loopback_address()) as attacker:
        for _ in range(settings.login_failures_per_email_free):
            assert_error(guess(attacker, account.email), 401, "invalid_credentials")
        limited = guess(attacker, account.email)
        error = assert_error(limited, 429, "rate_limited")
        assert 1 <= error["details"]["retry_after"] <= settings.login_backoff_base_seconds
        assert limited.headers["Retry-After"] == str(error["details"]["retry_after"])
        # even the right password waits, from an address the owner never signed in from
        assert_error(guess(attacker, account.email, account.password), 429, "rate_limited")
        attacker_account = guess(attacker, bystander.email, bystander.password)  # other accounts are not affected
        assert attacker_account.status_code == 200, attacker_account.text


def test_the_owner_is_not_locked_out_by_guesses_at_their_password(shop: Shop, settings: Settings) -> None:
    account = shop.register()
    with shop.client_at(loopback_address()) as attacker:
        for _ in range(settings.login_failures_per_email_free):
            guess(attacker, account.email)
        assert_error(guess(attacker, account.email), 429, "rate_limited")
    shop.login(account.email, account.password)  # from the address they signed in from before
    with shop.client_at(loopback_address()) as new_device:
        assert_error(guess(new_device, account.email, account.password), 429, "rate_limited")


def test_the_wait_doubles_with_each_failure_past_the_free_ones(shop: Shop, settings: Settings) -> None:
    account = shop.register()
    with shop.client_at(loopback_address()) as attacker:
        for _ in range(settings.login_failures_per_email_free):
            guess(attacker, account.email)
        first_wait = assert_error(guess(attacker, account.email), 429)["details"]["retry_after"]
        deadline = time.monotonic() + first_wait + 5
        while (answer := guess(attacker, account.email)).status_code == 429:  # the wait runs out
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)
        assert_error(answer, 401, "invalid_credentials")
        second_wait = assert_error(guess(attacker, account.email), 429)["details"]["retry_after"]
    assert second_wait == math.ceil(2 * settings.login_backoff_base_seconds) > 0


def test_successful_logins_do_not_use_up_the_attempts(shop: Shop, settings: Settings) -> None:
    account = shop.register()
    with shop.client_at(loopback_address()) as elsewhere:
        for _ in range(settings.login_failures_per_email_free + 2):
            assert guess(elsewhere, account.email, account.password).status_code == 200
