"""One Parquet schema per event type, from the contract in docs/events.md.

Every file has the common columns (`COMMON`), then one typed column per `data` field the contract lists for its
type, then `extra`: a JSON object of whatever `data` held beyond those fields (fields added since, or a value
whose type did not fit its column), null when there was nothing more. So nothing an event carried is lost, and a
new field is queryable from `extra` until it earns a column here. A type the contract does not list gets the
common columns and its whole `data` in `extra`.

A field name has one column type in every event type that carries it (`FIELD_TYPES`), so a schema is a list of
names.
`tests/unit/test_lake_schemas.py` checks these lists against the tables of docs/events.md.
"""

from __future__ import annotations

import pyarrow as pa

STRING, INT, FLOAT, BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
NAMES = pa.list_(pa.string())
LINES = pa.map_(pa.string(), pa.int64())  # {variant_id: quantity}
ORDER_ITEM = pa.struct([("variant_id", STRING), ("quantity", INT), ("price", INT), ("seller_id", STRING)])
ITEMS = pa.list_(ORDER_ITEM)
JSON = pa.string()  # an object whose keys vary (search filters): kept as compact JSON text

COMMON = pa.schema([
    ("event_id", STRING),  # the event's `id` (evt_...)
    ("type", STRING),
    ("event_at", pa.timestamp("ms", tz="UTC")),  # the event's `at` (`at` is a keyword in DuckDB)
    ("stream", STRING),  # the Redis stream it was read from
    ("stream_id", STRING),  # its entry id there (ms-seq): the lake's offset
])
EXTRA = pa.field("extra", JSON)

FIELD_TYPES: dict[str, pa.DataType] = {
    # ids
    "variant_id": STRING, "product_id": STRING, "category_id": STRING, "parent_id": STRING, "seller_id": STRING,
    "user_id": STRING, "order_id": STRING, "saga_id": STRING, "reservation_id": STRING, "payment_id": STRING,
    "refund_id": STRING, "address_id": STRING, "reference": STRING, "coupon_code": STRING,
    "order_number": STRING, "tracking_number": STRING, "purchase_order_id": STRING, "actor": STRING,
    # inventory
    "shard": INT, "on_hand": INT, "available": INT, "delta": INT, "threshold": INT, "reorder_point": INT,
    "quantity": INT, "lines": LINES, "expires_at": FLOAT, "reorder_quantity": INT, "supplier": STRING,
    # catalog
    "name": STRING, "slug": STRING, "brand": STRING, "status": STRING, "variant_ids": NAMES, "fields": NAMES,
    "added_variant_ids": NAMES, "from": STRING, "to": STRING, "products": INT,
    # money
    "currency": STRING, "price": INT, "sale_price": INT, "old_price": INT, "old_sale_price": INT, "total": INT,
    "amount": INT, "captured": INT, "refunded": INT, "refund_amount": INT,
    # search
    "query": STRING, "filters": JSON, "sort": STRING, "page": INT, "page_size": INT, "took_ms": FLOAT,
    "zero_result": BOOL, "source": STRING,
    # people, checkout, orders, payments
    "email": STRING, "role": STRING, "reason": STRING, "fraud_reasons": NAMES, "held_for_review": BOOL,
    "uses": INT, "payment_status": STRING, "items": ITEMS, "last4": STRING,
    "decline_code": STRING,
    # fraud signals of an order (the card's fingerprint and issuing country, never its number)
    "client_ip": STRING, "card_fingerprint": STRING, "card_country": STRING, "ship_country": STRING,
    "account_created_at": STRING, "fraud_score": FLOAT,
    # reviews, ratings, the audit log
    "review_id": STRING, "rating": FLOAT, "review_count": INT, "reasons": NAMES, "report_count": INT,
    "helpful_count": INT, "audit_id": STRING, "admin_id": STRING, "action": STRING, "target_type": STRING,
    "target_id": STRING,
    # orders across sellers: fulfilments, cancelled lines, returns, payouts
    "fulfilment_id": STRING, "return_id": STRING, "payout_id": STRING, "receipt_id": STRING, "carrier": STRING,
    "estimated_delivery": STRING, "by": STRING, "condition": STRING, "shipped": LINES, "released": LINES,
    # webhooks
    "webhook_id": STRING, "url": STRING, "event_types": NAMES,
}

