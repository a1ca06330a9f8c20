"""The product search index on disk: one writer process keeps it in step with the catalog, readers search it.

Only the indexer calls `upsert`, `delete` and `commit` (tantivy allows one writer per index directory); a reader
sees new commits after `reload()`. A search reads one snapshot (a searcher) for its hits, total and facets, so
they always agree. An index of an older layout (another SCHEMA_VERSION) is emptied on open; the indexer then
finds it empty and rebuilds it from the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tantivy

from domain.search import SearchRequest
from search.documents import suggest_key
from search.facets import aggregations, facet_groups, read_facets
from search.hits import Highlighter, hit
from search.kept import Counts, SnapshotCache, scope
from search.query_builder import QueryBuilder, TextQuery, combine
from search.schema import (
    FIELD_BOOSTS,
    FLOAT_FIELDS,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    MATCH_FIELD,
    PAYLOAD_FIELD,
    SCHEMA_VERSION,
    SORT_FIELDS,
    SUGGEST_FIELD,
    SUGGEST_NAME_FIELD,
    SUGGEST_SEPARATOR,
    build_schema,
    register_analyzers,
)

VERSION_FILE = "bazaar-search-version"
INDEX_FILES = frozenset({"meta.json", ".managed.json", ".tantivy-meta.lock", ".tantivy-writer.lock"})
SEGMENT_SUFFIXES = frozenset({".idx", ".pos", ".term", ".store", ".fast", ".fieldnorm", ".del"})
SUGGEST_LIMIT_MAX = 50
SUGGEST_PREFIX_MAX = 64
NAME_PREFIX_MIN = 3  # whole product names are offered from this many characters on


class SearchIndex:
    def __init__(self, index: tantivy.Index, path: Path, stamp: tuple[int, ...] | None, writer_memory: int,
                 writer_threads: int, facet_threads: int, cache_entries: int, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._index = index
        self._schema = index.schema
        self._builder = QueryBuilder(self._schema)
        self._writer: tantivy.IndexWriter | None = None
        self._writer_memory = writer_memory
        self._writer_threads = writer_threads
        # tantivy releases the GIL, so facets are counted on other cores while this thread finds the page
        self._facet_pool = ThreadPoolExecutor(facet_threads, "facets") if facet_threads > 0 else None
        # the searcher of the last reload and its number, swapped together, so a search reads one snapshot
        self._snapshot: tuple[int, tantivy.Searcher] = (0, index.searcher())
        self._stamp = stamp  # meta.json as it was when that snapshot was taken
        self.cache = SnapshotCache(cache_entries)

    @classmethod
    def open(cls, path: Path, *, writer_memory: int = 128_000_000, writer_threads: int = 0,
             facet_threads: int = 1, cache_entries: int = 0, read_only: bool = False) -> SearchIndex:
        """Open the index at `path`, creating the directory and an empty index when missing. `facet_threads`
        count facets beside the thread that searches (0: all in the caller's thread); `cache_entries` keeps that
        many answers and counts per snapshot (search/kept.py). Only the writer (`read_only=False`) replaces
        an index of an older layout; a reader never removes or marks anything."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        marker = path / VERSION_FILE
        current = marker.read_text().strip() if marker.exists() else None
        if not read_only and current != SCHEMA_VERSION and tantivy.Index.exists(str(path)):
            _remove_index_files(path)
        stamp = _meta_stamp(path)  # before the index is read: a commit in between is picked up by the next reload
        index = tantivy.Index(build_schema(), str(path), reuse=True)
        register_analyzers(index)
        index.config_reader("manual")
        if not read_only and current != SCHEMA_VERSION:
            marker.write_text(SCHEMA_VERSION + "\n")
        return cls(index, path, stamp, writer_memory, writer_threads, facet_threads, cache_entries, read_only)

    # -- writing (the indexer only) ---------------------------------------------------------------------
    def upsert(self, docs: list[dict[str, Any]]) -> None:
        """Add products or replace their previous version (by product_id); visible after `commit`."""
        writer = self._writer_or_open()
        for fields in docs:
            writer.delete_documents_by_term("product_id", fields["product_id"])
            writer.add_document(to_document(fields))

    def delete(self, product_ids: list[str]) -> None:
        writer = self._writer_or_open()
        for product_id in product_ids:
            writer.delete_documents_by_term("product_id", product_id)

    def delete_all(self) -> None:
        """Drop every document, including upserts not yet committed (tantivy's rule): a rebuild commits what
        it wants kept first, or calls this before its upserts."""
        self._writer_or_open().delete_all_documents()

    def commit(self) -> None:
        """Make every upsert and delete so far durable and searchable (here at once, elsewhere on reload)."""
        self._writer_or_open().commit()
        self.reload()

    def close(self) -> None:
        """Let pending merges finish and release the writer's lock on the directory."""
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    def _writer_or_open(self) -> tantivy.IndexWriter:
        if self.read_only:
            raise RuntimeError("this SearchIndex was opened read-only; only the indexer writes")
        if self._writer is None:
            self._writer = self._index.writer(self._writer_memory, self._writer_threads)
        return self._writer

    # -- reading ----------------------------------------------------------------------------------------
    def stale(self) -> bool:
        """Whether the writer committed since the last reload (every commit replaces meta.json): one stat call."""
        return _meta_stamp(self.path) != self._stamp or self._stamp is None

    def reload(self) -> bool:
        """Pick up what the writer committed since the last reload; False when it committed nothing since, which
        keeps the snapshot and what was kept for it."""
        stamp = _meta_stamp(self.path)
        if stamp == self._stamp and stamp is not None:
            return False
        self._index.reload()
        self._snapshot = (self._snapshot[0] + 1, self._index.searcher())
        self._stamp = stamp
        return True

    def num_docs(self) -> int:
        return int(self._snapshot[1].num_docs)

    def in_stock_of(self, product_ids: list[str]) -> dict[str, bool]:
        """product_id -> whether its document says "in stock", for the products the last reload holds."""
        searcher = self._snapshot[1]
        found: dict[str, bool] = {}
        for product_id in product_ids:
            result = searcher.search(tantivy.Query.term_query(self._schema, "product_id", product_id), 1)
            if result.hits:
                found[product_id] = bool(hit(searcher.doc(result.hits[0][1]), None)["in_stock"])
        return found

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """One page of hits, the total and the facets, all from one snapshot of the index."""
        version, searcher = self._snapshot
        answer = self.cache.answers.get(version, request)
        if answer is not None:  # asked exactly so before on this snapshot
            return dict(answer)  # the caller may add to its copy; what is inside is shared, never changed
        key = scope(request)
        counts = self.cache.counts.get(version, key)
        if counts is not None:  # counted before on this snapshot: only the page is searched
            text = self._builder.text_query(request.text, searcher, relaxed=counts.relaxed)
            result = self._page(searcher, request, text, count=False)
        else:
            text, result, counts = self._count(searcher, request)
            self.cache.counts.put(version, key, counts)
        highlighter = Highlighter(searcher, text.query, self._schema) if text is not None and result.hits else None
        hits = [hit(searcher.doc(address), highlighter) for _, address in result.hits]
        answer = {"total": counts.total, "page": request.page, "page_size": request.page_size, "hits": hits,
                  "facets": counts.facets}
        self.cache.answers.put(version, request, answer)
        return dict(answer)

    def _count(self, searcher: tantivy.Searcher, request: SearchRequest) -> tuple[TextQuery | None, Any, Counts]:
        """The page, with the total and the facets counted beside it."""
        text = self._builder.text_query(request.text, searcher)
        facets = self._count_facets(searcher, request, text)
        result = self._page(searcher, request, text)
        if result.count == 0 and text is not None and text.words > 1:
            # no product has every word: rather show those with all but one of them, best first
            relaxed = self._builder.text_query(request.text, searcher, relaxed=True)
            relaxed_result = self._page(searcher, request, relaxed)
            if relaxed_result.count:
                text, result = relaxed, relaxed_result
                facets = self._count_facets(searcher, request, text)
        counted: dict[str, list[dict[str, Any]]] = {}
        for group in facets:
            counted.update(read_facets(group.result()))
        ordered = {name: counted[name] for name in ("categories", "brands", "price_ranges", "ratings")}
        return text, result, Counts(int(result.count or 0), ordered, bool(text and text.relaxed))

    def suggest(self, prefix: str, limit: int = 10) -> list[str]:
        """Completions of what the shopper has typed so far: brands, categories, tags and words of names, the
        most common first, then (from three characters on) product names; each at most once."""
        key = suggest_key(prefix)[:SUGGEST_PREFIX_MAX]
        limit = min(limit, SUGGEST_LIMIT_MAX)
        if not key or limit < 1:
            return []
        searcher = self._snapshot[1]
        fields = [SUGGEST_FIELD] if len(key) < NAME_PREFIX_MIN else [SUGGEST_FIELD, SUGGEST_NAME_FIELD]
        found: dict[str, str] = {}
        for field in fields:
            for term, _count in searcher.terms_with_prefix(field, key, limit=limit * 4):
                term_key, _, shown = term.partition(SUGGEST_SEPARATOR)
                found.setdefault(term_key, shown or term_key)
                if len(found) == limit:
                    return list(found.values())
        return list(found.values())

    def _page(self, searcher: tantivy.Searcher, request: SearchRequest, text: TextQuery | None,
              count: bool = True) -> Any:
        offset = (request.page - 1) * request.page_size
        if text is not None and request.sort == "relevance":
            scored = combine(text, self._builder.filters(request), scored=True)
            return searcher.search(scored, request.page_size, count=count, offset=offset)
        query = combine(text, self._builder.filters(request))
        field, descending = SORT_FIELDS[request.sort]
        order = tantivy.Order.Desc if descending else tantivy.Order.Asc
        return searcher.search(query, request.page_size, count=count, offset=offset, order_by_field=field,
                               order=order)

    def _count_facets(self, searcher: tantivy.Searcher, request: SearchRequest,
                      text: TextQuery | None) -> list[Future[dict[str, Any]]]:
        """Start one aggregation per facet group (see facets.facet_groups); their results come as futures."""
        groups: list[Future[dict[str, Any]]] = []
        for without, names in facet_groups(request):
            scope_query = combine(text, self._builder.filters(request, without))
            groups.append(self._facet_pool_or_now(searcher.aggregate, scope_query, aggregations(names)))
        return groups

    def _facet_pool_or_now(self, count: Callable[..., dict[str, Any]], *args: Any) -> Future[dict[str, Any]]:
        if self._facet_pool is not None:
            return self._facet_pool.submit(count, *args)
        done: Future[dict[str, Any]] = Future()
        done.set_result(count(*args))
        return done


def _meta_stamp(path: Path) -> tuple[int, ...] | None:
    """Which meta.json the directory holds: tantivy replaces the file (a new inode) on every commit."""
    try:
        info = (path / "meta.json").stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _remove_index_files(path: Path) -> None:
    """Empty an index directory of tantivy's files only (never anything else a misconfigured path holds)."""
    for file in path.iterdir():
        if file.is_file() and (file.name in INDEX_FILES or file.suffix in SEGMENT_SUFFIXES):
            file.unlink()


def to_document(fields: dict[str, Any]) -> tantivy.Document:
    """A tantivy document from `product_document`'s fields."""
    doc = tantivy.Document()
    for name in (*FIELD_BOOSTS, *KEYWORD_FIELDS, SUGGEST_FIELD, SUGGEST_NAME_FIELD):
        value = fields.get(name)
        for text in [value] if isinstance(value, str) else value or []:
            if text:
                doc.add_text(name, str(text))
                if name in FIELD_BOOSTS:
                    doc.add_text(MATCH_FIELD, str(text))
    for name in INTEGER_FIELDS:
        doc.add_integer(name, int(fields.get(name) or 0))
    for name in FLOAT_FIELDS:
        doc.add_float(name, float(fields.get(name) or 0.0))
    doc.add_bytes(PAYLOAD_FIELD, json.dumps(fields["payload"], separators=(",", ":")).encode())
    return doc
