from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config import Settings
from domain.errors import Invalid
from domain.pricing import CouponRule, PricingRules, Quote

RULES = PricingRules(
    currency="USD",
    tax_rate_bps=800,
    shipping_flat_fee=499,
    free_shipping_over=5000,
    coupons={"WELCOME10": CouponRule(percent_off=10), "FLAT5": CouponRule(amount_off=500, min_subtotal=2000),
             "HALF": CouponRule(percent_off=50), "BIG": CouponRule(amount_off=1_000_000)},
)


def test_a_small_basket_pays_flat_shipping_and_tax_on_the_goods() -> None:
    quote = RULES.quote([("var_a", 1999, 1), ("var_b", 500, 2)])
    assert quote == Quote(subtotal=2999, discount=0, shipping=499, tax=240, total=3738, currency="USD", coupon=None)


def test_shipping_is_free_at_the_threshold_after_discount() -> None:
    assert RULES.quote([("v", 5000, 1)]).shipping == 0
    assert RULES.quote([("v", 4999, 1)]).shipping == 499
    discounted = RULES.quote([("v", 5400, 1)], "WELCOME10")  # 5400 - 540 = 4860 < 5000
    assert (discounted.discount, discounted.shipping) == (540, 499)


def test_tax_rounds_half_up() -> None:
    assert RULES.quote([("v", 1, 1)]).tax == 0  # 0.08
    assert RULES.quote([("v", 25, 1)]).tax == 2  # 2.0
    assert RULES.quote([("v", 1_875, 1)]).tax == 150  # 150.0
    assert RULES.quote([("v", 1_881, 1)]).tax == 150  # 150.48
    assert RULES.quote([("v", 1_882, 1)]).tax == 151  # 150.56
    assert RULES.quote([("v", 1_000_000_000_000_000_001, 1)]).tax == 80_000_000_000_000_000  # exact, no floats
    assert PricingRules("USD", 500, 0, 0, {}).quote([("v", 10, 1)]).tax == 1  # 0.5 rounds up


def test_coupons_by_percent_and_by_amount() -> None:
    percent = RULES.quote([("v", 3000, 2)], "welcome10")
    assert (percent.coupon, percent.discount, percent.tax) == ("WELCOME10", 600, 432)
    flat = RULES.quote([("v", 2000, 1)], " FLAT5 ")
    assert (flat.coupon, flat.discount, flat.total) == ("FLAT5", 500, 1500 + 120 + 499)


def test_an_amount_coupon_never_makes_the_total_negative() -> None:
    quote = RULES.quote([("v", 300, 1)], "BIG")
    assert (quote.discount, quote.tax, quote.total) == (300, 0, 499)


def test_unknown_or_too_early_coupons_are_refused() -> None:
    with pytest.raises(Invalid) as unknown:
        RULES.quote([("v", 9000, 1)], "NOPE")
    assert unknown.value.code == "invalid_coupon"
    with pytest.raises(Invalid) as below:
        RULES.quote([("v", 1999, 1)], "FLAT5")
    assert below.value.code == "invalid_coupon" and below.value.details["min_subtotal"] == 2000


def test_no_coupon_or_a_blank_one_means_no_discount() -> None:
    assert RULES.quote([("v", 100, 1)], "").coupon is None
    assert RULES.quote([("v", 100, 1)], None).discount == 0


@pytest.mark.parametrize("line", [("v", -1, 1), ("v", 100, 0), ("v", 1.5, 1), ("v", 100, True)])
def test_bad_lines_are_refused(line: tuple[str, int, int]) -> None:
    with pytest.raises(Invalid):
        RULES.quote([line])


def test_rules_come_from_settings() -> None:
    rules = PricingRules.from_settings(Settings())
    assert (rules.currency, rules.tax_rate_bps, rules.shipping_flat_fee, rules.free_shipping_over) == (
        "USD", 800, 499, 5000)
    assert rules.quote([("v", 2000, 1)], "flat5").discount == 500
    assert rules.quote([("v", 2000, 1)], "WELCOME10").discount == 200


lines = st.lists(st.tuples(st.just("var"), st.integers(0, 1_000_000), st.integers(1, 100)), max_size=20)
coupons = st.sampled_from([None, "WELCOME10", "HALF", "BIG"])


@hypothesis_settings(derandomize=True, max_examples=300)
@given(lines, coupons, st.integers(0, 10_000))
def test_the_total_is_always_the_sum_of_its_parts_and_never_negative(
    basket: list[tuple[str, int, int]], coupon: str | None, tax_rate_bps: int
) -> None:
    rules = PricingRules("USD", tax_rate_bps, 499, 5000, RULES.coupons)
    quote = rules.quote(basket, coupon)
    assert quote.total == quote.subtotal - quote.discount + quote.tax + quote.shipping
    assert quote.subtotal == sum(price * qty for _, price, qty in basket)
    assert 0 <= quote.discount <= quote.subtotal
    assert min(quote.total, quote.tax, quote.shipping) >= 0
    assert quote.shipping in (0, 499)


@hypothesis_settings(derandomize=True, max_examples=300)
@given(lines, coupons)
def test_tax_is_within_half_a_cent_of_the_exact_rate(basket: list[tuple[str, int, int]], coupon: str | None) -> None:
    quote = RULES.quote(basket, coupon)
    exact_times_10000 = (quote.subtotal - quote.discount) * 800
    assert abs(quote.tax * 10_000 - exact_times_10000) <= 5_000


def test_a_coupons_dates_from_settings_are_kept_with_their_zone() -> None:
    from config import load_settings

    settings = load_settings(env="test", data_dir="/tmp/bazaar-unit", jwt_secret="x" * 40, coupons={
        "OLD": {"percent_off": 5, "ends_at": "2020-01-01T00:00:00Z"},
        "NAIVE": {"percent_off": 5, "starts_at": "2099-01-01T00:00:00"}})
    rules = PricingRules.from_settings(settings)
    assert rules.coupons["OLD"].ends_at is not None and rules.coupons["OLD"].ends_at.year == 2020
    assert rules.coupons["NAIVE"].starts_at is not None and rules.coupons["NAIVE"].starts_at.tzinfo is not None
    for code in ("OLD", "NAIVE"):
        with pytest.raises(Invalid):
            rules.quote([("v", 1000, 1)], code)
