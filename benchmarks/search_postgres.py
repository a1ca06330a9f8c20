"""The baseline: the same catalog and queries on PostgreSQL full-text search, the way a shop would do it there.

A table of the same index documents with a generated tsvector (weights A name, B brand, C tags and category
names, D description) under a GIN index, btree indexes for the filters and sorts, a GIN index on the category
path array, and (when the pg_trgm extension is available) a trigram GIN index on the name for typos, which
plain full-text search cannot match. A search is one statement: the text match materialized once, then the
page, the total and each facet over it with every filter except the facet's own, as in the tantivy index.
Text queries use websearch_to_tsquery ranked by ts_rank; typo queries use pg_trgm's word_similarity (`<%`,
threshold 0.5) on the name.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

from benchmarks.search_queries import BenchQuery
from domain.search import PRICE_RANGES, RATING_FLOORS, SearchRequest

COLUMNS = ("id", "name", "brand", "brand_key", "tags", "description", "cat_path", "price", "rating", "review_count",
           "popularity", "in_stock", "created")
ORDER = {"price_asc": "price ASC", "price_desc": "price DESC", "rating_desc": "rating DESC, review_count DESC",
         "newest": "created DESC", "popularity": "popularity DESC"}
FACET_FILTERS = ("category", "brands", "price", "rating")
TRIGRAM_THRESHOLD = 0.5
SESSION = ("SET jit = off", "SET plan_cache_mode = force_custom_plan")  # no JIT compile per query; real plans


def row(doc: dict[str, Any]) -> tuple[Any, ...]:
    """A table row from a search.documents.product_document dict (the very fields tantivy indexes)."""
    return (doc["product_id"], doc["name"], doc["brand"], doc["brand_key"], " ".join(doc["tags"]),
            doc["description"], doc["cat_path"], doc["price"], doc["rating"], doc["review_count"],
            doc["popularity"], bool(doc["in_stock"]), doc["created"])


class Sql:
    """Positional parameters ($1, $2, ...) collected while a statement is written."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def search_sql(table: str, request: SearchRequest, trigram: bool) -> tuple[str, list[Any]]:
    """One statement answering {total, hits, brands, categories, price_ranges, ratings} for a request."""
    p = Sql()
    text = " ".join(request.q.split())
    source, where, rank = f"{table} p", ["TRUE"], "0::real"
    if text and trigram:
        value = p(text)
        where.append(f"{value} <% p.name")
        rank = f"word_similarity({value}, p.name)"
    elif text:
        source += f", websearch_to_tsquery('english', {p(text)}) tq"
        where.append("p.tsv @@ tq")
        rank = "ts_rank(p.tsv, tq)"
    if request.in_stock:
        where.append("p.in_stock")
    filters: dict[str, str] = {}
    if request.category is not None:
        filters["category"] = f"cat_path @> ARRAY[{p(request.category)}]::text[]"
    if request.brands:
        filters["brands"] = f"brand_key = ANY({p(sorted({' '.join(b.split()).casefold() for b in request.brands}))})"
    if request.price_min is not None or request.price_max is not None:
        low = p(request.price_min if request.price_min is not None else 0)
        high = p(request.price_max if request.price_max is not None else 2**62)
        filters["price"] = f"price BETWEEN {low} AND {high}"
    if request.rating_min is not None:
        filters["rating"] = f"rating >= {p(float(request.rating_min))}"

    def but(facet: str | None) -> str:
        return " AND ".join([v for k, v in filters.items() if k != facet] or ["TRUE"])

    order = "rank DESC" if text and request.sort == "relevance" else ORDER.get(request.sort, "popularity DESC")
    limit, offset = p(request.page_size), p((request.page - 1) * request.page_size)
    buckets = " ".join(f"WHEN price < {high} THEN {n}" for n, (_, high) in enumerate(PRICE_RANGES) if high)
    ratings = ", ".join(f"'{f}', count(*) FILTER (WHERE rating >= {f})" for f in RATING_FLOORS)
    materialized = "MATERIALIZED" if text else "NOT MATERIALIZED"  # browse: let each part use its own index
    sql = f"""
WITH m AS {materialized} (
  SELECT p.id, p.name, p.brand, p.brand_key, p.cat_path, p.price, p.rating, p.review_count, p.popularity,
         p.created, {rank} AS rank
  FROM {source} WHERE {' AND '.join(where)}
)
SELECT
  (SELECT count(*) FROM m WHERE {but(None)}) AS total,
  (SELECT coalesce(json_agg(h), '[]') FROM (SELECT id, name, brand, price, rating FROM m WHERE {but(None)}
     ORDER BY {order} LIMIT {limit} OFFSET {offset}) h) AS hits,
  (SELECT coalesce(json_agg(b), '[]') FROM (SELECT brand AS value, count(*) FROM m WHERE {but('brands')}
     GROUP BY brand ORDER BY count(*) DESC, brand LIMIT 20) b) AS brands,
  (SELECT coalesce(json_agg(c), '[]') FROM (SELECT cat AS value, count(*) FROM m, unnest(m.cat_path) cat
     WHERE {but('category')} GROUP BY cat ORDER BY count(*) DESC LIMIT 30) c) AS categories,
  (SELECT coalesce(json_agg(r), '[]') FROM (SELECT CASE {buckets} ELSE {len(PRICE_RANGES) - 1} END AS bucket,
     count(*) FROM m WHERE {but('price')} GROUP BY 1) r) AS price_ranges,
  (SELECT json_build_object({ratings}) FROM m WHERE {but('rating')}) AS ratings
"""
    return sql, p.args


