"""Every Redis key the platform writes, in one place. Actors write them; Serve reads committed state from them."""

from __future__ import annotations

PREFIX = "bz"

# inventory: one hash per shard, variant_id -> stock level JSON; reservation_id -> reservation JSON
def inventory_stock(shard: int) -> str:
    return f"{PREFIX}:inv:{shard}:stock"


def inventory_reservations(shard: int) -> str:
    return f"{PREFIX}:inv:{shard}:resv"


# what watches the stock of a shard's variants (domain/stock_watch.py), written by the inventory shard
def inventory_watches(shard: int) -> str:
    """hash variant_id -> VariantWatch JSON (seller, reorder quantity, supplier, crossing state, open order)."""
    return f"{PREFIX}:inv:{shard}:watch"


def purchase_orders(shard: int) -> str:
    """hash purchase_order_id -> PurchaseOrder JSON; an order id hashes to its variant's shard."""
    return f"{PREFIX}:inv:{shard}:po"


def low_stock_alerts(shard: int) -> str:
    """hash variant_id -> its open low-stock alert JSON (removed when available is back above the threshold)."""
    return f"{PREFIX}:inv:{shard}:alerts"


def stock_history(variant_id: str) -> str:
    """zset of a variant's stock changes: member the entry JSON, score its number; the latest
    `settings.stock_history_kept` are kept."""
    return f"{PREFIX}:inv:history:{variant_id}"


# shoppers: everything keyed by the shopper lives on the shopper's shard (carts, checkout sagas, orders,
# idempotency and velocity records); order ids are minted so that they hash to their shopper's shard.
def carts(shard: int) -> str:
    """One hash per shopper shard: user_id -> cart JSON."""
    return f"{PREFIX}:cart:{shard}"


def order(order_id: str) -> str:
    return f"{PREFIX}:order:{order_id}"


def user_orders(user_id: str) -> str:
    return f"{PREFIX}:user-orders:{user_id}"  # zset order_id -> created epoch


ORDERS_BY_TIME = f"{PREFIX}:orders"  # zset order_id -> created epoch (admin listing)
HELD_ORDERS = f"{PREFIX}:orders:held"  # zset order_id -> created epoch: pending orders awaiting an admin's review
ORDER_NUMBER_SEQ = f"{PREFIX}:seq:order-number"  # shards take blocks of order numbers from it


def sagas(shard: int) -> str:
    """One hash per shopper shard: saga_id -> saga JSON while the checkout is unfinished."""
    return f"{PREFIX}:saga:{shard}"


def fraud_history(shard: int) -> str:
    """hash user_id -> the shopper's ShopperHistory JSON (domain/fraud_features.py), for the fraud model."""
    return f"{PREFIX}:fraud-history:{shard}"


def idempotency(user_id: str, key: str) -> str:
    return f"{PREFIX}:idem:{user_id}:{key}"


def velocity(kind: str, subject: str) -> str:
    """A zset of recent attempts (member -> epoch) per user, card fingerprint or client IP: orders placed
    (`user`, `card`, `ip`) and payments declined (`declined-user`, `declined-card`, `declined-ip`)."""
    return f"{PREFIX}:velocity:{kind}:{subject}"


# users: one hash per shard, user_id -> user JSON (with addresses); a global email -> user_id index
def users(shard: int) -> str:
    return f"{PREFIX}:user:{shard}"


USER_EMAILS = f"{PREFIX}:user:email"
SELLERS = f"{PREFIX}:sellers"  # seller_id -> seller JSON
SUSPENDED_SELLERS = f"{PREFIX}:sellers:suspended"  # seller_id -> the reason, while the seller is suspended


# a seller's share of orders (docs/api-fulfilment.md): written by the shopper shards in the transaction of the order
# change, payouts by the user shard of the seller's user
def seller_orders(seller_id: str) -> str:
    return f"{PREFIX}:seller-orders:{seller_id}"  # zset order_id -> created epoch


def seller_returns(seller_id: str) -> str:
    return f"{PREFIX}:seller-returns:{seller_id}"  # zset return_id -> requested epoch


def seller_ledger(seller_id: str) -> str:
    return f"{PREFIX}:seller-ledger:{seller_id}"  # hash entry_id -> entry JSON (domain/seller_ledger.py)


SELLER_LEDGERS = f"{PREFIX}:seller-ledger:*"  # the pattern of every seller's ledger (the audit scans it)


# sessions (serve/sessions.py): security records of the HTTP layer, by digest, each with its TTL; no actor state
def refresh_token(digest: str) -> str:
    """The one valid refresh token of a session: {user_id, session}."""
    return f"{PREFIX}:refresh:{digest}"


