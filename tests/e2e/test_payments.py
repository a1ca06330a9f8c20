"""Card tokenization over HTTP, as a storefront's payment form does it: no login, card in, token out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.cards import luhn_valid
from tests.shop import CARD_OK, Shop, assert_error

# A valid card number used by no other test, so finding it in a log can only be a leak.
UNIQUE_CARD = next(n for n in (f"55001234567890{d:02d}" for d in range(100)) if luhn_valid(n))


def card(**overrides: Any) -> dict[str, Any]:
    return {"card_number": CARD_OK, "exp_month": 12, "exp_year": 2099, "cvc": "123", "holder_name": "Ada", **overrides}


def test_a_card_becomes_a_token_with_brand_and_last4_only(shop: Shop) -> None:
    r = shop.http.post("/v1/payments/tokens", json=card(card_number="4242 4242 4242 4242"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"token", "brand", "last4", "exp_month", "exp_year"}
    assert (body["brand"], body["last4"], body["exp_month"], body["exp_year"]) == ("visa", "4242", 12, 2099)
    assert body["token"].startswith("tok_") and CARD_OK not in r.text


def test_an_amex_takes_a_four_digit_code_and_a_mastercard_is_recognised(shop: Shop) -> None:
    amex = shop.http.post("/v1/payments/tokens", json=card(card_number="378282246310005", cvc="1234"))
    assert amex.status_code == 201 and amex.json()["brand"] == "amex", amex.text
    master = shop.http.post("/v1/payments/tokens", json=card(card_number=UNIQUE_CARD, holder_name=None))
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
def test_an_invalid_card_is_422_and_the_number_is_not_echoed(shop: Shop, overrides: dict[str, Any],
                                                             field: str) -> None:
    body = card(**overrides)
    r = shop.http.post("/v1/payments/tokens", json=body)
    error = assert_error(r, 422, "invalid_card")
    assert error["details"] == {"field": field}
    assert body["card_number"] not in r.text and body["card_number"].replace("-", "") not in r.text


def test_unknown_or_missing_fields_are_422_without_echoing_the_card(shop: Shop) -> None:
    extra = shop.http.post("/v1/payments/tokens", json=card(pin="1234"))
    error = assert_error(extra, 422, "validation_error")
    assert any(problem["field"] == "pin" for problem in error["details"])
    assert CARD_OK not in extra.text
    missing = shop.http.post("/v1/payments/tokens", json={"card_number": CARD_OK, "exp_month": 12})
    assert_error(missing, 422, "validation_error")
    assert CARD_OK not in missing.text
    huge = "4" * 60
    too_long = shop.http.post("/v1/payments/tokens", json=card(card_number=huge))
    assert_error(too_long, 422)
    assert huge not in too_long.text


def test_tokenizing_needs_no_login_and_no_card_reaches_a_log(shop: Shop) -> None:
    import ray

    assert "Authorization" not in shop.http.headers
    assert shop.card_token(UNIQUE_CARD).startswith("tok_")
    wrong_check_digit = UNIQUE_CARD[:-1] + str((int(UNIQUE_CARD[-1]) + 1) % 10)
    r = shop.http.post("/v1/payments/tokens", json=card(card_number=wrong_check_digit))
    assert_error(r, 422, "invalid_card")  # raised inside the gateway actor and carried back through Ray

    logs = [p for p in Path(ray._private.worker._global_node.get_logs_dir_path()).rglob("*") if p.is_file()]
    assert logs, "the session's Ray logs were not found"
    leaked = [str(p) for p in logs if any(n.encode() in p.read_bytes() for n in (UNIQUE_CARD, wrong_check_digit))]
    assert leaked == []
