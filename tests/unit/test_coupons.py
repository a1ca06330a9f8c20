"""A coupon's uses within its limits, claimed by checkouts and given back when a checkout is undone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.coupons import CouponUses
from domain.errors import Invalid
from domain.pricing import CouponRule, PricingRules


def test_a_coupon_has_at_most_its_uses_however_many_shoppers_claim() -> None:
    uses = CouponUses("FIRST2")
    uses.claim("chk_a", "ord_a", "ada", 1.0, max_uses=2, max_uses_per_user=None)
    uses.claim("chk_b", "ord_b", "bob", 2.0, max_uses=2, max_uses_per_user=None)
    with pytest.raises(Invalid) as refused:
        uses.claim("chk_c", "ord_c", "cy", 3.0, max_uses=2, max_uses_per_user=None)
    assert refused.value.details["reason"] == "used_up"
    assert uses.release("chk_a") is not None and uses.release("chk_a") is None  # idempotent
    uses.claim("chk_c", "ord_c", "cy", 4.0, max_uses=2, max_uses_per_user=None)  # the released use is free again
    assert sorted(uses.uses) == ["chk_b", "chk_c"]


def test_a_shopper_uses_a_once_per_shopper_coupon_once_and_a_retry_claims_nothing_more() -> None:
    uses = CouponUses("WELCOME10")
    first = uses.claim("chk_a", "ord_a", "ada", 1.0, max_uses=None, max_uses_per_user=1)
    assert uses.claim("chk_a", "ord_a", "ada", 9.0, max_uses=None, max_uses_per_user=1) is first
    with pytest.raises(Invalid) as refused:
        uses.claim("chk_b", "ord_b", "ada", 2.0, max_uses=None, max_uses_per_user=1)
    assert refused.value.details["reason"] == "already_used"
    uses.claim("chk_c", "ord_c", "bob", 3.0, max_uses=None, max_uses_per_user=1)


def test_a_coupon_is_refused_outside_its_dates() -> None:
    rules = PricingRules("USD", 0, 0, 0, {"SUMMER": CouponRule(
        percent_off=10, starts_at=datetime(2030, 6, 1, tzinfo=UTC), ends_at=datetime(2030, 9, 1, tzinfo=UTC))})
    lines = [("v", 1000, 1)]
    for moment, code in ((datetime(2030, 5, 31, tzinfo=UTC), "not valid yet"),
                         (datetime(2030, 9, 1, tzinfo=UTC), "expired")):
        with pytest.raises(Invalid) as refused:
            rules.quote(lines, "summer", moment)
        assert refused.value.code == "invalid_coupon" and code in refused.value.message
    assert rules.quote(lines, "SUMMER", datetime(2030, 7, 1, tzinfo=UTC)).discount == 100
    assert not CouponRule(percent_off=10).limited and CouponRule(percent_off=10, max_uses_per_user=1).limited