def refresh_used(digest: str) -> str:
    """A rotated (used) refresh token -> its session, so a replay of it ends the session."""
    return f"{PREFIX}:refresh-used:{digest}"


def session(session_id: str) -> str:
    """A refresh-token family started by a login: hash user_id, digest (of its current refresh token)."""
    return f"{PREFIX}:session:{session_id}"


def user_sessions(user_id: str) -> str:
    """zset session_id -> expiry epoch: the user's sessions, for "log out everywhere"."""
    return f"{PREFIX}:user-sessions:{user_id}"


def user_token_generation(user_id: str) -> str:
    """A counter: access tokens issued under an older generation are revoked (logout everywhere, new password)."""
    return f"{PREFIX}:token-gen:{user_id}"


def revoked_session(session_id: str) -> str:
    """The access tokens of an ended session are refused until the last of them expires."""
    return f"{PREFIX}:revoked:session:{session_id}"


def revoked_access_token(jti: str) -> str:
    return f"{PREFIX}:revoked:jti:{jti}"


def password_reset(digest: str) -> str:
    """A password-reset token, single use, expiring: {user_id, email, generation}."""
    return f"{PREFIX}:password-reset:{digest}"


# Messages for the notification service (not yet written): a stream of entries with a `type` field. Unlike the
# event stream it holds secrets (a password reset's token) and goes to the mailer only.
OUTBOX = f"{PREFIX}:outbox"


def rate_limit(bucket: str) -> str:
    return f"{PREFIX}:rl:{bucket}"


def login_failures(subject: str) -> str:
    """A hash {n: failed sign-ins, t: epoch of the last} per subject (`email:<digest>` or `ip:<address>`)."""
    return f"{PREFIX}:login-fail:{subject}"


def login_known_addresses(email_digest: str) -> str:
    """A zset of the client addresses the account signed in from (address -> epoch of the last success)."""
    return f"{PREFIX}:login-known:{email_digest}"


# catalog
PRODUCTS = f"{PREFIX}:catalog:products"  # product_id -> product JSON (variants inside)
VARIANTS = f"{PREFIX}:catalog:variants"  # variant_id -> product_id
CATEGORIES = f"{PREFIX}:catalog:categories"  # category_id -> category JSON

# search: units ordered per product (the "popularity" sort), kept by the search indexer
SEARCH_POPULARITY = f"{PREFIX}:search:popularity"  # product_id -> int


def coupon_uses(code: str) -> str:
    """One hash per coupon code with limits: saga id -> use JSON, written by the code's coupon shard."""
    return f"{PREFIX}:coupon:{code}:uses"


# the sandbox payment gateway's own books (actors/gateway.py; never a card number)
def payment_token(token: str) -> str:
    return f"{PREFIX}:pay:token:{token}"  # CardToken JSON, expiring with the token


PAYMENTS = f"{PREFIX}:pay:payments"  # hash payment_id -> Payment JSON


def payment_idempotency(scoped_key: str) -> str:
    return f"{PREFIX}:pay:idem:{scoped_key}"  # {"request", "result"} of one gateway call


def gateway_payout(idempotency_key: str) -> str:
    return f"{PREFIX}:pay:payout:{idempotency_key}"  # {"request", "result"} of one payout to a seller


SYSTEM = f"{PREFIX}:system"  # hash: seeded, schema version


LAKE_EXPORTER = f"{PREFIX}:lake:exporter"  # the lease of the one running lake exporter (lake/streams.py)


# the simulation clock (BAZAAR_ENV=simulation only): seconds the shop's business clock is ahead of the real one
SIMULATION_CLOCK = f"{PREFIX}:simulation:clock-offset"
# scheduled jobs (actors/scheduler.py): each run's record, and the runs by the time they were queued
JOB_RUNS = f"{PREFIX}:jobs:runs"  # hash run_id -> JobRun JSON (domain/schedules.py)
JOB_RUNS_BY_TIME = f"{PREFIX}:jobs"  # zset run_id -> queued epoch, capped at settings.jobs_kept


# reviews (actors/reviews.py): one hash per review shard, review_id -> review JSON; a review shard owns the reviews
# of the products that hash to it (review ids are minted to hash there too), and the seller ratings of the sellers
# that hash to it
def reviews(shard: int) -> str:
    return f"{PREFIX}:review:{shard}"


def product_reviews(product_id: str) -> str:
    return f"{PREFIX}:product-reviews:{product_id}"  # zset review_id -> created epoch (every state)


