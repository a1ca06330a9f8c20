"""The shopper shard: single writer of everything keyed by the shoppers that hash to it (by user id).

A shopper's cart, checkout sagas, orders, Idempotency-Key records and order velocity all live on one shard, so a
checkout is one call into it, one coalesced call per inventory shard, the payment gateway's call, and one
finishing transaction (DESIGN: keys that change together live in one shard). Order ids are minted to hash to
their shopper's shard, so an order is found by its id alone.

Its commands live in one module per domain, each a part of this class:
    actors/carts.py        add, change and remove cart lines
    actors/checkout.py     the checkout saga and its recovery timer
    actors/orders.py       cancelling, and the admin's fulfilment steps
    actors/shopper_privacy.py  an erased shopper's orders pseudonymised, the cart dropped
    actors/fulfilment.py   one seller's fulfilment shipped or delivered, lines cancelled
    actors/returns.py      returns requested, decided, received and refunded
    actors/shopper_base.py the state they share, persistence, ids, and the calls to the inventory shards
State loads lazily (carts and orders on first use); unfinished sagas load at start so recovery sees them.
"""

from __future__ import annotations

from actors.carts import CartCommands
from actors.checkout import CheckoutSaga
from actors.orders import OrderCommands
from actors.returns import ReturnCommands
from actors.shopper_privacy import ShopperPrivacy


class ShopperShard(CartCommands, CheckoutSaga, OrderCommands, ReturnCommands, ShopperPrivacy):
    tick_seconds = 1.0  # the checkout recovery timer
    channel_methods = frozenset({"add_item", "set_quantity", "remove_item", "checkout"})
