"""An order and its lifecycle. Which status may follow which is decided here and nowhere else.

An order is shown two ways: admins get the full view (`Order.view`, `Order.public`: everything but the internal
reservations), a shopper gets `customer_view`, which keeps the fields the HTTP contract lists for an order
(../shared/API.md), plus each line's name and SKU as bought and the shopper's own coupon code, and nothing else:
no gateway `payment_id`, no admin notes in the history, no seller bookkeeping. It is an allow-list, so a field
added to the order later stays internal until it is added here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from domain.clock import iso, now
from domain.errors import Conflict, Invalid, NotFound
from domain.fulfilments import Fulfilment, price_lines, split
from domain.returns import Return
from domain.serial import to_builtins

Status = Literal["pending", "confirmed", "packed", "partially_shipped", "shipped", "delivered", "cancelled",
                 "return_requested", "returned", "refunded"]
PaymentStatus = Literal["pending", "authorized", "paid", "failed", "voided", "refunded", "partially_refunded",
                        "charged_back"]

NEXT: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "cancelled"}),  # pending = held for review (fraud rules)
    "confirmed": frozenset({"packed", "partially_shipped", "cancelled"}),
    "packed": frozenset({"shipped", "partially_shipped", "cancelled"}),
    "partially_shipped": frozenset({"shipped"}),  # some sellers' fulfilments shipped (domain/fulfilments.py)
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset({"return_requested"}),
    "return_requested": frozenset({"returned", "delivered"}),
    "returned": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
SHIPPED_STATUSES = frozenset({"shipped", "delivered", "return_requested", "returned", "refunded"})
CANCELLABLE = frozenset(s for s, nxt in NEXT.items() if "cancelled" in nxt)
DELIVERY_DAYS = 5

# what a shopper sees of an order, its lines, its payment method and its history entries (the contract's fields)
CUSTOMER_FIELDS = ("id", "order_number", "user_id", "items", "subtotal", "tax", "shipping", "discount", "total",
                   "currency", "status", "payment_status", "shipping_address", "payment_method", "tracking_number",
                   "estimated_delivery", "history", "created_at", "updated_at", "coupon_code", "fulfilments", "returns")
# the contract's line fields, and the name and SKU as bought (what a receipt shows; the product may change later)
CUSTOMER_LINE_FIELDS = ("product_id", "variant_id", "name", "sku", "quantity", "price", "total_price", "worth",
                        "cancelled", "shipped", "delivered", "returned")
CUSTOMER_FULFILMENT_FIELDS = ("id", "variant_ids", "status", "carrier", "tracking_number", "estimated_delivery",
                              "shipped_at", "delivered_at", "history")
CUSTOMER_RETURN_FIELDS = ("id", "order_id", "lines", "reason", "status", "condition", "refund_amount",
                          "rejection_reason", "history", "created_at")
CUSTOMER_PAYMENT_METHOD_FIELDS = ("brand", "last4")
CUSTOMER_HISTORY_FIELDS = ("status", "at")


@dataclass
class OrderLine:
    product_id: str
    variant_id: str
    name: str
    sku: str
    quantity: int
    price: int  # unit price paid, minor units
    total_price: int
    seller_id: str | None = None
    worth: int = -1  # what the shopper paid for the line (domain/fulfilments.py); -1 until priced
    cancelled: int = 0  # units
    shipped: int = 0
    delivered: int = 0
    returned: int = 0  # units returned and refunded
    settled: int = 0  # worth taken off: cancelled or refunded units

    def __post_init__(self) -> None:
        if self.worth < 0:
            self.worth = self.total_price


@dataclass
class Order:
    id: str
    order_number: str
    user_id: str
    items: list[OrderLine]
    subtotal: int
    tax: int
    shipping: int
    discount: int
    total: int
    currency: str
    status: str
    payment_status: str
    shipping_address: dict[str, Any]
    payment_method: dict[str, Any]  # brand, last4 only
    payment_id: str | None
    reservations: list[dict[str, Any]]  # [{"id", "variant_ids"}]: what to commit, release or ship
    coupon_code: str | None = None
    fraud_score: float | None = None  # the fraud model's, at checkout (admins only: not in CUSTOMER_FIELDS)
    fraud_reasons: list[str] = field(default_factory=list)  # why it was held (admins only)
    chargeback: dict[str, Any] | None = None  # {"reason", "amount", "at"} once the card's issuer took it back
    tracking_number: str | None = None
    estimated_delivery: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    fulfilments: list[Fulfilment] = field(default_factory=list)  # one per seller (domain/fulfilments.py)
    returns: list[Return] = field(default_factory=list)  # domain/returns.py
    captured: int = 0  # what the gateway captured, minor units
    refunded: int = 0  # what the gateway gave back of it (cancelled units after capture, returns)

    def line(self, variant_id: str) -> OrderLine:
        for line in self.items:
            if line.variant_id == variant_id:
                return line
        raise NotFound("unknown_line", "The order has no such line", {"variant_id": variant_id})

    @classmethod
    def place(cls, *, held_for_review: bool, payment_status: str = "authorized", **fields: Any) -> Order:
        """A paid-for order (authorized; "paid" when it costs nothing): confirmed, or pending when fraud rules
        held it for review."""
        moment = now()
        status = "pending" if held_for_review else "confirmed"
        items = [line if isinstance(line, OrderLine) else OrderLine(**line) for line in fields.pop("items")]
        order = cls(items=items, status=status, payment_status=payment_status, created_at=iso(moment),
                    updated_at=iso(moment), estimated_delivery=iso(moment + timedelta(days=DELIVERY_DAYS)), **fields)
        price_lines(order.items, order.discount, order.tax)
        order.fulfilments = split(order.id, order.items)
        order.history.append({"status": status, "at": order.created_at})
        return order

    def can_move_to(self, status: str) -> bool:
        return status in NEXT.get(self.status, frozenset())

    def ensure_can_move_to(self, status: str) -> None:
        if status not in NEXT:
            raise Invalid("invalid_status", f"Unknown order status {status!r}")
        if not self.can_move_to(status):
            late_cancel = status == "cancelled" and self.status not in CANCELLABLE
            code = "already_shipped" if late_cancel else "invalid_transition"
            raise Conflict(code, f"An order that is {self.status} cannot become {status}",
                           {"from": self.status, "to": status})

    def move_to(self, status: str, at: str, note: str | None = None, tracking_number: str | None = None) -> None:
        self.ensure_can_move_to(status)
        if status == "shipped" and not (tracking_number or self.tracking_number):
            raise Invalid("tracking_number_required", "A shipped order needs a tracking number")
        self.status = status
        if tracking_number:
            self.tracking_number = tracking_number
        self.updated_at = at
        self.history.append({"status": status, "at": at, **({"note": note} if note else {})})

    def set_payment_status(self, payment_status: str, at: str) -> None:
        self.payment_status = payment_status
        self.updated_at = at

    def charge_back(self, reason: str, amount: int, at: str) -> None:
        """The card's issuer took the payment back (a dispute): once per order, only for an order that was paid
        for. The order's status stays (shipping and returns go on); its payment status says what happened."""
        self.ensure_can_charge_back()
        self.chargeback = {"reason": reason, "amount": amount, "at": at}
        self.set_payment_status("charged_back", at)

    def ensure_can_charge_back(self) -> None:
        if self.payment_id is None:
            raise Conflict("no_payment", "This order cost nothing: there is no payment to charge back",
                           {"order_id": self.id})
        if self.chargeback is not None:
            raise Conflict("already_charged_back", "This order's payment was charged back already",
                           {"order_id": self.id, "chargeback": self.chargeback})

    def to_dict(self) -> dict[str, Any]:
        return to_builtins(self)

    def view(self) -> dict[str, Any]:
        """The admins' full view (internal bookkeeping such as reservations stays inside); shoppers get
        `customer_view` of it."""
        return self.public(self.to_dict())

    @staticmethod
    def public(data: dict[str, Any]) -> dict[str, Any]:
        """An order's `to_dict()` made the admins' full view, in place (read it first for anything else)."""
        data.pop("reservations")
        data["items"] = [{k: v for k, v in line.items() if k not in ("seller_id", "settled")} for line in data["items"]]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        fields["items"] = [OrderLine(**line) for line in data["items"]]
        fields["fulfilments"] = [Fulfilment(**f) for f in data.get("fulfilments", [])]
        fields["returns"] = [Return(**r) for r in data.get("returns", [])]
        order = cls(**fields)
        if not order.fulfilments:  # stored before orders split among sellers: one fulfilment per seller now
            order.fulfilments = split(order.id, order.items)
            if order.status in SHIPPED_STATUSES:
                for line in order.items:
                    line.shipped = line.delivered = line.quantity
                for f in order.fulfilments:
                    f.status = "shipped" if order.status == "shipped" else "delivered"
            elif order.status == "cancelled":
                for line in order.items:
                    line.cancelled, line.settled = line.quantity, line.worth
                for f in order.fulfilments:
                    f.status = "cancelled"
        return order


