"""The shop's business metrics, as DuckDB SQL over the staging tables of `analytics/source.py`.

What each figure means (every one is a plain SQL over the raw events; tests/integration/test_analytics_pipeline.py
recomputes them from the lake's files):
- **revenue** per day, ISO week (from Monday) and month, by currency: `orders` is the number of `order.created`,
  `revenue` the sum of their `total` (gross: a later cancellation does not take it back), `aov` revenue / orders
  rounded to the minor unit (half away from zero).
- **conversion** per day: of the shoppers who added to a cart that day (distinct `user_id` of `cart.item_added`),
  the share who placed an order the same day.
- **customer_value**: per customer, their orders that were not cancelled (`order.created` without an
  `order.cancelled`), revenue and average order value (historical lifetime value = revenue). The predicted value is
  the simple AOV x purchase frequency x expected lifetime: `aov` x `orders_per_month` (orders over the months since
  the customer's first order, at least one month, up to the last order in the lake) x
  `settings.analytics_clv_lifetime_months`, rounded to the minor unit. Not BG/NBD: no churn is modelled.
- **cohorts** by signup month (`user.registered`): users, buyers (at least one order), repeat buyers (two or
  more), repeat purchase rate = repeat buyers / buyers; **cohort_retention**: per cohort and month since signup,
  the share of the cohort's users who ordered in that month.
- **inventory_turnover** per category: units sold (`order.created` items) / average on hand, where the average
  on hand is (opening + closing) / 2 summed over the category's variants: opening is the first stock reading
  (`inventory.created`'s `on_hand`, or an `inventory.adjusted`'s `on_hand - delta`), closing the last reading less
  the units shipped after it (`inventory.shipped` lines); readings are ordered by their stream ids (the inventory
  events are on one stream). A variant's category is its product's at `product.created`.
- **product_performance**: views (`product.viewed`), add-to-cart events, orders, units and revenue of
  `order.created` items, and the units and orders of those orders later cancelled. Returns have no event yet.
- **search_daily**: searches, took_ms percentiles p50/p95/p99 (linear interpolation, `quantile_cont`), zero-result
  searches and rate; **search_zero_queries**: the 50 queries (lower-cased, trimmed) most often without results.
- **summary**: one row of headline figures over the whole lake.
"""

from __future__ import annotations

import duckdb

# each variant's product: listed at product.created, or added by a product.updated
VARIANT_PRODUCT = """SELECT variant_id, min(product_id) AS product_id FROM (
    SELECT unnest(variant_ids) AS variant_id, product_id FROM product_created
    UNION ALL SELECT unnest(added_variant_ids), product_id FROM product_updated)
  WHERE variant_id IS NOT NULL GROUP BY variant_id"""

DERIVED = f"""
CREATE OR REPLACE TEMP TABLE order_lines AS
  SELECT order_id, user_id, event_at, item.variant_id AS variant_id, item.quantity AS quantity, item.price AS price
  FROM (SELECT order_id, user_id, event_at, unnest(items) AS item FROM order_created);
CREATE OR REPLACE TEMP TABLE variant_product AS {VARIANT_PRODUCT};
CREATE OR REPLACE TEMP TABLE product_category AS
  SELECT product_id, min(category_id) AS category_id FROM product_created GROUP BY product_id;
CREATE OR REPLACE TEMP TABLE cancelled AS SELECT DISTINCT order_id FROM order_cancelled;
CREATE OR REPLACE TEMP TABLE signup AS
  SELECT user_id, CAST(date_trunc('month', min(event_at)) AS DATE) AS cohort FROM user_registered GROUP BY user_id;
"""

REVENUE = "\nUNION ALL\n".join(
    f"""SELECT '{unit}' AS granularity, CAST(date_trunc('{unit}', event_at) AS DATE) AS period, currency,
  count(*) AS orders, sum(total) AS revenue, CAST(round(sum(total) / count(*)) AS BIGINT) AS aov
FROM order_created GROUP BY ALL""" for unit in ("day", "week", "month"))

