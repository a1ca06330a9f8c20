"""Every analytics figure computed again straight from the lake's files, in SQL written apart from the pipeline's:
one scan of all events (`read_parquet` over the whole lake, Hive partitions, columns united by name), filtered by
type. Tests compare the pipeline's tables with these."""

from __future__ import annotations

from typing import Any

import duckdb

EVENTS = """CREATE TEMP VIEW ev AS SELECT * REPLACE (CAST(event_at AS TIMESTAMP) AS event_at)
FROM read_parquet('{root}/events/**/*.parquet', hive_partitioning = true, union_by_name = true)"""

ITEMS = """CREATE TEMP VIEW item AS SELECT order_id, user_id, i.variant_id, i.quantity, i.price
FROM (SELECT order_id, user_id, unnest(items) AS i FROM ev WHERE type = 'order.created')"""

OWNER = """CREATE TEMP VIEW owner AS SELECT v AS variant_id, product_id, category_id FROM (
  SELECT unnest(variant_ids) AS v, product_id, category_id FROM ev WHERE type = 'product.created'
  UNION ALL SELECT unnest(u.added_variant_ids), u.product_id, c.category_id FROM ev u
    JOIN ev c ON c.type = 'product.created' AND c.product_id = u.product_id WHERE u.type = 'product.updated')"""

