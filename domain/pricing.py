"""The price of a basket: subtotal, coupon discount, shipping, tax and total, all ints of minor units.

    discount = the coupon's percent (rounded half up) or amount, never more than the subtotal
    shipping = 0 when (subtotal - discount) >= free_shipping_over or the basket is empty, else the flat fee
    tax      = (subtotal - discount) * tax_rate_bps / 10000, rounded half up (shipping is not taxed)
    total    = subtotal - discount + shipping + tax
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from domain.clock import iso, now
from domain.errors import Invalid

if TYPE_CHECKING:
    from config import Settings


class Line(NamedTuple):
    variant_id: str
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class CouponRule:
    percent_off: int | None = None
    amount_off: int | None = None
    min_subtotal: int = 0
    max_uses: int | None = None  # orders that may use it, all shoppers together (enforced by its coupon shard)
    max_uses_per_user: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # exclusive

    @property
    def limited(self) -> bool:
        """Whether each use must be claimed before the order (see domain/coupons.py)."""
        return self.max_uses is not None or self.max_uses_per_user is not None

    def check_valid_at(self, code: str, at: datetime) -> None:
        if self.starts_at is not None and at < self.starts_at:
            raise Invalid("invalid_coupon", "This coupon is not valid yet", {"coupon_code": code,
                                                                             "starts_at": iso(self.starts_at)})
        if self.ends_at is not None and at >= self.ends_at:
            raise Invalid("invalid_coupon", "This coupon has expired", {"coupon_code": code,
                                                                        "ends_at": iso(self.ends_at)})

    def discount(self, subtotal: int) -> int:
        if self.percent_off is not None:
            return min(subtotal, _div_half_up(subtotal * self.percent_off, 100))
        return min(subtotal, self.amount_off or 0)


@dataclass(frozen=True)
class Quote:
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int
    currency: str
    coupon: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PricingRules:
    currency: str
    tax_rate_bps: int
    shipping_flat_fee: int
    free_shipping_over: int
    coupons: Mapping[str, CouponRule]  # keyed by upper-case code

    @classmethod
    def from_settings(cls, settings: Settings) -> PricingRules:
        coupons = {code.upper(): CouponRule(c.percent_off, c.amount_off, c.min_subtotal, c.max_uses,
                                            c.max_uses_per_user, _utc(c.starts_at), _utc(c.ends_at))
                   for code, c in settings.coupons.items()}
        return cls(settings.currency, settings.tax_rate_bps, settings.shipping_flat_fee,
                   settings.free_shipping_over, coupons)

    def quote(self, lines: Iterable[tuple[str, int, int]], coupon_code: str | None = None,
              at: datetime | None = None) -> Quote:
        """`at`: when the order is placed (a coupon's validity dates are checked against it; default now)."""
        subtotal = sum(_line_total(Line(*line)) for line in lines)
        code = (coupon_code or "").strip().upper() or None
        discount = 0
        if code is not None:
            rule = self.coupons.get(code)
            if rule is None:
                raise Invalid("invalid_coupon", "No such coupon", {"coupon_code": code})
            rule.check_valid_at(code, at or now())
            if subtotal < rule.min_subtotal:
                raise Invalid("invalid_coupon", "The order is below this coupon's minimum",
                              {"coupon_code": code, "min_subtotal": rule.min_subtotal})
            discount = rule.discount(subtotal)
        taxable = subtotal - discount
        free = subtotal == 0 or taxable >= self.free_shipping_over
        shipping = 0 if free else self.shipping_flat_fee
        tax = _div_half_up(taxable * self.tax_rate_bps, 10_000)
        return Quote(subtotal, discount, shipping, tax, taxable + shipping + tax, self.currency, code)


def _line_total(line: Line) -> int:
    for value, minimum in ((line.unit_price, 0), (line.quantity, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise Invalid("invalid_line", "A line needs a unit price >= 0 and a quantity >= 1",
                          {"variant_id": line.variant_id})
    return line.unit_price * line.quantity


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for numerator >= 0, in exact integer arithmetic."""
    return (numerator * 2 + denominator) // (denominator * 2)
