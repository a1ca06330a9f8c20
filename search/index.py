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
from search.facets import FACETS, aggregations, facet_groups, read_facets
from search.hits import Highlighter, hit
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
    def __init__(self, index: tantivy.Index, path: Path, writer_memory: int, writer_threads: int,
                 facet_threads: int, read_only: bool = False) -> None:
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
        # the facets of the whole catalog (no text, no filter: the landing page) for the snapshot of `_version`
        self._version = 0
        self._catalog_facets: tuple[int, dict[str, Any]] | None = None

    @classmethod
    def open(cls, path: Path, *, writer_memory: int = 128_000_000, writer_threads: int = 0,
             facet_threads: int = 1, read_only: bool = False) -> SearchIndex:
        """Open the index at `path`, creating the directory and an empty index when missing. `facet_threads`
        count facets beside the thread that searches (0: all in the caller's thread). Only the writer
        (`read_only=False`) replaces an index of an older layout; a reader never removes or marks anything."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        marker = path / VERSION_FILE
        current = marker.read_text().strip() if marker.exists() else None
        if not read_only and current != SCHEMA_VERSION and tantivy.Index.exists(str(path)):
            _remove_index_files(path)
        index = tantivy.Index(build_schema(), str(path), reuse=True)
        register_analyzers(index)
        index.config_reader("manual")
        if not read_only and current != SCHEMA_VERSION:
            marker.write_text(SCHEMA_VERSION + "\n")
        return cls(index, path, writer_memory, writer_threads, facet_threads, read_only)

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
    def reload(self) -> None:
        """Pick up what the writer committed since the last reload."""
        self._index.reload()
        self._version += 1

    def num_docs(self) -> int:
        return int(self._index.searcher().num_docs)

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """One page of hits, the total and the facets, all from one snapshot of the index."""
        version = self._version  # read first: if a reload comes between, the memo below is only counted again
        searcher = self._index.searcher()
        text = self._builder.text_query(request.text, searcher)
        facets = self._count_facets(searcher, version, request, text)
        result = self._page(searcher, request, text)
        if result.count == 0 and text is not None and text.words > 1:
            # no product has every word: rather show those with all but one of them, best first
            relaxed = self._builder.text_query(request.text, searcher, relaxed=True)
            relaxed_result = self._page(searcher, request, relaxed)
            if relaxed_result.count:
                text, result = relaxed, relaxed_result
                facets = self._count_facets(searcher, version, request, text)
        highlighter = Highlighter(searcher, text.query, self._schema) if text is not None and result.hits else None
        hits = [hit(searcher.doc(address), highlighter) for _, address in result.hits]
        counted: dict[str, list[dict[str, Any]]] = {}
        for group in facets:
            counted.update(read_facets(group.result()))
        return {"total": int(result.count or 0), "page": request.page, "page_size": request.page_size, "hits": hits,
                "facets": {name: counted[name] for name in ("categories", "brands", "price_ranges", "ratings")}}

    def suggest(self, prefix: str, limit: int = 10) -> list[str]:
        """Completions of what the shopper has typed so far: brands, categories, tags and words of names, the
        most common first, then (from three characters on) product names; each at most once."""
        key = suggest_key(prefix)[:SUGGEST_PREFIX_MAX]
        limit = min(limit, SUGGEST_LIMIT_MAX)
        if not key or limit < 1:
            return []
        searcher = self._index.searcher()
        fields = [SUGGEST_FIELD] if len(key) < NAME_PREFIX_MIN else [SUGGEST_FIELD, SUGGEST_NAME_FIELD]
        found: dict[str, str] = {}
        for field in fields:
            for term, _count in searcher.terms_with_prefix(field, key, limit=limit * 4):
                term_key, _, shown = term.partition(SUGGEST_SEPARATOR)
                found.setdefault(term_key, shown or term_key)
                if len(found) == limit:
                    return list(found.values())
        return list(found.values())

    def _page(self, searcher: tantivy.Searcher, request: SearchRequest, text: TextQuery | None) -> Any:
        offset = (request.page - 1) * request.page_size
        if text is not None and request.sort == "relevance":
            scored = combine(text, self._builder.filters(request), scored=True)
            return searcher.search(scored, request.page_size, count=True, offset=offset)
        query = combine(text, self._builder.filters(request))
        field, descending = SORT_FIELDS[request.sort]
        order = tantivy.Order.Desc if descending else tantivy.Order.Asc
        return searcher.search(query, request.page_size, count=True, offset=offset, order_by_field=field,
                               order=order)

    def _count_facets(self, searcher: tantivy.Searcher, version: int, request: SearchRequest,
                      text: TextQuery | None) -> list[Future[dict[str, Any]]]:
        """Start one aggregation per facet group (see facets.facet_groups); their results come as futures."""
        groups: list[Future[dict[str, Any]]] = []
        if text is None and not self._builder.filters(request):
            return [self._facet_pool_or_now(self._whole_catalog_facets, searcher, version)]
        for without, names in facet_groups(request):
            scope = combine(text, self._builder.filters(request, without))
            groups.append(self._facet_pool_or_now(searcher.aggregate, scope, aggregations(names)))
        return groups

    def _facet_pool_or_now(self, count: Callable[..., dict[str, Any]], *args: Any) -> Future[dict[str, Any]]:
        if self._facet_pool is not None:
            return self._facet_pool.submit(count, *args)
        done: Future[dict[str, Any]] = Future()
        done.set_result(count(*args))
        return done

    def _whole_catalog_facets(self, searcher: tantivy.Searcher, version: int) -> dict[str, Any]:
        """Counted once per snapshot: the same for every visitor until the next reload."""
        counted, memo = self._catalog_facets or (-1, {})
        if counted != version:
            memo = searcher.aggregate(tantivy.Query.all_query(), aggregations(tuple(FACETS)))
            self._catalog_facets = (version, memo)
        return memo


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