def customer_view(full: dict[str, Any]) -> dict[str, Any]:
    """What the shopper who placed it sees of an order's full view: the contract's fields, nothing more."""
    view = {name: full.get(name) for name in CUSTOMER_FIELDS}
    view["items"] = [_only(line, CUSTOMER_LINE_FIELDS) for line in full["items"]]
    view["payment_method"] = _only(full.get("payment_method") or {}, CUSTOMER_PAYMENT_METHOD_FIELDS)
    view["history"] = [_only(entry, CUSTOMER_HISTORY_FIELDS) for entry in full["history"]]
    view["fulfilments"] = fulfilments_view(full)
    view["returns"] = [_only(r, CUSTOMER_RETURN_FIELDS) for r in full.get("returns", [])]
    return view


def fulfilments_view(full: dict[str, Any]) -> list[dict[str, Any]]:
    """The parcels as the shopper sees them: each with its lines (variant and units) and where it is."""
    units = {line["variant_id"]: line["quantity"] - line.get("cancelled", 0) for line in full["items"]}
    return [{**_only(f, CUSTOMER_FULFILMENT_FIELDS),
             "lines": [{"variant_id": v, "quantity": units.get(v, 0)} for v in f["variant_ids"]]}
            for f in full.get("fulfilments", [])]


def view_for(full: dict[str, Any], *, admin: bool) -> dict[str, Any]:
    """The view of an order for its caller: the full one for an admin, the customer's for anyone else."""
    return full if admin else customer_view(full)


def _only(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: data.get(name) for name in names}
