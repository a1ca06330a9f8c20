"""No sequence of shipments, deliveries, cancellations and returns of an order across sellers breaks the stock
ledger, the money identity or the seller ledgers: hypothesis drives the domain rules (no Ray, no Redis) the way the
shopper shard does (actors/fulfilment.py, actors/returns.py: plan on a draft, call the gateway and the stock
ledger, then keep the draft), and after every step the whole-store audit (domain/audit.py) finds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain import fulfilments as F
from domain import returns as R
from domain.audit import Snapshot, audit
from domain.errors import DomainError
from domain.inventory import StockLedger
from domain.orders import Order, OrderLine
from domain.payments import CardToken, PaymentBook
from domain.seller_ledger import refund_entries, sale_entries

T0 = datetime(2030, 1, 1, tzinfo=UTC)
STOCK = 20
# variant -> (seller, unit price, quantity bought); the shop's own line has no seller
LINES = {"loom": ("sel_a", 1999, 3), "lamp": ("sel_b", 1250, 2), "kite": ("sel_a", 700, 1), "tape": (None, 333, 4)}
CARD = CardToken("tok_1", "visa", "4242", 12, 2099, "fp", None, "approve", "2030-01-01T00:00:00Z", "ada")


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class OrderAcrossSellers(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = T0
        self.stock = StockLedger()
        for variant_id in LINES:
            self.stock.create(variant_id, STOCK)
        self.stock.reserve("chk_1-0", {"loom": 3, "tape": 4}, 0, 60, commit=True)
        self.stock.reserve("chk_1-1", {"lamp": 2, "kite": 1}, 0, 60, commit=True)
        lines = [OrderLine(f"prd_{v}", v, v, v.upper(), q, p, p * q, s) for v, (s, p, q) in LINES.items()]
        subtotal = sum(ln.total_price for ln in lines)
        discount, shipping = 500, 499
        tax = (subtotal - discount) * 8 // 100
        total = subtotal - discount + shipping + tax
        self.book = PaymentBook()
        payment = self.book.authorize(CARD, total, "USD", "chk_1", "ord_1", T0).result
        self.order = Order.place(
            held_for_review=False, id="ord_01HZZZZZZZZZZZZZZZZZZZZZZZ", order_number="BZ-1", user_id="ada",
            items=lines, subtotal=subtotal, tax=tax, shipping=shipping, discount=discount, total=total,
            currency="USD", shipping_address={"country": "US"}, payment_method={}, payment_id=payment["id"],
            reservations=[{"id": "chk_1-0", "variant_ids": ["loom", "tape"]},
                          {"id": "chk_1-1", "variant_ids": ["lamp", "kite"]}])
        self.book.payments[payment["id"]].reference = self.order.id
        self.ledgers: dict[str, dict[str, dict[str, Any]]] = {}
        self.restocked: Counter[str] = Counter()
        self.damaged: Counter[str] = Counter()
        self.steps = 0

    # -- the shopper shard's steps, on a draft ---------------------------------------------------------------
    def attempt(self, step: Any) -> None:
        """Run a step on a draft; a refusal must leave the order, the stock and the payment as they were."""
        before = (self.order.to_dict(), {v: lv.to_dict() for v, lv in self.stock.levels.items()},
                  self.book.get(self.order.payment_id or "").to_dict())
        draft = Order.from_dict(self.order.to_dict())
        self.clock += timedelta(hours=1)
        try:
            step(draft, iso(self.clock))
        except DomainError:
            after = (self.order.to_dict(), {v: lv.to_dict() for v, lv in self.stock.levels.items()},
                     self.book.get(self.order.payment_id or "").to_dict())
            assert after == before
            return
        self.order = draft
        self.steps += 1

    def settle(self, draft: Order, variant_ids: list[str]) -> None:
        for reservation in draft.reservations:
            mine = [v for v in reservation["variant_ids"] if v in variant_ids]
            if mine:
                self.stock.settle(reservation["id"], *F.settlement(draft, mine), now=self.clock.timestamp())

    def pay(self, draft: Order, operation: str, amount: int | None, key: str) -> dict[str, Any]:
        pid = draft.payment_id or ""
        if operation == "capture":
            return self.book.capture(pid, amount, key, self.clock).result
        if operation == "void":
            return self.book.void(pid, key, self.clock).result
        return self.book.refund(pid, amount, key, self.clock).result

    @rule(which=st.integers(0, 2), carrier=st.sampled_from(["UPS", "DHL"]))
    def ship(self, which: int, carrier: str) -> None:
        def step(draft: Order, at: str) -> None:
            f = draft.fulfilments[which]
            plan = F.plan_ship(draft, f)
            if draft.captured == 0:
                draft.captured = self.pay(draft, "capture", F.capture_amount(draft), "cap")["captured"]
            F.apply_ship(draft, f, carrier, f"1Z{which}", at, {"loom": 1000, "lamp": 1500}, at)
            self.settle(draft, list(plan))
            F.follow(draft, at)
            if f.seller_id:
                for entry in sale_entries(draft, f, at):
                    self.ledgers.setdefault(f.seller_id, {})[entry["id"]] = entry

        self.attempt(step)

    @rule(which=st.integers(0, 2))
    def deliver(self, which: int) -> None:
        def step(draft: Order, at: str) -> None:
            F.apply_deliver(draft, draft.fulfilments[which], at)
            F.follow(draft, at)

        self.attempt(step)

    @rule(wanted=st.dictionaries(st.sampled_from(list(LINES)), st.integers(1, 4), min_size=1, max_size=2),
          whole=st.integers(0, 9))
    def cancel(self, wanted: dict[str, int], whole: int) -> None:
        """Some units, or (one time in ten) everything not shipped yet."""
        def step(draft: Order, at: str) -> None:
            units = F.plan_cancel(draft, None if whole == 0 else wanted)
            amount = F.apply_cancel(draft, units, at, "changed my mind")
            F.follow(draft, at)
            self.settle(draft, list(units))
            if draft.captured == 0 and draft.status == "cancelled":
                self.pay(draft, "void", None, "void")
            elif draft.captured and amount:
                draft.refunded = self.pay(draft, "refund", amount, f"cancel-{self.steps}")["refunded"]

        self.attempt(step)

    @rule(which=st.integers(0, 2), units=st.integers(1, 3), late=st.booleans())
    def request_return(self, which: int, units: int, late: bool) -> None:
        """A return of some units of a fulfilment's lines (delivered or not: the rules decide), maybe too late."""
        wanted = {v: units for v in self.order.fulfilments[which].variant_ids}
        when = self.clock + timedelta(days=31 if late else 0)
        self.attempt(lambda draft, at: R.request(draft, wanted, "broken", when, 30, at))

    @precondition(lambda self: bool(self.order.returns))
    @rule(which=st.integers(0, 5), approve=st.booleans())
    def decide(self, which: int, approve: bool) -> None:
        self.attempt(lambda draft, at: R.decide(draft.returns[which % len(draft.returns)], approve, "no", at))

    @precondition(lambda self: bool(self.order.returns))
    @rule(which=st.integers(0, 5), condition=st.sampled_from(["resellable", "damaged"]))
    def receive(self, which: int, condition: str) -> None:
        def step(draft: Order, at: str) -> None:
            found = draft.returns[which % len(draft.returns)]
            amount = R.refund_amount(draft, found)
            self.stock.restock(found.id, found.lines, condition, self.clock.timestamp())  # type: ignore[arg-type]
            (self.restocked if condition == "resellable" else self.damaged).update(found.lines)
            if amount:
                draft.refunded = self.pay(draft, "refund", amount, found.id)["refunded"]
            f = next(f for f in draft.fulfilments if f.id == found.fulfilment_id)
            entries = refund_entries(draft, found.id, found.lines, f.commission_bps, at)
            draft.refunded -= amount  # apply_refund adds it
            R.apply_refund(draft, found, condition, amount, at)
            if found.seller_id:
                for entry in entries:
                    self.ledgers.setdefault(found.seller_id, {})[entry["id"]] = entry

        self.attempt(step)

    # -- what no sequence may break ---------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The store as the audit reads it (an hour on: nothing is in flight)."""
        store = Snapshot(now=self.clock.timestamp() + 3600, recovery_seconds=1)
        store.levels = {v: lv.to_dict() for v, lv in self.stock.levels.items()}
        store.reservations = {r.id: r.to_dict() for r in self.stock.reservations.values()}
        store.orders = {self.order.id: self.order.to_dict()}
        store.payments = {p.id: {**p.to_dict(), "updated_at": "2000-01-01T00:00:00Z"}
                          for p in self.book.payments.values()}
        store.seller_ledgers = self.ledgers
        return store

    @invariant()
    def the_whole_store_passes_the_audit(self) -> None:
        assert audit(self.snapshot()) == []
        assert self.stock.violations() == []

    @invariant()
    def every_unit_is_on_the_shelf_shipped_or_in_the_damaged_bin(self) -> None:
        for variant_id, level in self.stock.levels.items():
            line = self.order.line(variant_id)
            assert level.on_hand + line.shipped - self.restocked[variant_id] == STOCK
            assert level.damaged == self.damaged[variant_id]

    @invariant()
    def never_refunded_above_captured(self) -> None:
        payment = self.book.get(self.order.payment_id or "")
        assert payment.refunded <= payment.captured == self.order.captured
        assert sum(r.refund_amount or 0 for r in self.order.returns) <= self.order.refunded


OrderAcrossSellers.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None,
                                                derandomize=True)
test_no_sequence_breaks_the_stock_or_the_money = OrderAcrossSellers.TestCase
