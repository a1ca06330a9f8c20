"""A shopper changes their password, or resets a forgotten one with the token the shop sends; either way every
session ends. Through the real HTTP app; the reset token is read where the notification service will read it,
the outbox in Redis."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import redis

from actors import keys
from config import Settings
from serve.tokens import secret_digest
from tests.shop import Account, Shop, assert_error

pytestmark = pytest.mark.ray
NEW_PASSWORD = "Brand-new-pass-77"


def change(shop: Shop, account: Account, current: str, new: str = NEW_PASSWORD) -> httpx.Response:
    return shop.http.post("/v1/me/password", json={"current_password": current, "new_password": new},
                          headers=account.headers)


def ask_reset(shop: Shop, email: str) -> httpx.Response:
    return shop.http.post("/v1/auth/password-reset", json={"email": email})


def confirm(shop: Shop, token: str, new: str = NEW_PASSWORD) -> httpx.Response:
    return shop.http.post("/v1/auth/password-reset/confirm", json={"token": token, "new_password": new})


def outbox_messages(client: redis.Redis, email: str) -> list[dict[str, str]]:
    entries: Any = client.xrevrange(keys.OUTBOX, count=500)
    return [message for _, message in reversed(entries) if message.get("email") == email]


def mailed_token(shop: Shop, client: redis.Redis, email: str) -> str:
    r = ask_reset(shop, email)
    assert r.status_code == 202, r.text
    message = outbox_messages(client, email.lower())[-1]
    assert message["type"] == "password_reset"
    return message["token"]


def assert_sessions_ended(shop: Shop, *accounts: Account) -> None:
    for account in accounts:
        assert_error(shop.http.get("/v1/me", headers=account.headers), 401, "token_revoked")
        assert_error(shop.http.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token}), 401)


def login_status(shop: Shop, email: str, password: str) -> int:
    return shop.http.post("/v1/auth/login", json={"email": email, "password": password}).status_code


# -- changing it ---------------------------------------------------------------------------------------------
def test_a_shopper_changes_their_password_and_every_session_ends(shop: Shop) -> None:
    account = shop.register()
    phone = shop.login(account.email, account.password)
    r = change(shop, account, account.password)
    assert r.status_code == 204 and r.content == b"", r.text
    assert_sessions_ended(shop, account, phone)
    assert login_status(shop, account.email, account.password) == 401
    again = shop.login(account.email, NEW_PASSWORD)
    assert shop.http.get("/v1/me", headers=again.headers).status_code == 200


def test_a_wrong_current_password_changes_nothing(shop: Shop) -> None:
    account = shop.register()
    assert_error(change(shop, account, "Not-my-pass-1"), 403, "invalid_credentials")
    assert shop.http.get("/v1/me", headers=account.headers).status_code == 200
    assert login_status(shop, account.email, account.password) == 200
    assert login_status(shop, account.email, NEW_PASSWORD) == 401


def test_a_new_password_must_meet_the_policy(shop: Shop) -> None:
    account = shop.register()
    error = assert_error(change(shop, account, account.password, "short1"), 422, "weak_password")
    assert error["details"]["requirements"]
    assert_error(change(shop, account, account.password, account.email), 422, "weak_password")
    assert login_status(shop, account.email, account.password) == 200


def test_guessing_the_current_password_is_slowed_down(shop: Shop, settings: Settings) -> None:
    account = shop.register()
    for attempt in range(settings.password_change_attempts_per_minute):
        assert_error(change(shop, account, f"Guess-pass-{attempt:03}"), 403, "invalid_credentials")
    error = assert_error(change(shop, account, "Guess-pass-999"), 429, "rate_limited")
    assert 1 <= error["details"]["retry_after"] <= 60
    assert_error(change(shop, account, account.password), 429, "rate_limited")  # even the right one waits
    assert login_status(shop, account.email, account.password) == 200


def test_changing_a_password_needs_a_login(shop: Shop) -> None:
    body = {"current_password": "Correct-horse-42", "new_password": NEW_PASSWORD}
    assert_error(shop.http.post("/v1/me/password", json=body), 401, "missing_token")


# -- resetting a forgotten one -------------------------------------------------------------------------------
def test_a_forgotten_password_is_reset_with_the_token_sent_through_the_outbox(
        shop: Shop, redis_client: redis.Redis, settings: Settings) -> None:
    account = shop.register()
    token = mailed_token(shop, redis_client, account.email.upper())
    message = outbox_messages(redis_client, account.email)[-1]
    assert message["user_id"] == account.user["id"] and int(message["expires_at"]) > 0
    ttl = redis_client.ttl(keys.password_reset(secret_digest(token)))
    assert settings.password_reset_ttl_seconds - 60 < int(ttl) <= settings.password_reset_ttl_seconds  # type: ignore[arg-type]

    r = confirm(shop, token)
    assert r.status_code == 204 and r.content == b"", r.text
    assert_sessions_ended(shop, account)
    assert login_status(shop, account.email, account.password) == 401
    assert login_status(shop, account.email, NEW_PASSWORD) == 200


def test_a_reset_token_works_once(shop: Shop, redis_client: redis.Redis) -> None:
    account = shop.register()
    token = mailed_token(shop, redis_client, account.email)
    assert confirm(shop, token).status_code == 204
    assert_error(confirm(shop, token, "Another-pass-88"), 400, "invalid_reset_token")
    assert login_status(shop, account.email, NEW_PASSWORD) == 200


def test_an_expired_reset_token_is_refused(shop: Shop, redis_client: redis.Redis) -> None:
    account = shop.register()
    token = mailed_token(shop, redis_client, account.email)
    redis_client.pexpire(keys.password_reset(secret_digest(token)), 1)  # its TTL has run out
    assert_error(confirm(shop, token), 400, "invalid_reset_token")
    assert login_status(shop, account.email, account.password) == 200


def test_an_invented_reset_token_is_refused(shop: Shop) -> None:
    assert_error(confirm(shop, "made-up-token"), 400, "invalid_reset_token")


def test_a_weak_new_password_does_not_use_up_the_reset_token(shop: Shop, redis_client: redis.Redis) -> None:
    account = shop.register()
    token = mailed_token(shop, redis_client, account.email)
    assert_error(confirm(shop, token, "short1"), 422, "weak_password")
    assert confirm(shop, token).status_code == 204


def test_a_password_change_voids_reset_tokens_sent_before_it(shop: Shop, redis_client: redis.Redis) -> None:
    account = shop.register()
    token = mailed_token(shop, redis_client, account.email)
    assert change(shop, account, account.password).status_code == 204
    assert_error(confirm(shop, token, "Attackers-pass-66"), 400, "invalid_reset_token")
    assert login_status(shop, account.email, NEW_PASSWORD) == 200


def test_an_unknown_email_gets_the_same_answer_and_no_message(shop: Shop, redis_client: redis.Redis) -> None:
    known, unknown = shop.register().email, shop.unique_email("nobody")
    answers = [ask_reset(shop, known), ask_reset(shop, unknown)]
    assert [r.status_code for r in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert len(outbox_messages(redis_client, known)) == 1 and outbox_messages(redis_client, unknown) == []
    assert_error(ask_reset(shop, "not-an-email"), 422, "invalid_email")


def test_the_reset_token_never_reaches_the_event_stream(shop: Shop, redis_client: redis.Redis,
                                                        settings: Settings) -> None:
    account = shop.register()
    token = mailed_token(shop, redis_client, account.email)
    assert confirm(shop, token).status_code == 204
    entries: Any = redis_client.xrevrange(settings.events_stream, count=2000)
    assert all(token not in json.dumps(entry) for _, entry in entries)
    mine = [(e["type"], json.loads(e["data"])) for _, e in entries
            if json.loads(e["data"]).get("user_id") == account.user["id"]]
    assert ("user.password_changed", {"user_id": account.user["id"], "reason": "reset"}) in mine


def test_reset_requests_for_one_email_are_limited(shop: Shop, settings: Settings) -> None:
    account = shop.register()
    for _ in range(settings.password_reset_per_hour_per_email):
        assert ask_reset(shop, account.email).status_code == 202
    error = assert_error(ask_reset(shop, account.email), 429, "rate_limited")
    assert 60 < error["details"]["retry_after"] <= 3600
    assert_error(ask_reset(shop, account.email.upper()), 429, "rate_limited")  # the same email
    assert ask_reset(shop, shop.register().email).status_code == 202  # another one is not affected


def test_reset_requests_from_one_client_address_are_limited(shop: Shop, redis_client: redis.Redis,
                                                            settings: Settings) -> None:
    assert ask_reset(shop, shop.unique_email()).status_code == 202
    buckets: Any = redis_client.keys(keys.rate_limit("password-reset:ip:*"))
    assert len(buckets) == 1  # this client's: every test calls from the same address
    redis_client.set(buckets[0], settings.password_reset_per_minute_per_ip, keepttl=True)  # it used them all
    try:
        assert_error(ask_reset(shop, shop.unique_email()), 429, "rate_limited")
    finally:
        redis_client.delete(buckets[0])