_INVENTORY = ("shard",)
_RESERVATION = (*_INVENTORY, "reservation_id", "lines")
_CART = ("user_id",)
_ORDER = ("order_id", "user_id", "status", "payment_status")
_PAYMENT = ("payment_id", "reference", "status", "amount", "currency", "captured", "refunded")
_MOVED_ON = (*_ORDER, "tracking_number")
_REVIEW = ("review_id", "product_id")

EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "inventory.created": (*_INVENTORY, "variant_id", "on_hand"),
    "inventory.adjusted": (*_INVENTORY, "variant_id", "delta", "reason", "on_hand", "available", "actor"),
    "inventory.reserved": (*_RESERVATION, "expires_at"),
    "inventory.committed": _RESERVATION,
    "inventory.released": _RESERVATION,
    "inventory.expired": _RESERVATION,
    "inventory.shipped": _RESERVATION,
    "inventory.low_stock": (*_INVENTORY, "variant_id", "seller_id", "available", "threshold", "reorder_point"),
    "inventory.replenishment_set": (*_INVENTORY, "variant_id", "reorder_point", "reorder_quantity", "threshold",
                                    "supplier", "actor"),
    "purchase_order.created": (*_INVENTORY, "purchase_order_id", "variant_id", "seller_id", "quantity", "supplier"),
    "purchase_order.received": (*_INVENTORY, "purchase_order_id", "variant_id", "seller_id", "quantity"),
    "purchase_order.cancelled": (*_INVENTORY, "purchase_order_id", "variant_id", "seller_id"),
    "inventory.settled": (*_INVENTORY, "reservation_id", "shipped", "released", "status"),
    "inventory.restocked": (*_INVENTORY, "receipt_id", "lines", "condition"),
    "category.created": ("category_id", "name", "slug", "parent_id"),
    "product.created": ("product_id", "seller_id", "category_id", "brand", "status", "variant_ids"),
    "product.updated": ("product_id", "seller_id", "fields", "added_variant_ids"),
    "product.price_changed": ("product_id", "variant_id", "currency", "old_price", "old_sale_price", "price",
                              "sale_price"),
    "product.status_changed": ("product_id", "seller_id", "from", "to"),
    "catalog.seeded": ("products",),
    "search.performed": ("query", "filters", "sort", "page", "page_size", "total", "took_ms", "zero_result"),
    "product.viewed": ("product_id", "user_id", "source"),
    "cart.item_added": (*_CART, "product_id", "variant_id", "quantity"),
    "cart.item_updated": (*_CART, "variant_id", "quantity"),
    "cart.item_removed": (*_CART, "variant_id"),
    "cart.checked_out": (*_CART, "order_id"),
    "user.registered": ("user_id", "email", "role"),
    "user.updated": ("user_id", "fields", "role"),
    "user.password_rehashed": ("user_id",),
    "user.password_changed": ("user_id", "reason"),
    "address.added": ("user_id", "address_id"),
    "address.updated": ("user_id", "address_id"),
    "address.deleted": ("user_id", "address_id"),
    "seller.applied": ("user_id", "seller_id"),
    "seller.approved": ("user_id", "seller_id"),
    "seller.rejected": ("user_id", "seller_id", "reason"),
    "seller.suspended": ("user_id", "seller_id", "reason"),
    "seller.reinstated": ("user_id", "seller_id"),
    "wishlist.item_added": ("user_id", "product_id", "variant_id"),
    "wishlist.item_removed": ("user_id", "product_id"),
    "webhook.registered": ("webhook_id", "user_id", "seller_id", "url", "event_types"),
    "webhook.deleted": ("webhook_id", "user_id"),
    "checkout.started": ("saga_id", "user_id", "order_id", "total", "held_for_review"),
    "checkout.completed": ("saga_id", "user_id", "order_id"),
    "checkout.failed": ("saga_id", "user_id", "order_id", "reason", "fraud_reasons"),
    "coupon.claimed": ("coupon_code", "saga_id", "order_id", "user_id", "uses"),
    "coupon.released": ("coupon_code", "saga_id", "uses"),
    "order.created": (*_ORDER, "order_number", "total", "currency", "items", "client_ip", "card_fingerprint",
                      "card_country", "ship_country", "account_created_at", "held_for_review", "fraud_score"),
    "order.cancelled": (*_ORDER, "reason"),
    "order.confirmed": _MOVED_ON,
    "order.packed": _MOVED_ON,
    "order.shipped": _MOVED_ON,
    "order.delivered": _MOVED_ON,
    "order.charged_back": (*_ORDER, "payment_id", "amount", "reason"),
    "order.lines_cancelled": (*_ORDER, "lines", "by", "reason", "refund_amount"),
    "fulfilment.shipped": (*_ORDER, "fulfilment_id", "seller_id", "carrier", "tracking_number", "estimated_delivery"),
    "fulfilment.delivered": (*_ORDER, "fulfilment_id", "seller_id"),
    "return.requested": (*_ORDER, "return_id", "seller_id", "lines", "reason"),
    "return.approved": (*_ORDER, "return_id", "seller_id"),
    "return.rejected": (*_ORDER, "return_id", "seller_id", "reason"),
    "return.received": (*_ORDER, "return_id", "seller_id", "condition"),
    "return.refunded": (*_ORDER, "return_id", "seller_id", "amount", "currency"),
    "seller.payout_paid": ("seller_id", "payout_id", "amount", "currency"),
    "payment.authorized": (*_PAYMENT, "brand", "last4"),
    "payment.declined": (*_PAYMENT, "decline_code"),
    "payment.captured": _PAYMENT,
    "payment.voided": _PAYMENT,
    "payment.refunded": (*_PAYMENT, "refund_id", "refund_amount"),
    "payment.chargeback": (*_PAYMENT, "order_id", "reason"),
    "cart.erased": _CART,
    "user.erased": ("user_id",),
    "order.pseudonymised": _ORDER,
    "review.submitted": (*_REVIEW, "user_id", "rating"),
    "review.edited": (*_REVIEW, "user_id", "rating"),
    "review.published": (*_REVIEW, "user_id", "rating"),
    "review.held": (*_REVIEW, "user_id", "reasons"),
    "review.rejected": (*_REVIEW, "user_id", "reason"),
    "review.reported": (*_REVIEW, "user_id", "reason", "report_count"),
    "review.answered": (*_REVIEW, "seller_id"),
    "review.voted": (*_REVIEW, "user_id", "helpful_count"),
    "review.deleted": (*_REVIEW, "user_id"),
    "review.anonymised": _REVIEW,
    "product.rating_changed": ("product_id", "rating", "review_count"),
    "seller.rated": ("seller_id", "order_id", "variant_id", "user_id", "rating"),
    "admin.action": ("audit_id", "admin_id", "action", "target_type", "target_id"),
}

JSON_FIELDS = frozenset({"filters"})  # stored as JSON text (see JSON)


def data_fields(event_type: str) -> tuple[str, ...]:
    """The typed `data` columns of a type, in order (none for a type the contract does not list)."""
    return EVENT_FIELDS.get(event_type, ())


def schema_for(event_type: str) -> pa.Schema:
    """The Parquet schema of one event type's files."""
    return pa.schema([*COMMON, *(pa.field(name, FIELD_TYPES[name]) for name in data_fields(event_type)), EXTRA])