TABLES: dict[str, str] = {
    "revenue": f"SELECT * FROM ({REVENUE}) ORDER BY granularity, period, currency",
    "conversion": """
WITH carted AS (SELECT DISTINCT CAST(event_at AS DATE) AS day, user_id FROM cart_added WHERE user_id IS NOT NULL),
bought AS (SELECT DISTINCT CAST(event_at AS DATE) AS day, user_id FROM order_created)
SELECT c.day, count(*) AS shoppers_with_cart, count(b.user_id) AS purchasers,
  count(b.user_id) / count(*) AS conversion_rate
FROM carted c LEFT JOIN bought b ON b.day = c.day AND b.user_id = c.user_id GROUP BY c.day ORDER BY c.day""",
    "customer_value": """
WITH kept AS (SELECT * FROM order_created o WHERE o.order_id NOT IN (SELECT order_id FROM cancelled)),
per AS (SELECT user_id, count(*) AS orders, sum(total) AS revenue, min(event_at) AS first_order_at,
               max(event_at) AS last_order_at FROM kept GROUP BY user_id),
tenure AS (SELECT *, greatest(1.0, (epoch((SELECT max(event_at) FROM order_created)) - epoch(first_order_at))
                                   / (30 * 86400.0)) AS months FROM per)
SELECT user_id, orders, revenue, first_order_at, last_order_at, revenue / orders AS aov,
  orders / months AS orders_per_month,
  CAST(round(revenue / orders * (orders / months) * $lifetime_months) AS BIGINT) AS predicted_clv
FROM tenure ORDER BY user_id""",
    "cohorts": """
WITH bought AS (SELECT user_id, count(*) AS orders FROM order_created GROUP BY user_id)
SELECT s.cohort, count(*) AS users, count(b.user_id) AS buyers, count(*) FILTER (WHERE b.orders >= 2) AS repeat_buyers,
  CASE WHEN count(b.user_id) > 0 THEN count(*) FILTER (WHERE b.orders >= 2) / count(b.user_id) END
    AS repeat_purchase_rate
FROM signup s LEFT JOIN bought b ON b.user_id = s.user_id GROUP BY s.cohort ORDER BY s.cohort""",
    "cohort_retention": """
WITH sizes AS (SELECT cohort, count(*) AS users FROM signup GROUP BY cohort),
active AS (SELECT DISTINCT s.cohort, s.user_id,
             date_diff('month', s.cohort, CAST(date_trunc('month', o.event_at) AS DATE)) AS months_since_signup
           FROM signup s JOIN order_created o ON o.user_id = s.user_id)
SELECT a.cohort, a.months_since_signup, count(*) AS active_users, z.users, count(*) / z.users AS retention
FROM active a JOIN sizes z ON z.cohort = a.cohort WHERE a.months_since_signup >= 0
GROUP BY a.cohort, a.months_since_signup, z.users ORDER BY a.cohort, a.months_since_signup""",
    "inventory_turnover": """
WITH readings AS (
  SELECT variant_id, stream_id, on_hand AS before, on_hand AS after FROM inventory_created
  UNION ALL SELECT variant_id, stream_id, on_hand - delta, on_hand FROM inventory_adjusted),
ranked AS (SELECT *, row_number() OVER (PARTITION BY variant_id ORDER BY {position}) AS is_first,
                     row_number() OVER (PARTITION BY variant_id ORDER BY {position} DESC) AS is_last,
                     {position} AS position FROM readings WHERE variant_id IS NOT NULL),
shipped AS (SELECT line.key AS variant_id, line.value AS quantity, position FROM (
              SELECT unnest(map_entries(lines)) AS line, {position} AS position FROM inventory_shipped)),
stock AS (SELECT o.variant_id, o.before AS opening,
            c.after - coalesce((SELECT sum(s.quantity) FROM shipped s
                                WHERE s.variant_id = c.variant_id AND s.position > c.position), 0) AS closing
          FROM ranked o JOIN ranked c ON c.variant_id = o.variant_id AND c.is_last = 1 WHERE o.is_first = 1),
sold AS (SELECT variant_id, sum(quantity) AS units FROM order_lines GROUP BY variant_id),
variants AS (SELECT coalesce(st.variant_id, so.variant_id) AS variant_id, coalesce(so.units, 0) AS units,
               st.opening, st.closing FROM stock st FULL JOIN sold so ON so.variant_id = st.variant_id)
SELECT pc.category_id, any_value(cat.name) AS category_name, sum(v.units) AS units_sold,
  sum(v.opening) AS opening_on_hand, sum(v.closing) AS closing_on_hand,
  (sum(v.opening) + sum(v.closing)) / 2 AS average_on_hand,
  CASE WHEN (sum(v.opening) + sum(v.closing)) > 0 THEN sum(v.units) / ((sum(v.opening) + sum(v.closing)) / 2) END
    AS turnover
FROM variants v LEFT JOIN variant_product vp ON vp.variant_id = v.variant_id
  LEFT JOIN product_category pc ON pc.product_id = vp.product_id
  LEFT JOIN category_created cat ON cat.category_id = pc.category_id
GROUP BY pc.category_id ORDER BY pc.category_id""".replace(
        "{position}", "(TRY_CAST(split_part(stream_id, '-', 1) AS BIGINT) * 1000000"
                      " + coalesce(TRY_CAST(split_part(stream_id, '-', 2) AS BIGINT), 0))"),
    "product_performance": """
WITH views AS (SELECT product_id, count(*) AS views FROM product_viewed GROUP BY product_id),
carts AS (SELECT product_id, count(*) AS add_to_cart FROM cart_added GROUP BY product_id),
lines AS (SELECT vp.product_id, l.order_id, l.quantity, l.price, c.order_id IS NOT NULL AS cancelled
          FROM order_lines l LEFT JOIN variant_product vp ON vp.variant_id = l.variant_id
          LEFT JOIN cancelled c ON c.order_id = l.order_id),
bought AS (SELECT product_id, count(DISTINCT order_id) AS orders, sum(quantity) AS units_purchased,
             sum(quantity * price) AS revenue, count(DISTINCT order_id) FILTER (WHERE cancelled) AS cancelled_orders,
             coalesce(sum(quantity) FILTER (WHERE cancelled), 0) AS cancelled_units FROM lines GROUP BY product_id),
products AS (SELECT product_id FROM views UNION SELECT product_id FROM carts UNION SELECT product_id FROM bought)
SELECT p.product_id, coalesce(v.views, 0) AS views, coalesce(c.add_to_cart, 0) AS add_to_cart,
  coalesce(b.orders, 0) AS orders, coalesce(b.units_purchased, 0) AS units_purchased,
  coalesce(b.revenue, 0) AS revenue, coalesce(b.cancelled_orders, 0) AS cancelled_orders,
  coalesce(b.cancelled_units, 0) AS cancelled_units
FROM products p LEFT JOIN views v ON v.product_id = p.product_id LEFT JOIN carts c ON c.product_id = p.product_id
  LEFT JOIN bought b ON b.product_id = p.product_id WHERE p.product_id IS NOT NULL ORDER BY p.product_id""",
    "search_daily": """
SELECT CAST(event_at AS DATE) AS day, count(*) AS searches, quantile_cont(took_ms, 0.5) AS p50_ms,
  quantile_cont(took_ms, 0.95) AS p95_ms, quantile_cont(took_ms, 0.99) AS p99_ms,
  count(*) FILTER (WHERE zero_result) AS zero_results,
  count(*) FILTER (WHERE zero_result) / count(*) AS zero_result_rate
FROM search_performed GROUP BY day ORDER BY day""",
    "search_zero_queries": """
SELECT lower(trim(query)) AS query, count(*) AS searches FROM search_performed WHERE zero_result
GROUP BY lower(trim(query)) ORDER BY searches DESC, query LIMIT 50""",
    "summary": """
SELECT (SELECT max(event_at) FROM order_created) AS as_of,
  (SELECT count(*) FROM order_created) AS orders, (SELECT sum(total) FROM order_created) AS revenue,
  (SELECT CAST(round(sum(total) / count(*)) AS BIGINT) FROM order_created) AS aov,
  (SELECT count(*) FROM customer_value) AS customers,
  (SELECT count(*) FILTER (WHERE orders >= 2) / count(*) FROM
     (SELECT count(*) AS orders FROM order_created GROUP BY user_id)) AS repeat_purchase_rate,
  (SELECT sum(purchasers) / sum(shoppers_with_cart) FROM conversion) AS conversion_rate,
  (SELECT avg(revenue) FROM customer_value) AS average_historical_clv,
  (SELECT avg(predicted_clv) FROM customer_value) AS average_predicted_clv,
  'aov x orders_per_month x ' || $lifetime_months || ' months' AS predicted_clv_method,
  (SELECT count(*) FROM search_performed) AS searches,
  (SELECT quantile_cont(took_ms, 0.5) FROM search_performed) AS search_p50_ms,
  (SELECT quantile_cont(took_ms, 0.95) FROM search_performed) AS search_p95_ms,
  (SELECT quantile_cont(took_ms, 0.99) FROM search_performed) AS search_p99_ms,
  (SELECT count(*) FILTER (WHERE zero_result) / count(*) FROM search_performed) AS zero_result_rate""",
}


def compute(connection: duckdb.DuckDBPyConnection, lifetime_months: float) -> dict[str, int]:
    """Create every table of `TABLES` in `connection` (its staging tables loaded); returns the rows of each."""
    connection.execute(DERIVED)
    rows = {}
    for name, sql in TABLES.items():
        parameters = {"lifetime_months": lifetime_months} if "$lifetime_months" in sql else None
        connection.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}", parameters)
        rows[name] = connection.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    return rows
