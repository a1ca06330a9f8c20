"""Stock of SKUs (variants): the consistency boundary the inventory shard serializes.

For every variant: on_hand = available + reserved + committed, and none of the four is ever negative.
`reserved` is stock held by live reservations (a checkout in progress, with a TTL); `committed` is stock sold
and awaiting shipment. Every method checks everything first and only then mutates, so a method that raises
has changed nothing. What changed is recorded in `dirty_levels`, `dirty_reservations` and `events`, which the
owning actor drains into one Redis transaction.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.errors import Conflict, Invalid, NotFound
from domain.settlement import Settlement
from domain.stock_watch import PurchaseOrder, StockWatch

ReservationStatus = Literal["held", "committed", "released", "expired", "shipped", "restocked"]
# "restocked": not a reservation but the receipt of returned units (`restock`), kept like one for idempotent retries
FINISHED: frozenset[str] = frozenset({"released", "expired", "shipped", "restocked"})


@dataclass(slots=True)
class StockLevel:
    variant_id: str
    on_hand: int
    reserved: int = 0
    committed: int = 0
    low_stock_threshold: int = 5
    reorder_point: int = 10
    damaged: int = 0  # returned units in the damaged bin: not on hand, never for sale

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.committed

    def to_dict(self) -> dict[str, Any]:
        data = {"variant_id": self.variant_id, "on_hand": self.on_hand, "reserved": self.reserved,
                "committed": self.committed, "low_stock_threshold": self.low_stock_threshold,
                "reorder_point": self.reorder_point}
        if self.damaged:
            data["damaged"] = self.damaged
        return data

    def view(self) -> dict[str, Any]:
        return {**self.to_dict(), "available": self.available}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StockLevel:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(slots=True)  # no per-object __dict__: a flash sale keeps many of these
class Reservation:
    id: str
    lines: dict[str, int]  # variant_id -> quantity
    expires_at: float
    status: ReservationStatus = "held"
    updated_at: float = 0.0
    # a committed reservation settled part by part (one seller's fulfilment ships, a line is cancelled): the units
    # of each variant shipped and released so far; None until the first part (the whole-reservation path never
    # sets them)
    shipped: dict[str, int] | None = None
    released: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        # by hand, not asdict(): this runs twice per reservation on the hot path and asdict deep-copies
        data = {"id": self.id, "lines": dict(self.lines), "expires_at": self.expires_at, "status": self.status,
                "updated_at": self.updated_at}
        if self.shipped is not None or self.released is not None:
            data["shipped"], data["released"] = dict(self.shipped or {}), dict(self.released or {})
        return data

    def outstanding(self) -> dict[str, int]:
        """Units still committed, per variant (none unless the reservation is committed)."""
        if self.status != "committed":
            return {}
        shipped, released = self.shipped or {}, self.released or {}
        return {v: q - shipped.get(v, 0) - released.get(v, 0) for v, q in self.lines.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reservation:
        return cls(**data)


@dataclass
class StockLedger(Settlement):  # settle and restock: domain/settlement.py
    levels: dict[str, StockLevel] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    dirty_levels: set[str] = field(default_factory=set)
    dirty_reservations: set[str] = field(default_factory=set)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    watch: StockWatch = field(default_factory=StockWatch)  # alerts, purchase orders, history (domain/stock_watch.py)
    # indexes, so that the timer's work is what is due, not what is held: held reservations by expiry and
    # finished ones by when they finished, as (time, reservation id); stale entries are skipped when popped
    _expiries: list[tuple[float, str]] = field(default_factory=list, init=False, repr=False, compare=False)
    _finished: list[tuple[float, str]] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.watch.events = self.events  # one list of events, in the order things happened
        for r in self.reservations.values():
            if r.status == "held":
                self._expiries.append((r.expires_at, r.id))
            elif r.status in FINISHED:
                self._finished.append((r.updated_at, r.id))
        heapq.heapify(self._expiries)
        heapq.heapify(self._finished)

    # -- stock records -------------------------------------------------------------------------------
    def create(self, variant_id: str, on_hand: int, low_stock_threshold: int = 5, reorder_point: int = 10,
               seller_id: str | None = None) -> bool:
        """A new SKU's stock record (of `seller_id`'s product; None: the shop's own). Idempotent: an existing record
        is left as it is (returns False)."""
        if on_hand < 0 or low_stock_threshold < 0 or reorder_point < 0:
            raise Invalid("invalid_stock", "Stock and thresholds cannot be negative", {"variant_id": variant_id})
        if variant_id in self.levels:
            return False
        level = self.levels[variant_id] = StockLevel(variant_id, on_hand, 0, 0, low_stock_threshold, reorder_point)
        self._touch(variant_id)
        self.events.append(("inventory.created", {"variant_id": variant_id, "on_hand": on_hand}))
        self.watch.track(level, seller_id)
        self.watch.changed(level, "created", on_hand, None, "system")
        return True

    def create_many(self, items: list[dict[str, Any]]) -> int:
        """Create many stock records, all checked before any is made. Returns how many were new."""
        records = [(item["variant_id"], int(item.get("on_hand", 0)), int(item.get("low_stock_threshold", 5)),
                    int(item.get("reorder_point", 10)), item.get("seller_id")) for item in items]
        for variant_id, *amounts, _ in records:
            if min(amounts) < 0:
                raise Invalid("invalid_stock", "Stock and thresholds cannot be negative", {"variant_id": variant_id})
        return sum(self.create(*record) for record in records)

    def level(self, variant_id: str) -> StockLevel:
        level = self.levels.get(variant_id)
        if level is None:
            raise NotFound("not_found", "No stock record for this variant", {"variant_id": variant_id})
        return level

    def adjust(self, variant_id: str, delta: int, reason: str, actor: str = "system",
               change: str = "adjusted", reference: str | None = None) -> StockLevel:
        """Receive (+) or write off (-) stock on hand. Never leaves available below zero. `actor`: who (a user id,
        `system`, `purchase_order`), for the stock's history."""
        level = self.level(variant_id)
        if level.available + delta < 0:
            raise Conflict("insufficient_available", "The adjustment would leave available stock below zero",
                           {"variant_id": variant_id, "available": level.available, "delta": delta})
        level.on_hand += delta
        self._touch(variant_id)
        self.events.append(("inventory.adjusted", {"variant_id": variant_id, "delta": delta, "reason": reason,
                                                   "on_hand": level.on_hand, "available": level.available,
                                                   "actor": actor}))
        self.watch.changed(level, change, delta, reference, actor, reason)
        return level

    def set_replenishment(self, variant_id: str, reorder_point: int, reorder_quantity: int,
                          low_stock_threshold: int | None = None, supplier: str | None = None,
                          actor: str = "system") -> StockLevel:
        """The variant's reorder point and quantity (0: no purchase orders), and its low-stock threshold when
        given; the rules apply to the levels at once (domain/stock_watch.py)."""
        level = self.level(variant_id)
        if min(reorder_point, reorder_quantity, 0 if low_stock_threshold is None else low_stock_threshold) < 0:
            raise Invalid("invalid_stock", "Thresholds and quantities cannot be negative", {"variant_id": variant_id})
        level.reorder_point = reorder_point
        if low_stock_threshold is not None:
            level.low_stock_threshold = low_stock_threshold
        self._touch(variant_id)
        self.events.append(("inventory.replenishment_set", {
            "variant_id": variant_id, "reorder_point": reorder_point, "reorder_quantity": reorder_quantity,
            "threshold": level.low_stock_threshold, "supplier": supplier, "actor": actor}))
        self.watch.set_rule(level, reorder_quantity, supplier)
        return level

    def receive_purchase_order(self, order_id: str) -> PurchaseOrder:
        """Its units join stock on hand, once: receiving it again changes nothing; a cancelled one is a Conflict."""
        order = self.watch.purchase_order(order_id)
        if self.watch.ensure_open(order, "received"):
            self.level(order.variant_id)  # checked before anything changes
            self.watch.close(order, "received")
            self.adjust(order.variant_id, order.quantity, "purchase order received", "purchase_order", "received",
                        order.id)
        return order

    def cancel_purchase_order(self, order_id: str) -> PurchaseOrder:
        """Close an open order without stock; cancelling again changes nothing; a received one is a Conflict."""
        order = self.watch.purchase_order(order_id)
        if self.watch.ensure_open(order, "cancelled"):
            self.watch.close(order, "cancelled")
        return order

    # -- reservations --------------------------------------------------------------------------------
    def reserve(self, reservation_id: str, lines: dict[str, int], now: float, ttl_seconds: float,
                commit: bool = False) -> Reservation:
        """Hold every line or none, until `now + ttl_seconds`. With `commit`, the lines are sold at once: the
        reservation is born committed (what a checkout whose payment is already authorized asks for), so no
        stock is ever held for it. Idempotent by reservation id while the reservation is live."""
        existing = self.reservations.get(reservation_id)
        if existing is not None:
            if existing.status in ("held", "committed"):
                return existing
            raise Conflict("reservation_finished", "This reservation was already released or expired",
                           {"reservation_id": reservation_id, "status": existing.status})
        # one pass checks every line (this runs once per reservation of a flash sale); nothing changes until
        # every line is known to be valid and in stock
        held: list[tuple[StockLevel, int, int]] = []  # (level, quantity, available before)
        short = []
        invalid = not lines
        for variant_id, quantity in lines.items():
            level = self.levels.get(variant_id)
            available = level.on_hand - level.reserved - level.committed if level else 0
            if quantity <= 0:
                invalid = True
            elif available < quantity or level is None:
                short.append({"variant_id": variant_id, "requested": quantity, "available": max(available, 0)})
            else:
                held.append((level, quantity, available))
        if invalid:
            raise Invalid("invalid_quantity", "Every reserved quantity must be positive")
        if short:
            raise Conflict("out_of_stock", "Not enough stock for some items", {"items": short})
        for level, quantity, _ in held:
            if commit:
                level.committed += quantity
            else:
                level.reserved += quantity
            self.dirty_levels.add(level.variant_id)
        reservation = Reservation(reservation_id, dict(lines), now + ttl_seconds, "committed" if commit else "held",
                                  now)
        self._save(reservation)
        if commit:
            self.events.append(("inventory.committed", {"reservation_id": reservation_id,
                                                        "lines": reservation.lines}))
        else:
            self.events.append(("inventory.reserved", {"reservation_id": reservation_id, "lines": reservation.lines,
                                                       "expires_at": reservation.expires_at}))
        change = "sold" if commit else "reserved"
        for level, quantity, _ in held:
            self.watch.changed(level, change, quantity, reservation_id, "checkout")
        return reservation

    def commit(self, reservation_id: str, now: float) -> Reservation:
        """A paid reservation becomes committed stock awaiting shipment. Idempotent."""
        reservation = self._reservation(reservation_id)
        if reservation.status == "committed" or reservation.status == "shipped":
            return reservation
        if reservation.status != "held":
            raise Conflict("reservation_expired", "The reservation was released before it could be committed",
                           {"reservation_id": reservation_id, "status": reservation.status})
        for variant_id, quantity in reservation.lines.items():
            level = self.levels[variant_id]
            level.reserved -= quantity
            level.committed += quantity
            self._touch(variant_id)
            self.watch.changed(level, "sold", quantity, reservation_id, "checkout")
        reservation.status = "committed"
        reservation.updated_at = now
        self._save(reservation)
        self.events.append(("inventory.committed", {"reservation_id": reservation_id, "lines": reservation.lines}))
        return reservation

    def release(self, reservation_id: str, now: float, expired: bool = False) -> Reservation | None:
        """Give back what a reservation holds, whether held or committed (an order cancelled before shipping).
        Idempotent; releasing an unknown reservation is a no-op (a compensation may run before the reserve did)."""
        reservation = self.reservations.get(reservation_id)
        if reservation is not None and reservation.status == "shipped":
            raise Conflict("already_shipped", "Shipped stock cannot be released")
        if reservation is None or reservation.status in FINISHED:
            return reservation
        if any((reservation.shipped or {}).values()):
            raise Conflict("already_shipped", "Part of this reservation has shipped: settle the rest instead")
        field_name = "reserved" if reservation.status == "held" else "committed"
        units = reservation.outstanding() if reservation.status == "committed" else reservation.lines
        for variant_id, quantity in units.items():
            level = self.levels[variant_id]
            setattr(level, field_name, getattr(level, field_name) - quantity)
            self._touch(variant_id)
            self.watch.changed(level, "expired" if expired else "released", quantity, reservation_id, "system")
        reservation.status = "expired" if expired else "released"
        reservation.updated_at = now
        self._save(reservation)
        self.events.append((f"inventory.{reservation.status}", {"reservation_id": reservation_id,
                                                                "lines": reservation.lines}))
        return reservation

    def ship(self, reservation_id: str, now: float) -> Reservation:
        """Committed stock leaves the warehouse: on_hand and committed both drop. Idempotent."""
        reservation = self._reservation(reservation_id)
        if reservation.status == "shipped":
            return reservation
        if reservation.status != "committed":
            raise Conflict("not_committed", "Only committed stock can ship", {"status": reservation.status})
        for variant_id, quantity in reservation.outstanding().items():
            level = self.levels[variant_id]
            level.committed -= quantity
            level.on_hand -= quantity
            self._touch(variant_id)
            self.watch.changed(level, "shipped", quantity, reservation_id, "system")
        reservation.status = "shipped"
        reservation.updated_at = now
        self._save(reservation)
        self.events.append(("inventory.shipped", {"reservation_id": reservation_id, "lines": reservation.lines}))
        return reservation

    def expire(self, now: float) -> list[str]:
        """Release every held reservation whose TTL has passed (soonest first); the shard runs this on its own
        timer. Costs what is due, not what is held: a flash sale holds many reservations at once."""
        due: dict[str, None] = {}
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, reservation_id = heapq.heappop(self._expiries)
            reservation = self.reservations.get(reservation_id)
            if reservation is not None and reservation.status == "held" and reservation.expires_at == expires_at:
                due[reservation_id] = None
        for reservation_id in due:
            self.release(reservation_id, now, expired=True)
        return list(due)

    def next_expiry(self) -> float | None:
        """When the soonest held reservation expires (None: nothing is held)."""
        expiries = self._expiries
        while expiries:  # drop entries of reservations no longer held (committed, released, forgotten)
            expires_at, reservation_id = expiries[0]
            reservation = self.reservations.get(reservation_id)
            if reservation is not None and reservation.status == "held" and reservation.expires_at == expires_at:
                return expires_at
            heapq.heappop(expiries)
        return None

    def forget_finished(self, older_than: float) -> list[str]:
        """Drop finished reservations kept for idempotent retries once they are old enough."""
        old: dict[str, None] = {}
        while self._finished and self._finished[0][0] < older_than:
            updated_at, reservation_id = heapq.heappop(self._finished)
            reservation = self.reservations.get(reservation_id)
            if reservation is not None and reservation.status in FINISHED and reservation.updated_at == updated_at:
                old[reservation_id] = None
        for reservation_id in old:
            del self.reservations[reservation_id]
        return list(old)

    def oldest_finished(self) -> float | None:
        """When the oldest finished reservation still kept finished (None: none is kept)."""
        finished = self._finished
        while finished:
            updated_at, reservation_id = finished[0]
            reservation = self.reservations.get(reservation_id)
            if reservation is not None and reservation.status in FINISHED and reservation.updated_at == updated_at:
                return updated_at
            heapq.heappop(finished)
        return None

    # -- checks ----------------------------------------------------------------------------------------
    def violations(self) -> list[str]:
        """Every broken invariant, described; empty when the ledger is sound."""
        problems = []
        held: Counter[str] = Counter()
        committed: Counter[str] = Counter()
        for r in self.reservations.values():
            if r.status == "held":
                held.update(r.lines)
            elif r.status == "committed":
                committed.update(r.outstanding())
        for v, level in self.levels.items():
            if min(level.on_hand, level.reserved, level.committed, level.available) < 0:
                problems.append(f"{v}: negative stock {level.view()}")
            if level.reserved != held[v]:
                problems.append(f"{v}: reserved {level.reserved} but live reservations hold {held[v]}")
            if level.committed != committed[v]:
                problems.append(f"{v}: committed {level.committed} but committed reservations hold {committed[v]}")
        return problems + self.watch.violations()

    # -- internals -------------------------------------------------------------------------------------
    def _reservation(self, reservation_id: str) -> Reservation:
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            raise NotFound("reservation_not_found", "No such reservation", {"reservation_id": reservation_id})
        return reservation

    def _save(self, reservation: Reservation) -> None:
        self.reservations[reservation.id] = reservation
        self.dirty_reservations.add(reservation.id)
        if reservation.status == "held":
            heapq.heappush(self._expiries, (reservation.expires_at, reservation.id))
        elif reservation.status in FINISHED:
            heapq.heappush(self._finished, (reservation.updated_at, reservation.id))

    def _touch(self, variant_id: str) -> None:
        self.dirty_levels.add(variant_id)