class PostgresSearch:
    """A products table of its own (dropped by `drop`), loaded from index documents, searched one at a time."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.table = f"bench_search_{uuid.uuid4().hex[:8]}"
        self.loop = asyncio.new_event_loop()
        self.conn: Any = None
        self.version = ""
        self.trigram = False
        self.timings: dict[str, float] = {}
        self.size_bytes = 0

    @staticmethod
    def unavailable(dsn: str) -> str | None:
        from benchmarks.hot_sku import PostgresBench

        return PostgresBench.unavailable(dsn)

    def _run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def connect(self) -> None:
        import asyncpg

        self.conn = self._run(asyncpg.connect(self.dsn, timeout=10))
        for statement in SESSION:
            self._run(self.conn.execute(statement))
        self.version = str(self._run(self.conn.fetchval("SHOW server_version")))

    def load(self, batches: Iterable[list[dict[str, Any]]], total: int) -> None:
        """Create the table, COPY the documents in (the tsvector is computed on the way), build the indexes."""
        run, conn = self._run, self.conn
        run(conn.execute("SET maintenance_work_mem = '1GB'"))
        run(conn.execute(f"""CREATE TABLE {self.table} (
            id text PRIMARY KEY, name text NOT NULL, brand text NOT NULL, brand_key text NOT NULL, tags text,
            description text, cat_path text[] NOT NULL, price bigint NOT NULL, rating real NOT NULL,
            review_count int NOT NULL, popularity int NOT NULL, in_stock boolean NOT NULL, created bigint NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (
              setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', brand), 'B') ||
              setweight(to_tsvector('english', coalesce(tags, '')), 'C') ||
              setweight(to_tsvector('english', coalesce(description, '')), 'D')) STORED)"""))
        self.timings["documents"] = self.timings["copy"] = 0.0  # making the rows in Python; the COPY itself
        pending = iter(batches)
        with tqdm(total=total, desc="  PostgreSQL COPY (tsvector computed per row)", unit="doc",
                  mininterval=0.5) as bar:
            while True:
                started = time.perf_counter()
                batch = next(pending, None)
                records = [row(d) for d in batch or []]
                self.timings["documents"] += time.perf_counter() - started
                if batch is None:
                    break
                started = time.perf_counter()
                run(conn.copy_records_to_table(self.table, records=records, columns=COLUMNS))
                self.timings["copy"] += time.perf_counter() - started
                bar.update(len(batch))
        self.trigram = self._trigram()
        indexes = {"GIN tsvector": "USING gin (tsv)", "GIN category path": "USING gin (cat_path)",
                   "btree brand_key": "(brand_key)", "btree price": "(price)", "btree rating": "(rating)",
                   "btree created": "(created)", "btree popularity": "(popularity)"}
        if self.trigram:
            indexes["GIN trigram name"] = "USING gin (name gin_trgm_ops)"
        for name, how in indexes.items():
            started = time.perf_counter()
            self._with_progress(f"CREATE INDEX ON {self.table} {how}", f"  PostgreSQL index: {name}")
            self.timings[name] = time.perf_counter() - started
        started = time.perf_counter()
        run(conn.execute(f"VACUUM ANALYZE {self.table}"))
        self.timings["vacuum analyze"] = time.perf_counter() - started
        self.size_bytes = int(run(conn.fetchval("SELECT pg_total_relation_size($1::regclass)", self.table)))

    def _trigram(self) -> bool:
        run, conn = self._run, self.conn
        if not run(conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")):
            try:
                run(conn.execute("CREATE EXTENSION pg_trgm"))
            except Exception as exc:
                print(f"  pg_trgm is not available ({type(exc).__name__}): typo queries run as plain full-text")
                return False
            print("  created the pg_trgm extension in this database (it stays after the run)")
        # the default 0.6 misses one-letter typos of short words (labtop ~ laptop scores 0.57)
        run(conn.execute(f"SET pg_trgm.word_similarity_threshold = {TRIGRAM_THRESHOLD}"))
        return True

    def _with_progress(self, statement: str, label: str) -> None:
        """Run a CREATE INDEX while a second connection follows pg_stat_progress_create_index in a bar."""
        import asyncpg

        async def build() -> None:
            watcher = await asyncpg.connect(self.dsn, timeout=10)
            pid = self.conn.get_server_pid()
            task = asyncio.ensure_future(self.conn.execute(statement))
            with tqdm(total=100, desc=label, unit="%", mininterval=0.5, leave=False) as bar:
                try:
                    while not task.done():
                        await asyncio.wait({task}, timeout=0.5)
                        done, total = await watcher.fetchrow(
                            "SELECT coalesce(blocks_done, 0), coalesce(blocks_total, 0) "
                            "FROM pg_stat_progress_create_index WHERE pid = $1", pid) or (0, 0)
                        if total:
                            bar.n = min(100, round(100 * done / total))
                            bar.set_postfix_str(f"{done}/{total} blocks", refresh=True)
                finally:
                    await watcher.close()
            await task

        self._run(build())

    def search(self, query: BenchQuery) -> int:
        request = SearchRequest.from_params(**query.params)
        sql, args = search_sql(self.table, request, trigram=self.trigram and query.kind == "typo")
        record = self._run(self.conn.fetchrow(sql, *args))
        return int(record["total"])

    def drop(self) -> None:
        """Drop the table from a connection of its own (pg_trgm, once created, stays: others may use it). After
        Ctrl-C the benchmark's connection may be in the middle of a statement, so that backend (ours, by its pid)
        is ended first."""
        import asyncpg

        pid = None
        if self.conn is not None:
            pid = self.conn.get_server_pid()
            self.conn.terminate()
        self.loop.close()

        async def clean() -> None:
            conn = await asyncpg.connect(self.dsn, timeout=10)
            try:
                if pid is not None:
                    await conn.execute("SELECT pg_terminate_backend($1)", pid)
                await conn.execute(f"DROP TABLE IF EXISTS {self.table}")
            finally:
                await conn.close()

        asyncio.run(clean())
