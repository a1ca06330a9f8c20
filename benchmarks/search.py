"""`python -m benchmarks.search [--products N] [--quick]` (`make bench-search`): product search at scale, one run.

1. The catalog: var/catalog/products-N.parquet (pipelines/large_catalog.py makes it when missing).
2. A tantivy index of it built with SearchIndex (upsert in batches, one commit): build time and size on disk.
3. A fixed mixed query set (benchmarks/search_queries.py), every query with all four facets: latency p50/p99
   per kind inside the process, calling SearchIndex.search as the `search` deployment does, one at a time.
4. The same queries through HTTP: the real Serve app over that index, 16 concurrent clients, the client's time
   and the deployment's own `took_ms`.
5. The baseline in the same run: PostgreSQL full-text search (benchmarks/search_postgres.py) over the same
   documents, one query at a time, in rounds alternating with tantivy's so both see the same noise; skipped
   when PostgreSQL does not answer. Printed as the ratio PG / tantivy.

The target: p99 under 30 ms inside the deployment at 1,000,000 products, with facets. Everything it starts
(redis-server, Ray, Serve, its PostgreSQL table) is stopped or dropped on the way out, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.core import cpu_speed, machine
from benchmarks.search_queries import BenchQuery, Timings, resolve, run_passes
from benchmarks.search_report import baseline_table, latency_table, per_query, save
from config import Settings
from domain.search import SearchRequest
from pipelines import large_catalog
from search.documents import product_document
from search.index import VERSION_FILE, SearchIndex
from search.schema import SCHEMA_VERSION

RESULTS_DIR = Path(__file__).with_name("results")
TARGET_P99_MS = 30.0
TARGET_RATE, TARGET_HTTP_P99_MS = 200, 200.0  # searches/s at 16 clients through HTTP, and their p99


def catalog_file(products: int, given: Path | None) -> Path:
    path = given or Path("var/catalog") / f"products-{products}.parquet"
    if path.exists():
        print(f"catalog: {path} ({large_catalog.count(path):,} products, made earlier)", flush=True)
        return path
    started = time.perf_counter()
    large_catalog.write_catalog(path, products)
    print(f"catalog: generated {products:,} products into {path} in {time.perf_counter() - started:.0f}s", flush=True)
    return path


def documents(path: Path, desc: str = "") -> Iterator[list[dict[str, Any]]]:
    """The catalog as index documents (what the indexer makes of each product), in batches; a bar when `desc`."""
    names = {c["id"]: c["name"] for c in large_catalog.categories(path)}
    with tqdm(total=large_catalog.count(path), desc=desc, unit="doc", mininterval=0.5, disable=not desc) as bar:
        for batch in large_catalog.read_catalog(path):
            yield [product_document(**row, category_names=[names[c] for c in row["category_path"]])
                   for row in batch]
            bar.update(len(batch))


def build_index(catalog: Path, index_dir: Path, reuse: bool) -> dict[str, Any]:
    if reuse and (index_dir / VERSION_FILE).exists() and \
            (index_dir / VERSION_FILE).read_text().strip() == SCHEMA_VERSION:  # else open() would empty it
        index = SearchIndex.open(index_dir)
        print(f"index: reusing {index_dir} ({index.num_docs():,} documents; build time not measured)", flush=True)
        return {"reused": True, "docs": index.num_docs(), "bytes": disk_bytes(index_dir)}
    shutil.rmtree(index_dir, ignore_errors=True)
    index = SearchIndex.open(index_dir)
    started = time.perf_counter()
    convert = upsert = 0.0
    batches = documents(catalog, "  tantivy: index build")
    while True:
        began = time.perf_counter()
        docs = next(batches, None)
        convert += time.perf_counter() - began
        if docs is None:
            break
        began = time.perf_counter()
        index.upsert(docs)
        upsert += time.perf_counter() - began
    began = time.perf_counter()
    index.commit()
    index.close()  # waits for the merges, releases the writer lock for the readers of the HTTP stage
    commit = time.perf_counter() - began
    seconds = time.perf_counter() - started
    figures = {"reused": False, "docs": index.num_docs(), "seconds": seconds, "documents_seconds": convert,
               "upsert_seconds": upsert, "commit_seconds": commit, "bytes": disk_bytes(index_dir)}
    print(f"index: {figures['docs']:,} documents in {seconds:.1f}s ({figures['docs'] / seconds:,.0f} docs/s: "
          f"product_document {convert:.1f}s, upsert {upsert:.1f}s, commit + merges {commit:.1f}s); "
          f"{figures['bytes'] / 2**20:,.0f} MiB on disk at {index_dir}", flush=True)
    return figures


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def in_process(index: SearchIndex) -> Any:
    def run(query: BenchQuery) -> int:
        return int(index.search(SearchRequest.from_params(**query.params))["total"])

    return run


def compare(queries: list[BenchQuery], index: SearchIndex, pg: Any, rounds: int, tantivy_passes: int
            ) -> tuple[Timings, Timings | None]:
    """Warm both up, then alternate rounds: every query `tantivy_passes` times on tantivy, once on PostgreSQL."""
    run_passes("warm-up: tantivy", queries, 1, in_process(index))
    if pg:
        run_passes("warm-up: PostgreSQL", queries, 1, pg.search)
    tantivy, postgres = Timings(), Timings() if pg else None
    for r in range(1, rounds + 1):
        run_passes(f"round {r}/{rounds}: tantivy in-process", queries, tantivy_passes, in_process(index), tantivy)
        if pg:
            run_passes(f"round {r}/{rounds}: PostgreSQL", queries, 1, pg.search, postgres)
    return tantivy, postgres


def http_stage(queries: list[BenchQuery], index: SearchIndex, args: argparse.Namespace) -> dict[str, Any]:
    """The app as `make run` serves it: 1 client, then GET /healthz and searches at `args.clients` clients; with
    `args.cold` again in a second deployment that keeps nothing (search_cache_entries=0: every search counts)."""
    from benchmarks.search_http import HEALTHZ, measure

    clients, ingress = args.clients, "HAProxy" if args.haproxy else "Serve's default proxy"
    overrides = {"api_replicas": args.api_replicas} if args.api_replicas else {}
    print(f"\n== HTTP: the Serve app over the index behind {ingress}, GET /v1/search at 1 and {clients} clients, "
          f"GET /healthz at {clients} ==", flush=True)
    with deployed(queries, index, args.haproxy, overrides) as settings:
        port = settings.http_port
        one = measure(port, queries, 1, 2 * len(queries), warmup=len(queries), name="GET /v1/search, 1 client")
        noop = measure(port, [HEALTHZ], clients, args.per_client, warmup=5)
        many = measure(port, queries, clients, args.per_client)
    stages = [one, noop, many]
    if args.cold:
        print("\n== HTTP again, nothing kept: every search counted and searched (search_cache_entries=0) ==",
              flush=True)
        with deployed(queries, index, args.haproxy, {**overrides, "search_cache_entries": 0}) as cold_settings:
            cold = measure(cold_settings.http_port, queries, clients, args.per_client,
                           name=f"GET /v1/search, {clients} clients, nothing kept")
        stages.append(cold)
    for stage in stages:
        print(f"  {stage.summary()}", flush=True)
    errors: dict[int, int] = {}
    for stage in stages:
        for status, count in stage.errors.items():
            errors[status] = errors.get(status, 0) + count
    return {"one_e2e": one.e2e, "one_inside": one.inside, "e2e": many.e2e, "inside": many.inside, "noop": noop,
            "many": many, "cold": stages[3] if args.cold else None, "errors": errors, "ingress": ingress,
            "api_replicas": settings.api_replicas}


@contextmanager
def deployed(queries: list[BenchQuery], index: SearchIndex, haproxy: bool, overrides: dict[str, Any]
             ) -> Iterator[Settings]:
    """The Serve app over the index, once it answers the first query; warns when it sees another index."""
    from benchmarks.search_http import serve_app, total_of, wait_until

    with tempfile.TemporaryDirectory(prefix="bzs-") as tmp, \
            serve_app(Path(tmp), index.path, haproxy, **overrides) as settings:
        port, started = settings.http_port, time.perf_counter()
        wait_until(lambda: total_of(port, queries[0]) is not None, "GET /v1/search answers 200")
        total = total_of(port, queries[0]) or 0
        print(f"  the app answers ({queries[0].label!r}: {total:,} hits) {time.perf_counter() - started:.1f}s "
              f"after deploy; {settings.api_replicas} API replica(s), answers and counts kept: "
              f"{settings.search_cache_entries}", flush=True)
        expected = in_process(index)(queries[0])
        if total != expected:
            print(f"  WARNING: in-process the same query has {expected:,} hits: the Serve replica sees another index "
                  "(search/ changed since the build, say its SCHEMA_VERSION?)", flush=True)
        yield settings


def http_report(http: dict[str, Any]) -> list[str]:
    from benchmarks import cpu_budget

    noop, many, cold = http["noop"], http["many"], http["cold"]
    rate, p99 = many.rate, many.e2e.percentile(99)
    met = rate >= TARGET_RATE and p99 <= TARGET_HTTP_P99_MS
    lines = [f"HTTP behind {http['ingress']} ({http['api_replicas']} API replica(s)), {many.clients} concurrent "
             "clients, one keep-alive connection each; the query set repeats, so after the first pass every "
             "search is answered from what its replica kept (search/kept.py):",
             *[f"  {stage.summary()}" for stage in (noop, many, cold) if stage is not None],
             f"  search / no-op at {many.clients} clients: {rate / noop.rate:.2f}x the requests/s, "
             f"p50 {many.e2e.percentile(50) / noop.e2e.percentile(50):.1f}x, p99 {p99 / noop.e2e.percentile(99):.1f}x",
             f"target: >= {TARGET_RATE} searches/s at {many.clients} clients with p99 <= {TARGET_HTTP_P99_MS:.0f} ms "
             f"at this catalog: {rate:,.0f}/s, p99 {p99:.1f} ms -> {'MET' if met else 'NOT MET'}"]
    if cold is not None:
        cold_met = cold.rate >= TARGET_RATE and cold.e2e.percentile(99) <= TARGET_HTTP_P99_MS
        lines.append(f"  the same with nothing kept, every search counted and searched: {cold.rate:,.0f}/s, "
                     f"p99 {cold.e2e.percentile(99):.1f} ms -> {'met' if cold_met else 'not met'}")
    for stage in (noop, many, cold):
        if stage is not None:
            lines += ["", f"CPU per request by process, {stage.name} (this benchmark's process tree only):",
                      *cpu_budget.report(stage.cpu_rows, "request")]
    return lines


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, help="catalog size (default 1,000,000; --quick: 50,000)")
    parser.add_argument("--quick", action="store_true", help="a small catalog and fewer rounds, to iterate")
    parser.add_argument("--catalog", type=Path, help="a Parquet catalog (default var/catalog/products-N.parquet)")
    parser.add_argument("--index-dir", type=Path, help="where to build the index (default var/bench/search-N)")
    parser.add_argument("--reuse-index", action="store_true", help="search an index built by an earlier run")
    parser.add_argument("--rounds", type=int, help="alternating tantivy/PostgreSQL rounds (default 5; quick 2)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, help="HTTP requests per client and stage (default 100; quick 20)")
    parser.add_argument("--no-haproxy", dest="haproxy", action="store_false",
                        help="Serve's default proxy instead of HAProxy (which `make run` uses)")
    parser.add_argument("--api-replicas", type=int, help="API replicas (default: the setting)")
    parser.add_argument("--cold", action="store_true",
                        help="also measure 16 clients keeping nothing (search_cache_entries=0), in a second app")
    parser.add_argument("--postgres-dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args(argv)
    products = args.products or (50_000 if args.quick else 1_000_000)
    rounds = args.rounds or (2 if args.quick else 5)
    args.per_client = args.per_client or (20 if args.quick else 100)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C

    info = machine()
    print(f"Bazaar search benchmark{' (--quick)' if args.quick else ''}: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
          f"machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gib']} GiB, kernel {info['kernel']}, "
          f"python {info['python']}; load average at start " + " ".join(f"{x:.2f}" for x in info["loadavg"]),
          flush=True)
    info["cpu_speed_start"] = cpu_speed()
    started = time.perf_counter()
    figures: dict[str, Any] = {"machine": info, "products": products, "quick": args.quick, "rounds": rounds}
    pg = None
    try:
        catalog = catalog_file(products, args.catalog)
        queries = resolve(large_catalog.categories(catalog))
        index_dir = args.index_dir or Path("var/bench") / f"search-{products}"
        figures["index"] = build_index(catalog, index_dir, args.reuse_index)
        index = SearchIndex.open(index_dir, read_only=True)  # as the `search` deployment opens it
        http = None if args.no_http else http_stage(queries, index, args)
        pg = None if args.no_postgres else postgres_stage(args.postgres_dsn, catalog, figures)
        print(f"\n== {rounds} rounds, one query at a time: tantivy in-process (4 passes a round)"
              + (", PostgreSQL (1 pass a round)" if pg else "") + " ==", flush=True)
        tantivy, postgres = compare(queries, index, pg, rounds, tantivy_passes=4)
    except KeyboardInterrupt:
        print("\ninterrupted: Serve, Ray and redis-server stopped; the PostgreSQL table dropped", flush=True)
        return 130
    finally:
        if pg is not None:
            pg.drop()
    lines = ["", *latency_table(queries, tantivy, http, args.clients)]
    if http:
        lines += ["", *http_report(http)]
    lines += ["", *baseline_table(queries, tantivy, postgres), ""]
    p99 = tantivy.percentile(99)
    lines.append(f"target: p99 under {TARGET_P99_MS:.0f} ms inside the deployment at {products:,} products with "
                 f"facets: in-process p99 {p99:.1f} ms -> {'MET' if p99 < TARGET_P99_MS else 'NOT MET'}"
                 + (f"; took_ms p99 under {args.clients} concurrent clients {http['inside'].percentile(99):.1f} ms"
                    if http else ""))
    seen = http["e2e"].totals if http else {}
    differ = [q.label for q in queries if seen.get(q.label) not in (None, tantivy.totals[q.label])]
    if http:  # they differ when the Serve replica runs other search code than this process (edited meanwhile)
        lines.append(f"HTTP answers agree with the in-process totals: {'yes' if not differ else 'NO: ' + str(differ)}")
    lines += ["", *per_query(queries, tantivy, postgres)]
    elapsed = time.perf_counter() - started
    info["cpu_speed_end"] = cpu_speed()
    lines.append(f"\nwall time {elapsed:.0f}s; load average at end "
                 + " ".join(f"{x:.2f}" for x in os.getloadavg())
                 + f"; pure-Python speed {info['cpu_speed_start']:.1f} at start, {info['cpu_speed_end']:.1f} at end "
                 "(M loop steps/s, higher = quieter machine)")
    print("\n".join(lines), flush=True)
    figures.update(tantivy=tantivy, postgres=postgres, http=http)
    name = time.strftime("search-%Y%m%d-%H%M%S") + ("-quick" if args.quick else "") + ".json"
    save(RESULTS_DIR / name, figures)
    print(f"figures saved to {RESULTS_DIR / name}")
    return 1 if http and (http["errors"] or differ) else 0


def postgres_stage(dsn: str, catalog: Path, figures: dict[str, Any]) -> Any:
    from benchmarks.search_postgres import PostgresSearch

    print("\n== PostgreSQL full-text search baseline: load and index ==", flush=True)
    reason = PostgresSearch.unavailable(dsn)
    if reason:
        print(f"  skipped: {reason}", flush=True)
        return None
    pg = PostgresSearch(dsn)
    pg.connect()
    pg.load(documents(catalog), large_catalog.count(catalog))  # pg.load shows the bar
    database = sum(v for k, v in pg.timings.items() if k != "documents")
    print(f"  PostgreSQL {pg.version}: COPY and indexes {database:.0f}s (" + ", ".join(
        f"{k} {v:.1f}s" for k, v in pg.timings.items() if k != "documents") + f"; plus {pg.timings['documents']:.0f}s "
        f"making the documents in Python); table + indexes {pg.size_bytes / 2**20:,.0f} MiB; "
        f"typo queries: {'pg_trgm word_similarity on the name' if pg.trigram else 'plain full-text (no pg_trgm)'}",
        flush=True)
    figures["postgres_load"] = {"version": pg.version, "seconds": pg.timings, "bytes": pg.size_bytes,
                                "trigram": pg.trigram}
    return pg


if __name__ == "__main__":
    raise SystemExit(main())
