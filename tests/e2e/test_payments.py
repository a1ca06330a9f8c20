"""Card tokenization over HTTP, as a storefront's payment form does it for a signed-in shopper: card in, token
out; the token is unguessable, works only for that shopper, and expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import Settings
from domain.cards import luhn_valid
from tests.shop import CARD_OK, Account, Shop, assert_error

# A valid card number used by no other test, so finding it in a log can only be a leak.
UNIQUE_CARD = next(n for n in (f"55001234567890{d:02d}" for d in range(100)) if luhn_valid(n))


def card(**overrides: Any) -> dict[str, Any]:
    return {"card_number": CARD_OK, "exp_month": 12, "exp_year": 2099, "cvc": "123", "holder_name": "Ada", **overrides}


@pytest.fixture(scope="module")
def shopper(shop: Shop) -> Account:
    return shop.register()


def tokenize(shop: Shop, shopper: Account, body: dict[str, Any]) -> httpx.Response:
    return shop.http.post("/v1/payments/tokens", json=body, headers=shopper.headers)


def test_a_card_becomes_a_token_with_brand_and_last4_only(shop: Shop, shopper: Account) -> None:
    r = tokenize(shop, shopper, card(card_number="4242 4242 4242 4242"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"token", "brand", "last4", "exp_month", "exp_year", "expires_at"}
    assert (body["brand"], body["last4"], body["exp_month"], body["exp_year"]) == ("visa", "4242", 12, 2099)
    assert body["token"].startswith("tok_") and CARD_OK not in r.text


def test_an_amex_takes_a_four_digit_code_and_a_mastercard_is_recognised(shop: Shop, shopper: Account) -> None:
    amex = tokenize(shop, shopper, card(card_number="378282246310005", cvc="1234"))
    assert amex.status_code == 201 and amex.json()["brand"] == "amex", amex.text
    master = tokenize(shop, shopper, card(card_number=UNIQUE_CARD, holder_name=None))
    assert master.status_code == 201 and master.json()["brand"] == "mastercard", master.text
    assert master.json()["last4"] == UNIQUE_CARD[-4:] and UNIQUE_CARD not in master.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"card_number": "4242424242424241"}, "card_number"),  # bad Luhn
        ({"card_number": "4242-abcd-4242-4242"}, "card_number"),
        ({"exp_month": 1, "exp_year": 2020}, "exp_year"),  # expired
        ({"exp_month": 13}, "exp_month"),
        ({"cvc": "12"}, "cvc"),
        ({"card_number": "378282246310005", "cvc": "123"}, "cvc"),  # amex needs four digits
    ],
)
def test_an_invalid_card_is_422_and_the_number_is_not_echoed(shop: Shop, shopper: Account,
                                                             overrides: dict[str, Any], field: str) -> None:
    body = card(**overrides)
    r = tokenize(shop, shopper, body)
    error = assert_error(r, 422, "invalid_card")
    assert error["details"] == {"field": field}
    assert body["card_number"] not in r.text and body["card_number"].replace("-", "") not in r.text


def test_unknown_or_missing_fields_are_422_without_echoing_the_card(shop: Shop, shopper: Account) -> None:
    extra = tokenize(shop, shopper, card(pin="1234"))
    error = assert_error(extra, 422, "validation_error")
    assert any(problem["field"] == "pin" for problem in error["details"])
    assert CARD_OK not in extra.text
    missing = tokenize(shop, shopper, {"card_number": CARD_OK, "exp_month": 12})
    assert_error(missing, 422, "validation_error")
    assert CARD_OK not in missing.text
    huge = "4" * 60
    too_long = tokenize(shop, shopper, card(card_number=huge))
    assert_error(too_long, 422)
    assert huge not in too_long.text


def test_no_card_number_reaches_a_log(shop: Shop, shopper: Account) -> None:
    import ray

    assert shop.card_token(shopper, UNIQUE_CARD).startswith("tok_")
    wrong_check_digit = UNIQUE_CARD[:-1] + str((int(UNIQUE_CARD[-1]) + 1) % 10)
    r = tokenize(shop, shopper, card(card_number=wrong_check_digit))
    assert_error(r, 422, "invalid_card")

    logs = [p for p in Path(ray._private.worker._global_node.get_logs_dir_path()).rglob("*") if p.is_file()]
    assert logs, "the session's Ray logs were not found"
    leaked = [str(p) for p in logs if any(n.encode() in p.read_bytes() for n in (UNIQUE_CARD, wrong_check_digit))]
    assert leaked == []


def test_tokenizing_needs_a_signed_in_shopper(shop: Shop) -> None:
    assert_error(shop.http.post("/v1/payments/tokens", json=card()), 401)
    assert_error(shop.http.post("/v1/payments/tokens", json=card(), headers={"Authorization": "Bearer nope"}), 401)


def test_tokens_are_unguessable_and_expire(shop: Shop, shopper: Account) -> None:
    first, second = (tokenize(shop, shopper, card()).json() for _ in range(2))
    # no shared timestamp prefix as time-ordered ids have: the 26 characters after "tok_" are all random
    assert first["token"][4:10] != second["token"][4:10]
    expires = datetime.fromisoformat(first["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=1) <= expires - datetime.now(UTC) <= timedelta(days=31)


def test_a_token_pays_only_for_the_shopper_who_made_it(shop: Shop) -> None:
    """Tried as an attacker would: learn another shopper's token and check out with it."""
    victim, thief = shop.register(), shop.register()
    product = shop.product(stock=5)
    victims_token = shop.card_token(victim)
    assert shop.add_to_cart(thief, product).status_code == 200
    r = shop.checkout(thief, {"shipping_address": shop.address(), "payment_token": victims_token})
    assert_error(r, 422, "invalid_payment_token")
    assert shop.http.get("/v1/orders", headers=thief.headers).json()["items"] == []
    assert shop.stock(product["variants"][0]["id"])["committed"] == 0
    # the victim can still use it
    assert shop.add_to_cart(victim, product).status_code == 200
    paid = shop.checkout(victim, {"shipping_address": shop.address(), "payment_token": victims_token})
    assert paid.status_code == 201, paid.text


def test_tokenizing_is_rate_limited_per_shopper(shop: Shop, settings: Settings) -> None:
    tester, bystander = shop.register(), shop.register()
    statuses = [tokenize(shop, tester, card()).status_code for _ in range(settings.payment_tokens_per_minute + 1)]
    assert statuses == [201] * settings.payment_tokens_per_minute + [429]
    error = assert_error(tokenize(shop, tester, card()), 429, "rate_limited")
    assert error["details"]["retry_after"] >= 1
    assert tokenize(shop, bystander, card()).status_code == 201  # one shopper's limit is not another's