QUERIES: dict[str, str] = {
    "revenue": """SELECT g, CAST(date_trunc(g, event_at) AS DATE), currency, count(*), sum(total),
  CAST(round(sum(total) / count(*)) AS BIGINT)
FROM ev, (SELECT unnest(['day', 'week', 'month']) AS g) WHERE type = 'order.created' GROUP BY ALL""",
    "conversion": """SELECT d, count(DISTINCT user_id), count(DISTINCT user_id) FILTER (WHERE bought),
  count(DISTINCT user_id) FILTER (WHERE bought) / count(DISTINCT user_id)
FROM (SELECT CAST(a.event_at AS DATE) AS d, a.user_id, EXISTS (SELECT 1 FROM ev o WHERE o.type = 'order.created'
        AND o.user_id = a.user_id AND CAST(o.event_at AS DATE) = CAST(a.event_at AS DATE)) AS bought
      FROM ev a WHERE a.type = 'cart.item_added' AND a.user_id IS NOT NULL) GROUP BY d""",
    "customer_value": """SELECT user_id, count(*), sum(total), min(event_at), max(event_at), sum(total) / count(*),
  count(*) / greatest(1.0, (epoch_ms((SELECT max(event_at) FROM ev WHERE type = 'order.created'))
    - epoch_ms(min(event_at))) / 2592000000.0),
  CAST(round(sum(total) / greatest(1.0, (epoch_ms((SELECT max(event_at) FROM ev WHERE type = 'order.created'))
    - epoch_ms(min(event_at))) / 2592000000.0) * $months) AS BIGINT)
FROM ev o WHERE type = 'order.created' AND NOT EXISTS (SELECT 1 FROM ev c WHERE c.type = 'order.cancelled'
  AND c.order_id = o.order_id) GROUP BY user_id""",
    "cohorts": """WITH s AS (SELECT user_id, CAST(date_trunc('month', min(event_at)) AS DATE) AS m FROM ev
  WHERE type = 'user.registered' GROUP BY user_id),
n AS (SELECT s.m, s.user_id, (SELECT count(*) FROM ev o WHERE o.type = 'order.created' AND o.user_id = s.user_id) AS k
      FROM s)
SELECT m, count(*), count(*) FILTER (WHERE k > 0), count(*) FILTER (WHERE k > 1),
  (count(*) FILTER (WHERE k > 1)) / nullif(count(*) FILTER (WHERE k > 0), 0) FROM n GROUP BY m""",
    "cohort_retention": """WITH s AS (SELECT user_id, CAST(date_trunc('month', min(event_at)) AS DATE) AS m FROM ev
  WHERE type = 'user.registered' GROUP BY user_id)
SELECT s.m, date_diff('month', s.m, CAST(date_trunc('month', o.event_at) AS DATE)) AS k, count(DISTINCT s.user_id),
  (SELECT count(*) FROM s z WHERE z.m = s.m), count(DISTINCT s.user_id) / (SELECT count(*) FROM s z WHERE z.m = s.m)
FROM s JOIN ev o ON o.type = 'order.created' AND o.user_id = s.user_id GROUP BY s.m, k HAVING k >= 0""",
    "inventory_turnover": """WITH r AS (
  SELECT variant_id, CAST(split_part(stream_id, '-', 1) AS BIGINT) AS ms, CAST(split_part(stream_id, '-', 2) AS BIGINT)
    AS seq, CASE WHEN type = 'inventory.adjusted' THEN on_hand - delta ELSE on_hand END AS before, on_hand AS after
  FROM ev WHERE type IN ('inventory.created', 'inventory.adjusted')),
v AS (SELECT variant_id, arg_min(before, ms * 1000000 + seq) AS opening, arg_max(after, ms * 1000000 + seq) AS last,
        max(ms * 1000000 + seq) AS at FROM r GROUP BY variant_id),
sh AS (SELECT e.key AS variant_id, e.value AS q, p FROM (SELECT unnest(map_entries(lines)) AS e,
         CAST(split_part(stream_id, '-', 1) AS BIGINT) * 1000000 + CAST(split_part(stream_id, '-', 2) AS BIGINT) AS p
       FROM ev WHERE type = 'inventory.shipped')),
stock AS (SELECT v.variant_id, opening, last - coalesce((SELECT sum(q) FROM sh WHERE sh.variant_id = v.variant_id
            AND sh.p > v.at), 0) AS closing FROM v),
sold AS (SELECT variant_id, sum(quantity) AS u FROM item GROUP BY variant_id),
all_v AS (SELECT variant_id FROM stock UNION SELECT variant_id FROM sold)
SELECT w.category_id, (SELECT name FROM ev WHERE type = 'category.created' AND category_id = w.category_id LIMIT 1),
  sum(coalesce(sold.u, 0)), sum(opening), sum(closing), (sum(opening) + sum(closing)) / 2,
  sum(coalesce(sold.u, 0)) / nullif((sum(opening) + sum(closing)) / 2, 0)
FROM all_v LEFT JOIN stock USING (variant_id) LEFT JOIN sold USING (variant_id) LEFT JOIN owner w USING (variant_id)
GROUP BY w.category_id""",
    "product_performance": """WITH p AS (
  SELECT coalesce(product_id, json_extract_string(extra, '$.product_id')) AS product_id, 'view' AS what, NULL AS o,
    0 AS q, 0 AS price, false AS x FROM ev WHERE type = 'product.viewed'
  UNION ALL SELECT product_id, 'cart', NULL, 0, 0, false FROM ev WHERE type = 'cart.item_added'
  UNION ALL SELECT w.product_id, 'buy', i.order_id, i.quantity, i.price,
    i.order_id IN (SELECT order_id FROM ev WHERE type = 'order.cancelled')
  FROM item i LEFT JOIN owner w USING (variant_id))
SELECT product_id, count(*) FILTER (WHERE what = 'view'), count(*) FILTER (WHERE what = 'cart'),
  count(DISTINCT o), sum(q), sum(q * price), count(DISTINCT o) FILTER (WHERE x), sum(q) FILTER (WHERE x)
FROM p WHERE product_id IS NOT NULL GROUP BY product_id""",
    "search_daily": """SELECT CAST(event_at AS DATE), count(*), quantile_cont(took_ms, 0.5),
  quantile_cont(took_ms, 0.95), quantile_cont(took_ms, 0.99), sum(CAST(zero_result AS INT)),
  avg(CAST(zero_result AS INT))
FROM ev WHERE type = 'search.performed' GROUP BY 1""",
}


def direct(root: str, lifetime_months: float) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows from the raw events, sorted, with nulls where the pipeline writes 0 for a missing count."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for view in (EVENTS.format(root=root), ITEMS, OWNER):
        connection.execute(view)
    found = {}
    for name, sql in QUERIES.items():
        parameters = {"months": lifetime_months} if "$months" in sql else None
        rows = connection.execute(sql, parameters).fetchall()
        found[name] = sorted((tuple(0 if v is None and name == "product_performance" else v for v in row)
                              for row in rows), key=repr)
    connection.close()
    return found
