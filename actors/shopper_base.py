"""What every part of the shopper shard shares (actors/shoppers.py): its state, loading on first use, how carts and
orders are persisted, order ids and numbers, and the calls to the inventory shards."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from actors import keys
from actors.coalesce import Coalescer
from actors.fraud_model import FraudModelWatch
from actors.payments import SandboxGateway
from actors.routing import Router, local_id
from actors.shard import ShardActor
from actors.store import Changes, dumps
from config import Settings
from domain.carts import Cart
from domain.checkout import Saga
from domain.errors import DomainError, NotFound
from domain.fraud import FraudRules
from domain.inventory import Reservation
from domain.orders import Order
from domain.pricing import PricingRules
from domain.serial import decode

if TYPE_CHECKING:
    from actors.checkout import Attempt

ORDER_NUMBER_START = 100000
ORDER_NUMBER_BLOCK = 100  # order numbers a shard takes from the shared sequence at a time (gaps after a restart)

Sell = tuple[str, dict[str, int]]


class ShopperBase(ShardActor):
    kind = "shoppers"

    def __init__(self, settings: Settings, shard: int) -> None:
        self.router = Router(settings)
        self.carts: dict[str, Cart] = {}
        self.orders: dict[str, Order] = {}
        self.sagas: dict[str, Saga] = {}
        self._gateway: SandboxGateway | None = None
        self._sellers: dict[int, Coalescer[Sell, Reservation]] = {}
        self._numbers: list[int] = []  # the rest of this shard's block of order numbers, next last
        self._busy: dict[str, asyncio.Future[None]] = {}  # order id -> the change in progress on it
        self._attempts: dict[str, Attempt] = {}  # user id -> the checkout running for that shopper
        self.pricing = PricingRules.from_settings(settings)
        self.fraud = FraudRules.from_settings(settings)
        self.fraud_model = FraudModelWatch(settings.lake_dir, settings.fraud_model_check_seconds)
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        """Unfinished sagas now (recovery needs them); carts and orders on first use. After a failed write, the
        carts and orders in memory are read again *in place*: a command queued meanwhile holds the same object,
        so it works on what Redis has, never on a copy that still carries the failed batch's changes."""
        self.sagas = {sid: decode(raw, Saga) for sid, raw in client.hscan_iter(keys.sagas(self.shard), count=1000)}
        if self.carts:
            ids = list(self.carts)
            for user_id, raw in zip(ids, client.hmget(keys.carts(self.shard), ids), strict=True):
                vars(self.carts[user_id]).update(vars(Cart.from_dict(json.loads(raw)) if raw else Cart(user_id)))
        if self.orders:
            ids = list(self.orders)
            for order_id, raw in zip(ids, client.mget([keys.order(i) for i in ids]), strict=True):
                if raw is None:  # written by the failed batch only: forget it
                    del self.orders[order_id]
                else:
                    vars(self.orders[order_id]).update(vars(Order.from_dict(json.loads(raw))))

    @property
    def redis(self) -> aioredis.Redis:
        """For the read model (actors/reads.py): committed state, read from Redis."""
        return self.store.redis

    @property
    def gateway(self) -> SandboxGateway:
        if self._gateway is None:
            self._gateway = SandboxGateway(self.store.redis, self.settings)
        return self._gateway

    # -- loading on first use ---------------------------------------------------------------------------------
    async def _cart(self, user_id: str) -> Cart:
        await self.fresh()
        cart = self.carts.get(user_id)
        if cart is None:
            raw = await self.store.redis.hget(keys.carts(self.shard), user_id)  # type: ignore[misc]
            cart = self.carts.setdefault(user_id, Cart.from_dict(json.loads(raw)) if raw else Cart(user_id))
        return cart

    async def _order(self, order_id: str) -> Order | None:
        await self.fresh()
        order = self.orders.get(order_id)
        if order is None:
            raw = await self.store.redis.get(keys.order(order_id))
            if raw is not None:
                order = self.orders.setdefault(order_id, Order.from_dict(json.loads(raw)))
        return order

    async def _owned(self, order_id: str, user_id: str | None) -> Order:
        """The order, if `user_id` (None for an admin) may see it; another user's order is simply not found."""
        order = await self._order(order_id)
        if order is None or (user_id is not None and order.user_id != user_id):
            raise NotFound("order_not_found", "No such order", {"order_id": order_id})
        return order

    # -- persistence -------------------------------------------------------------------------------------------
    def _save_cart(self, cart: Cart, changes: Changes, event: str, **data: Any) -> Cart:
        changes.hset(keys.carts(self.shard), cart.user_id, dumps(cart.to_dict()))
        changes.emit(event, user_id=cart.user_id, **data)
        return cart

    def _save_order(self, order: Order, changes: Changes, event: str, **data: Any) -> dict[str, Any]:
        self.orders[order.id] = order
        stored = order.to_dict()
        changes.set(keys.order(order.id), dumps(stored))
        if order.status != "pending" and order.history and order.history[0]["status"] == "pending":
            changes.zrem(keys.HELD_ORDERS, order.id)  # reviewed: confirmed or cancelled
        self._emit_order(changes, order, event, **data)
        return Order.public(stored)

    @staticmethod
    def _emit_order(changes: Changes, order: Order, event: str, **data: Any) -> None:
        """An order event: every one carries the order's id, its shopper, its status and payment status."""
        changes.emit(event, order_id=order.id, user_id=order.user_id, status=order.status,
                     payment_status=order.payment_status, **data)

    async def fraud_model_version(self) -> str | None:
        """The fraud model version this shard scores with (None: the rules alone)."""
        return self.fraud_model.version

    # -- ids -----------------------------------------------------------------------------------------------------
    def _new_order_id(self) -> str:
        return local_id(self.settings, self.kind, self.shard, "ord")

    async def _order_number(self) -> str:
        """A human order number, unique across shards: blocks of the shared sequence, one round trip per block."""
        if not self._numbers:
            end = int(await self.store.redis.incrby(keys.ORDER_NUMBER_SEQ, ORDER_NUMBER_BLOCK))
            if not self._numbers:  # another checkout may have refilled it while we waited
                self._numbers = list(range(end, end - ORDER_NUMBER_BLOCK, -1))
        return f"BZ-{ORDER_NUMBER_START + self._numbers.pop()}"

    # -- the inventory shards -----------------------------------------------------------------------------------
    def _seller(self, shard: int) -> Coalescer[Sell, Reservation]:
        """Sales bound for one inventory shard from all of this shard's checkouts travel together."""
        coalescer = self._sellers.get(shard)
        if coalescer is None:
            direct = self.router.direct("inventory", shard)
            coalescer = Coalescer(lambda items: direct.call("reserve_many", items, None, True))
            self._sellers[shard] = coalescer
        return coalescer

    async def _release(self, reservations: list[dict[str, Any]]) -> None:
        """Give back every reservation listed ({"id", "variant_ids"}), one call per inventory shard; refusals
        are raised (a shipped reservation cannot be released)."""
        by_shard: dict[int, list[str]] = {}
        for reservation in reservations:
            by_shard.setdefault(self.router.shard("inventory", reservation["variant_ids"][0]), []).append(
                reservation["id"])
        replies = await asyncio.gather(*(self.router.direct("inventory", shard).call("release_many", ids)
                                         for shard, ids in by_shard.items()))
        for result in (r for reply in replies for r in reply):
            if isinstance(result, DomainError):
                raise result

    # -- one change at a time per order ---------------------------------------------------------------------------
    @asynccontextmanager
    async def _one_at_a_time(self, order_id: str) -> AsyncIterator[None]:
        """Changes to one order that call other actors first (release, void, ship) run one after another; the
        entry is removed when its change ends, so nothing grows with the number of orders."""
        while (running := self._busy.get(order_id)) is not None:
            await asyncio.shield(running)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._busy[order_id] = done
        try:
            yield
        finally:
            del self._busy[order_id]
            done.set_result(None)
