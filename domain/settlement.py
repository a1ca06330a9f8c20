"""Settling a committed reservation part by part, and taking returned units back: the stock ledger's rules for
orders across sellers (a mixin of `domain.inventory.StockLedger`, which holds the state and the invariants).

One seller's fulfilment ships only its lines of a reservation that may hold other sellers' lines too, and a shopper
may cancel a few units of a line: `settle` takes the *totals* shipped and released so far per variant, so a retry
is a no-op and the totals only grow. `restock` puts returned units on hand (resellable) or into the damaged bin,
once per receipt id. Like every ledger operation, each checks everything before it changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from domain.errors import Conflict, Invalid

if TYPE_CHECKING:
    from domain.inventory import Reservation, StockLevel
    from domain.stock_watch import StockWatch

Condition = Literal["resellable", "damaged"]


class Settlement:
    levels: dict[str, StockLevel]
    reservations: dict[str, Reservation]
    events: list[tuple[str, dict[str, Any]]]
    watch: StockWatch  # every change of a level goes through it: history, alerts, purchase orders

    if TYPE_CHECKING:
        def level(self, variant_id: str) -> StockLevel: ...

        def _reservation(self, reservation_id: str) -> Reservation: ...

        def _save(self, reservation: Reservation) -> None: ...

        def _touch(self, variant_id: str) -> None: ...

    def settle(self, reservation_id: str, shipped: dict[str, int], released: dict[str, int],
               now: float) -> Reservation:
        """Settle a committed reservation part by part: `shipped` and `released` are the *totals* per variant that
        have left the warehouse and gone back on sale (not increments), so a retry of the same settlement changes
        nothing. Totals only grow and never pass a line's quantity. Once nothing is left committed the reservation
        is finished: shipped when any unit shipped, else released."""
        reservation = self._reservation(reservation_id)
        before_shipped, before_released = dict(reservation.shipped or {}), dict(reservation.released or {})
        if reservation.status == "shipped" and not any(before_shipped.values()):  # shipped whole
            before_shipped = {v: q - before_released.get(v, 0) for v, q in reservation.lines.items()}
        wanted_shipped = {**before_shipped, **shipped}
        wanted_released = {**before_released, **released}
        for variant_id in {*shipped, *released}:
            quantity = reservation.lines.get(variant_id)
            if quantity is None:
                raise Invalid("not_in_reservation", "The reservation has no such line", {"variant_id": variant_id})
            s, r = wanted_shipped.get(variant_id, 0), wanted_released.get(variant_id, 0)
            if s < before_shipped.get(variant_id, 0) or r < before_released.get(variant_id, 0) or s + r > quantity:
                raise Conflict("invalid_settlement", "Settled units only grow, up to the line's quantity",
                               {"variant_id": variant_id, "quantity": quantity, "shipped": s, "released": r})
        if wanted_shipped == before_shipped and wanted_released == before_released:
            return reservation
        if reservation.status != "committed":
            raise Conflict("not_committed", "Only committed stock can be settled", {"status": reservation.status})
        for variant_id in reservation.lines:
            ship = wanted_shipped.get(variant_id, 0) - before_shipped.get(variant_id, 0)
            back = wanted_released.get(variant_id, 0) - before_released.get(variant_id, 0)
            if ship or back:
                level = self.levels[variant_id]
                level.committed -= ship + back
                level.on_hand -= ship
                self._touch(variant_id)
                if ship:
                    self.watch.changed(level, "shipped", ship, reservation_id, "system")
                if back:
                    self.watch.changed(level, "released", back, reservation_id, "system")
        reservation.shipped, reservation.released = wanted_shipped, wanted_released
        reservation.updated_at = now
        if not any(reservation.outstanding().values()):
            reservation.status = "shipped" if any(wanted_shipped.values()) else "released"
        self._save(reservation)
        self.events.append(("inventory.settled", {"reservation_id": reservation_id, "shipped": wanted_shipped,
                                                  "released": wanted_released, "status": reservation.status}))
        return reservation

    def restock(self, receipt_id: str, lines: dict[str, int], condition: Condition, now: float) -> Reservation:
        """Returned units come back: on hand (for sale again) when resellable, else into the damaged bin.
        Idempotent by receipt id (a return's id) while the receipt is kept."""
        existing = self.reservations.get(receipt_id)
        if existing is not None:
            return existing
        if not lines or any(q <= 0 for q in lines.values()):
            raise Invalid("invalid_quantity", "Every returned quantity must be positive")
        for variant_id in lines:
            self.level(variant_id)  # raises for an unknown variant before anything changes
        for variant_id, quantity in lines.items():
            level = self.levels[variant_id]
            if condition == "resellable":
                level.on_hand += quantity
            else:
                level.damaged += quantity
            self._touch(variant_id)
            self.watch.changed(level, "returned" if condition == "resellable" else "returned_damaged", quantity,
                               receipt_id, "return")
        from domain.inventory import Reservation

        receipt = Reservation(receipt_id, dict(lines), now, "restocked", now)
        self._save(receipt)
        self.events.append(("inventory.restocked", {"receipt_id": receipt_id, "lines": dict(lines),
                                                    "condition": condition}))
        return receipt
