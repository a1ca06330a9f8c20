"""What watches a variant's stock: low-stock alerts, automatic purchase orders, and the stock's history.

The inventory ledger (domain/inventory.py) reports every change of a level here (`changed`), after the change:

- **Low stock**: when available falls to or below the variant's `low_stock_threshold`, one `inventory.low_stock`
  event and one open alert; more sales while it stays low add nothing. When available is back above the
  threshold, the alert is resolved (removed) and the watch is armed again: the next fall is a new crossing.
- **Replenishment**: per variant a `reorder_point` (on the level) and a `reorder_quantity` (here; 0: off). When
  available falls to or below the reorder point, one purchase order of `reorder_quantity` units is opened for the
  variant's seller (its `supplier`), unless one is open already: never two open at once. Receiving it adds its
  units once; cancelling it closes it. Setting the rule counts as a crossing when available is already at or
  below the new point (the seller who sets it with 3 units left expects an order now).
- **History**: every change, with what it was, how many units, the reference (reservation or purchase order),
  who did it (a user id, `checkout`, `system`, `purchase_order`) and the reason, and the levels after it.

State is recorded as it changes in `dirty_*`, `events` (shared with the ledger) and `history`, which the owning
actor drains into the same transaction as the levels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from domain.clock import now_iso
from domain.errors import Conflict, NotFound
from domain.ids import new_id

if TYPE_CHECKING:
    from domain.inventory import StockLevel

OrderStatus = Literal["open", "received", "cancelled"]


@dataclass(slots=True)
class VariantWatch:
    variant_id: str
    seller_id: str | None = None
    reorder_quantity: int = 0  # units a purchase order asks for; 0: no automatic purchase orders
    supplier: str | None = None
    low: bool = False  # available was at or below the threshold when last seen: an alert is open
    below_reorder_point: bool = False  # available was at or below the reorder point when last seen
    open_purchase_order: str | None = None
    changes: int = 0  # the number of the latest history entry

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VariantWatch:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(slots=True)
class PurchaseOrder:
    id: str
    variant_id: str
    seller_id: str | None
    supplier: str | None
    quantity: int
    status: OrderStatus
    created_at: str
    closed_at: str | None = None  # when it was received or cancelled

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PurchaseOrder:
        return cls(**data)


@dataclass
class StockWatch:
    watches: dict[str, VariantWatch] = field(default_factory=dict)
    purchase_orders: dict[str, PurchaseOrder] = field(default_factory=dict)
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant_id -> its open low-stock alert
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # the ledger's own list
    new_order_id: Callable[[], str] = field(default=lambda: new_id("pur"))
    dirty_watches: set[str] = field(default_factory=set)
    dirty_orders: set[str] = field(default_factory=set)
    dirty_alerts: set[str] = field(default_factory=set)
    history: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)  # (variant, number, entry)

    def track(self, level: StockLevel, seller_id: str | None = None) -> VariantWatch:
        """The variant's watch, made on first sight from where its levels are now (that is not a crossing)."""
        watch = self.watches.get(level.variant_id)
        if watch is None:
            available = level.available
            watch = VariantWatch(level.variant_id, seller_id, low=available <= level.low_stock_threshold,
                                 below_reorder_point=available <= level.reorder_point)
            self.watches[level.variant_id] = watch
            self.dirty_watches.add(level.variant_id)
        return watch

    def changed(self, level: StockLevel, change: str, quantity: int, reference: str | None, actor: str,
                reason: str | None = None) -> None:
        """One change of the level's stock, after it happened: its history entry, then the crossings."""
        watch = self.track(level)
        watch.changes += 1
        self.dirty_watches.add(level.variant_id)
        available = level.on_hand - level.reserved - level.committed
        self.history.append((level.variant_id, watch.changes, {  # its "at" is stamped when it is written
            "n": watch.changes, "change": change, "quantity": quantity, "reference": reference,
            "actor": actor, "reason": reason, "on_hand": level.on_hand, "available": available,
            "reserved": level.reserved, "committed": level.committed}))
        self.observe(level, watch)

    def observe(self, level: StockLevel, watch: VariantWatch, rule_changed: bool = False) -> None:
        available = level.on_hand - level.reserved - level.committed
        low = available <= level.low_stock_threshold
        if low != watch.low:
            if low:
                self._alert(level, watch, available)
            elif self.alerts.pop(level.variant_id, None) is not None:
                self.dirty_alerts.add(level.variant_id)
            watch.low = low
            self.dirty_watches.add(level.variant_id)
        below = available <= level.reorder_point
        if below and (rule_changed or not watch.below_reorder_point) and watch.reorder_quantity > 0 \
                and watch.open_purchase_order is None:
            self._order(level, watch)
        if below != watch.below_reorder_point:
            watch.below_reorder_point = below
            self.dirty_watches.add(level.variant_id)

    def set_rule(self, level: StockLevel, reorder_quantity: int, supplier: str | None) -> VariantWatch:
        """The variant's reorder quantity and supplier (the ledger has set the level's thresholds), then the rule
        is applied to the levels as they are."""
        watch = self.track(level)
        watch.reorder_quantity, watch.supplier = reorder_quantity, supplier
        self.dirty_watches.add(level.variant_id)
        self.observe(level, watch, rule_changed=True)
        return watch

    # -- purchase orders -------------------------------------------------------------------------------
    def purchase_order(self, order_id: str) -> PurchaseOrder:
        order = self.purchase_orders.get(order_id)
        if order is None:
            raise NotFound("purchase_order_not_found", "No such purchase order", {"purchase_order_id": order_id})
        return order

    def close(self, order: PurchaseOrder, status: OrderStatus) -> None:
        """Mark an open order received or cancelled (the ledger adds a received order's units first)."""
        order.status = status
        order.closed_at = now_iso()
        self.dirty_orders.add(order.id)
        watch = self.watches.get(order.variant_id)
        if watch is not None and watch.open_purchase_order == order.id:
            watch.open_purchase_order = None
            self.dirty_watches.add(order.variant_id)
        data: dict[str, Any] = {"purchase_order_id": order.id, "variant_id": order.variant_id,
                                "seller_id": order.seller_id}
        if status == "received":
            data["quantity"] = order.quantity
        self.events.append((f"purchase_order.{status}", data))

    def ensure_open(self, order: PurchaseOrder, wanted: OrderStatus) -> bool:
        """True when the order is open; False when it is already `wanted` (a retry: nothing to do); else a
        Conflict (a received order cannot be cancelled, nor a cancelled one received)."""
        if order.status == "open":
            return True
        if order.status == wanted:
            return False
        raise Conflict("purchase_order_closed", f"The purchase order is already {order.status}",
                       {"purchase_order_id": order.id, "status": order.status})

    # -- checks ----------------------------------------------------------------------------------------
    def violations(self) -> list[str]:
        problems = []
        open_by_variant: dict[str, list[str]] = {}
        for order in self.purchase_orders.values():
            if order.status == "open":
                open_by_variant.setdefault(order.variant_id, []).append(order.id)
        for variant_id, orders in open_by_variant.items():
            watch = self.watches.get(variant_id)
            if len(orders) > 1:
                problems.append(f"{variant_id}: {len(orders)} open purchase orders {orders}")
            if watch is None or watch.open_purchase_order not in orders:
                problems.append(f"{variant_id}: open purchase order {orders} not the watch's")
        for variant_id, watch in self.watches.items():
            if watch.open_purchase_order is not None and variant_id not in open_by_variant:
                problems.append(f"{variant_id}: watch names {watch.open_purchase_order}, which is not open")
            if variant_id in self.alerts and not watch.low:  # (a variant made low has no alert: it fell nowhere)
                problems.append(f"{variant_id}: a low-stock alert is open but available is above the threshold")
        return problems

    # -- internals -------------------------------------------------------------------------------------
    def _alert(self, level: StockLevel, watch: VariantWatch, available: int) -> None:
        alert = {"variant_id": level.variant_id, "seller_id": watch.seller_id, "available": available,
                 "threshold": level.low_stock_threshold, "reorder_point": level.reorder_point, "at": now_iso()}
        self.alerts[level.variant_id] = alert
        self.dirty_alerts.add(level.variant_id)
        self.events.append(("inventory.low_stock", {k: v for k, v in alert.items() if k != "at"}))

    def _order(self, level: StockLevel, watch: VariantWatch) -> None:
        order = PurchaseOrder(self.new_order_id(), level.variant_id, watch.seller_id, watch.supplier,
                              watch.reorder_quantity, "open", now_iso())
        self.purchase_orders[order.id] = order
        self.dirty_orders.add(order.id)
        watch.open_purchase_order = order.id
        self.dirty_watches.add(level.variant_id)
        self.events.append(("purchase_order.created", {
            "purchase_order_id": order.id, "variant_id": order.variant_id, "seller_id": order.seller_id,
            "quantity": order.quantity, "supplier": order.supplier}))
