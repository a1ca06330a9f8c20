"""Every Redis key the platform writes, in one place. Actors write them; Serve reads committed state from them."""

from __future__ import annotations

PREFIX = "bz"

# inventory: one hash per shard, variant_id -> stock level JSON; reservation_id -> reservation JSON
def inventory_stock(shard: int) -> str:
    return f"{PREFIX}:inv:{shard}:stock"


def inventory_reservations(shard: int) -> str:
    return f"{PREFIX}:inv:{shard}:resv"


# carts: one hash per shard, user_id -> cart JSON
def carts(shard: int) -> str:
    return f"{PREFIX}:cart:{shard}"


# users: one hash per shard, user_id -> user JSON (with addresses); a global email -> user_id index
def users(shard: int) -> str:
    return f"{PREFIX}:user:{shard}"


USER_EMAILS = f"{PREFIX}:user:email"
SELLERS = f"{PREFIX}:sellers"  # seller_id -> seller JSON


def refresh_token(digest: str) -> str:
    return f"{PREFIX}:refresh:{digest}"


def rate_limit(bucket: str) -> str:
    return f"{PREFIX}:rl:{bucket}"


# catalog
PRODUCTS = f"{PREFIX}:catalog:products"  # product_id -> product JSON (variants inside)
VARIANTS = f"{PREFIX}:catalog:variants"  # variant_id -> product_id
CATEGORIES = f"{PREFIX}:catalog:categories"  # category_id -> category JSON

# search: units ordered per product (the "popularity" sort), kept by the search indexer
SEARCH_POPULARITY = f"{PREFIX}:search:popularity"  # product_id -> int

# orders
def order(order_id: str) -> str:
    return f"{PREFIX}:order:{order_id}"


def user_orders(user_id: str) -> str:
    return f"{PREFIX}:user-orders:{user_id}"


ORDERS_BY_TIME = f"{PREFIX}:orders"  # zset order_id -> created epoch (admin listing)
ORDER_NUMBER_SEQ = f"{PREFIX}:seq:order-number"

# checkout sagas: one hash per checkout shard, saga_id -> saga JSON while it is unfinished
def sagas(shard: int) -> str:
    return f"{PREFIX}:saga:{shard}"


def idempotency(user_id: str, key: str) -> str:
    return f"{PREFIX}:idem:{user_id}:{key}"


def velocity(kind: str, subject: str) -> str:
    return f"{PREFIX}:velocity:{kind}:{subject}"


# payments (the sandbox gateway's own records; never a card number)
PAYMENT_TOKENS = f"{PREFIX}:pay:tokens"
PAYMENTS = f"{PREFIX}:pay:payments"
PAYMENT_IDEMPOTENCY = f"{PREFIX}:pay:idem"

SYSTEM = f"{PREFIX}:system"  # hash: seeded, schema version
