"""Shopping sessions in bulk: arrays of (shopper, day) become the events each session journals, in numpy.

A session starts at a time of day (fraudsters favour the night), maybe searches (a query from the shopper's
tastes: a favourite brand or category; a few queries find nothing), views products the world picks for the
shopper, adds some to the cart (likelier inside the price band), and may check out the cart as one order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulation.arrow_columns import DAY_MS, TypeBatch, order_items, ulids
from simulation.order_signals import Signals
from simulation.world import World

EVENTS, ANALYTICS = "bz:events", "bz:analytics"
VIEWS_MEAN = 3.0  # beyond the first view
SEARCH_SHARE, ZERO_RESULT_SHARE = 0.6, 0.05
RECOMMENDED_SHARE = 0.15  # of views that came from a recommendation
ADD_SHARE = 0.3  # of views (times the shopper's buy weight) added to the cart
CHECKOUT_SHARE, FRAUD_CHECKOUT_SHARE = 0.55, 0.95
CANCEL_SHARE, RETURN_SHARE, CHARGEBACK_SHARE = 0.05, 0.04, 0.9
FRIENDLY_FRAUD_SHARE = 0.003  # of honest shipped orders: charged back all the same (the shopper disputes it)
MINUTE = 60_000


@dataclass(frozen=True)
class Catalog:
    """The world's products flattened for `take`: ids, queries, and variants (product i's are offsets[i]:[i+1])."""

    product_ids: pa.Array
    queries: pa.Array  # per product: its brand, then its category's words, as a shopper would type
    offsets: np.ndarray
    variant_ids: pa.Array
    prices: np.ndarray
    unusual: np.ndarray  # per shopper: buys unusual amounts (once its orders are fraud)

    @classmethod
    def of(cls, world: World) -> Catalog:
        variants = [variant for product in world.products for variant in product.variants]
        counts = [len(product.variants) for product in world.products]
        return cls(pa.array([product.id for product in world.products]),
                   pa.array([f"{product.brand} {product.name}".lower() for product in world.products]),
                   np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                   pa.array([variant.id for variant in variants]),
                   np.asarray([variant.price for variant in variants], dtype=np.int64),
                   np.asarray([shopper.fraud == "unusual_amount" for shopper in world.shoppers]))


def sessions_events(world: World, catalog: Catalog, signals: Signals, user_ids: pa.Array, shopper: np.ndarray,
                    day: np.ndarray, start_ms: int, days: int,
                    rng: np.random.Generator) -> tuple[list[TypeBatch], list[str]]:
    """The events of these sessions, and the ids of the fraudulent orders placed in them."""
    n = len(shopper)
    fraud = day >= signals.fraud_from[shopper]
    begin = signals.session_start(shopper, day, fraud, start_ms, rng)
    batches = []

    # views: the first view of a session that searched came from the search
    views = 1 + rng.poisson(VIEWS_MEAN, n)
    session_of_view = np.repeat(np.arange(n), views)
    first_view = np.concatenate([[0], np.cumsum(views)[:-1]])
    position = np.arange(len(session_of_view)) - first_view[session_of_view]
    viewer = shopper[session_of_view]
    product = world.pick_products(viewer, rng)
    view_ms = begin[session_of_view] + MINUTE * (1 + position * 2)
    searched = rng.random(n) < SEARCH_SHARE
    source = np.where(rng.random(len(product)) < RECOMMENDED_SHARE, 1, 2)
    source[first_view[searched]] = 0
    users = user_ids.take(pa.array(viewer))
    batches.append(TypeBatch("product.viewed", ANALYTICS, view_ms, {
        "product_id": catalog.product_ids.take(pa.array(product)), "user_id": users,
        "source": pa.array(np.array(["search", "recommendation", "browse"])[source])}))

    # searches: for what the first view shows (the shopper's taste), a few for nothing the shop sells
    first_product = product[first_view[searched]]
    zero = rng.random(len(first_product)) < ZERO_RESULT_SHARE
    queries = catalog.queries.take(pa.array(first_product))
    queries = pc.if_else(pa.array(zero), pa.scalar("qzx unobtainium"), queries)
    total = np.where(zero, 0, rng.integers(1, 400, len(first_product)))
    batches.append(TypeBatch("search.performed", ANALYTICS, begin[searched], {
        "query": queries, "filters": "{}", "sort": "relevance", "page": 1, "page_size": 20, "total": total,
        "took_ms": np.round(rng.gamma(2.0, 4.0, len(total)), 2), "zero_result": zero}))

    # cart: views added, more often inside the price band; a fraudster's unusual amounts
    added = rng.random(len(product)) < ADD_SHARE * world.buy_weight(viewer, product)
    add_session, add_product = session_of_view[added], product[added]
    variant = catalog.offsets[add_product] + (rng.random(len(add_product)) * (
        catalog.offsets[add_product + 1] - catalog.offsets[add_product])).astype(np.int64)
    quantity = np.where(catalog.unusual[shopper[add_session]] & fraud[add_session], rng.integers(3, 9, len(variant)),
                        1 + (rng.random(len(variant)) < 0.15))
    add_ms = view_ms[added] + 20_000
    variant_ids = catalog.variant_ids.take(pa.array(variant))
    batches.append(TypeBatch("cart.item_added", EVENTS, add_ms, {
        "user_id": user_ids.take(pa.array(shopper[add_session])), "product_id": catalog.product_ids.take(
            pa.array(add_product)), "variant_id": variant_ids, "quantity": quantity}))

    # checkout: a session with a cart may become one order of all its lines (a variant added twice is one line)
    buys = np.zeros(n, dtype=bool)
    has_cart = np.unique(add_session)
    buys[has_cart] = rng.random(len(has_cart)) < np.where(fraud[has_cart], FRAUD_CHECKOUT_SHARE, CHECKOUT_SHARE)
    line = buys[add_session]
    kinds = len(catalog.prices)
    keys, merged = np.unique(add_session[line] * kinds + variant[line], return_inverse=True)
    line_session, line_variant = keys // kinds, keys % kinds
    line_quantity = np.bincount(merged, weights=quantity[line], minlength=len(keys)).astype(np.int64)
    buyers = np.flatnonzero(buys)
    counts = np.bincount(line_session, minlength=n)[buyers]
    line_offsets = np.concatenate([[0], np.cumsum(counts)])
    prices = catalog.prices[line_variant]
    totals = np.add.reduceat(prices * line_quantity, line_offsets[:-1]) if len(buyers) else np.zeros(0, np.int64)
    placed, fraud_ids = orders(signals, user_ids.take(pa.array(shopper[buyers])), shopper[buyers], fraud[buyers],
                               add_ms[np.searchsorted(add_session, buyers, side="right") - 1] + 5 * MINUTE, totals,
                               order_items(line_offsets, catalog.variant_ids.take(pa.array(line_variant)),
                                           line_quantity, prices), start_ms, days, rng)
    return batches + placed, fraud_ids


def orders(signals: Signals, users: pa.Array, buyer: np.ndarray, fraud: np.ndarray, at: np.ndarray,
           totals: np.ndarray, items: pa.Array, start_ms: int, days: int,
           rng: np.random.Generator) -> tuple[list[TypeBatch], list[str]]:
    """A checkout per buyer: started, authorized, created (with the fraud signals); then shipped (captured) or
    cancelled (voided); some returned (refunded), and most shipped fraud (`fraud`, per order) charged back: labels
    as noisy as a shop's (some fraud is never disputed, a few honest orders are)."""
    n = len(buyer)
    order_ids, saga_ids, payment_ids = ulids("ord", at, rng), ulids("chk", at, rng), ulids("pay", at, rng)
    number = pc.cast(pa.array(rng.integers(10_000_000, 99_999_999, n)), pa.string())
    payment = {"payment_id": payment_ids, "reference": order_ids, "amount": totals, "currency": "USD",
               "refunded": 0}
    batches = [
        TypeBatch("checkout.started", EVENTS, at, {"saga_id": saga_ids, "user_id": users, "order_id": order_ids,
                                                   "total": totals, "held_for_review": False}),
        TypeBatch("payment.authorized", EVENTS, at + 300, {**payment, "status": "authorized", "captured": 0,
                                                           "brand": "visa", "last4": "4242"}),
        TypeBatch("order.created", EVENTS, at + 600, {
            "order_id": order_ids, "user_id": users, "status": "confirmed", "payment_status": "authorized",
            "order_number": number, "total": totals, "currency": "USD", "items": items,
            **signals.order_columns(buyer, fraud, rng)})]
    end = start_ms + days * DAY_MS - 1
    cancelled = rng.random(n) < CANCEL_SHARE
    cancel_ms = at + rng.integers(10 * MINUTE, DAY_MS, n)
    keep = pa.array(cancelled)
    batches += [
        TypeBatch("order.cancelled", EVENTS, cancel_ms[cancelled], {
            "order_id": order_ids.filter(keep), "user_id": users.filter(keep), "status": "cancelled",
            "payment_status": "voided", "reason": "changed_mind"}),
        TypeBatch("payment.voided", EVENTS, cancel_ms[cancelled] - 100, _filtered(
            {**payment, "status": "voided", "captured": 0}, keep))]
    ship_ms = at + rng.integers(DAY_MS, 3 * DAY_MS, n)
    shipped = ~cancelled & (ship_ms <= end)
    keep = pa.array(shipped)
    batches.append(TypeBatch("payment.captured", EVENTS, ship_ms[shipped], _filtered(
        {**payment, "status": "captured", "captured": totals}, keep)))
    batches.append(TypeBatch("order.shipped", EVENTS, ship_ms[shipped] + 100, {
        "order_id": order_ids.filter(keep), "user_id": users.filter(keep), "status": "shipped",
        "payment_status": "paid", "tracking_number": pc.binary_join_element_wise(
            "SYN", pc.utf8_slice_codeunits(order_ids.filter(keep), -8), "")}))
    lines = pa.MapArray.from_arrays(items.offsets, items.values.field("variant_id"), items.values.field("quantity"))
    batches.append(TypeBatch("inventory.shipped", EVENTS, ship_ms[shipped] + 200, {
        "shard": 0, "reservation_id": ulids("res", ship_ms[shipped], rng), "lines": lines.filter(keep)}))
    later = ship_ms + rng.integers(2 * DAY_MS, 20 * DAY_MS, n)
    returned = shipped & ~fraud & (rng.random(n) < RETURN_SHARE) & (later <= end)
    keep = pa.array(returned)
    refund = {**payment, "status": "refunded", "captured": totals, "refunded": totals,
              "refund_id": ulids("ref", later, rng), "refund_amount": totals}
    batches.append(TypeBatch("payment.refunded", EVENTS, later[returned], _filtered(refund, keep)))
    disputed = rng.random(n) < np.where(fraud, CHARGEBACK_SHARE, FRIENDLY_FRAUD_SHARE)
    charged = shipped & ~returned & disputed & (later <= end)
    keep = pa.array(charged)
    batches.append(TypeBatch("payment.chargeback", EVENTS, later[charged], _filtered(
        {**payment, "status": "charged_back", "captured": totals, "order_id": order_ids,
         "reason": "fraudulent"}, keep)))
    return batches, order_ids.filter(pa.array(fraud)).to_pylist()


def _filtered(columns: dict[str, object], keep: pa.Array) -> dict[str, object]:
    """The columns' rows where `keep` is true (a single value stays as it is)."""
    mask = np.asarray(keep)
    return {name: value.filter(keep) if isinstance(value, pa.Array) else value[mask]
            if isinstance(value, np.ndarray) else value for name, value in columns.items()}