def user_reviews(user_id: str) -> str:
    return f"{PREFIX}:user-reviews:{user_id}"  # zset review_id -> created epoch: the author's reviews


def user_votes(user_id: str) -> str:
    return f"{PREFIX}:user-votes:{user_id}"  # zset review_id -> epoch: reviews the user found helpful


HELD_REVIEWS = f"{PREFIX}:reviews:held"  # zset review_id -> epoch held: the moderation queue
REJECTED_REVIEWS = f"{PREFIX}:reviews:rejected"  # zset review_id -> epoch rejected


def seller_ratings(shard: int) -> str:
    """One hash per review shard: seller_id -> the seller's ratings JSON (domain/seller_ratings.py)."""
    return f"{PREFIX}:seller-ratings:{shard}"


# the review shards' published rating per product, and the products whose rating the catalog has yet to store
# (zset product_id -> microseconds when it changed), written with the review change; read by actors/ratings.py
PRODUCT_RATINGS = f"{PREFIX}:product-rating"  # hash product_id -> {"rating", "review_count"}
RATINGS_DUE = f"{PREFIX}:ratings:due"


SELLER_RATING_SUMMARY = f"{PREFIX}:seller-rating"  # hash seller_id -> {"average", "count"}, for listings


def user_seller_ratings(user_id: str) -> str:
    return f"{PREFIX}:user-seller-ratings:{user_id}"  # zset "<seller_id>:<order_id>:<variant_id>" -> epoch


# the admin audit log (actors/admin_log.py): entries by id, and indexes by time, target and admin
AUDIT_LOG = f"{PREFIX}:audit"  # hash entry_id -> AdminAction JSON
AUDIT_BY_TIME = f"{PREFIX}:audit:by-time"  # zset entry_id -> epoch


def audit_by_target(target_type: str, target_id: str) -> str:
    return f"{PREFIX}:audit:target:{target_type}:{target_id}"  # zset entry_id -> epoch


def audit_by_admin(admin_id: str) -> str:
    return f"{PREFIX}:audit:admin:{admin_id}"  # zset entry_id -> epoch


# notifications (actors/notifier.py, docs/notifications.md): written by the notifier actor only
def inbox(user_id: str) -> str:
    """hash notification_id -> notification JSON (with its `seq`)."""
    return f"{PREFIX}:notif:{user_id}:items"


def inbox_feed(user_id: str) -> str:
    """zset notification_id -> seq (the user's own counter, `inbox_seq`): newest first, and replay after a seq."""
    return f"{PREFIX}:notif:{user_id}:feed"


def inbox_unread(user_id: str) -> str:
    """zset notification_id -> seq of the unread ones."""
    return f"{PREFIX}:notif:{user_id}:unread"


def inbox_seq(user_id: str) -> str:
    return f"{PREFIX}:notif:{user_id}:seq"


def notice_sent(notice_id: str, channel: str) -> str:
    """A marker (with a TTL) that this notice went to this channel: a re-read event never mails twice."""
    return f"{PREFIX}:notif:sent:{notice_id}:{channel}"


NOTIFICATIONS_LIVE = f"{PREFIX}:notif:live"  # stream of new inbox entries, fanned out by each API replica


def delivery_jobs(queue: str) -> str:
    """hash job_id -> job JSON of a retrying delivery queue (`mail` or `webhook`)."""
    return f"{PREFIX}:{queue}:jobs"


def delivery_due(queue: str) -> str:
    """zset job_id -> epoch when it is next tried."""
    return f"{PREFIX}:{queue}:due"


def delivery_dead(queue: str) -> str:
    """zset job_id -> epoch it was given up: the dead letters an admin sees and may retry."""
    return f"{PREFIX}:{queue}:dead"


WEBHOOKS = f"{PREFIX}:webhooks"  # hash webhook_id -> endpoint JSON (with its signing secret)


def webhook_attempts(webhook_id: str) -> str:
    """list of delivery attempts, newest first, capped."""
    return f"{PREFIX}:webhook:{webhook_id}:attempts"


# wishlists (actors/users.py writes them on the user's shard)
def wishlist(user_id: str) -> str:
    """hash product_id -> {product_id, variant_id, added_at}."""
    return f"{PREFIX}:wishlist:{user_id}"


def wishlisted_by(product_id: str) -> str:
    """hash user_id -> the wishlisted variant id ("" for the whole product): who wishlists the product, for the
    price-drop and back-in-stock notices."""
    return f"{PREFIX}:wishlisted:{product_id}"
