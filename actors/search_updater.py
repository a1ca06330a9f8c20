"""Applies catalog changes to the search index, rewriting a product only when what the index shows of it changed.

- A listing change (created, updated, price, status, rating) rewrites the product at once.
- A stock movement (an order sells units, a reservation expires, a seller adjusts) rewrites it only when its
  in-stock state flips. Usually it does not: the variants the event moved still have units and the index already
  says "in stock", which two small Redis reads tell without reading the product.
- Units ordered (`order.created`) are a ranking signal, not a ledger: they are added up here per variant and
  counted into the popularity of their products by `count_popularity()`, which the indexer calls at most every
  `search_popularity_seconds`. So a product sold a hundred times in that period is rewritten once, not a hundred
  times. The order entries are acknowledged only after that count is committed, so a crash loses none of them
  (at least once: a crash between the count and the acknowledgement may count an order twice).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from actors.search_feed import CatalogFeed, Documents, Entry, touched
from search.index import SearchIndex


@dataclass
class Staged:
    """What `apply` or `count_popularity` did: documents staged (visible after the next commit) and the entries
    that may be acknowledged once that commit is done."""

    documents: int
    done: list[str]


class IndexUpdater:
    """One per index directory (it holds the tantivy writer); its lock keeps a rebuild and incremental changes
    from interleaving, so an older read never overwrites a newer one."""

    REBUILD_PAGE = 1000

    def __init__(self, index: SearchIndex, feed: CatalogFeed) -> None:
        self.index = index
        self.feed = feed
        # product_id -> in stock, as this process last wrote it (or found it in the index); the index answers
        # for products not in here
        self.in_stock: dict[str, bool] = {}
        self.ordered: dict[str, int] = defaultdict(int)  # variant_id -> units ordered, not yet counted
        self.order_entries: list[str] = []  # the entries those units came from, unacknowledged until counted
        self.lock = asyncio.Lock()
        self.upserted = 0  # documents written by incremental changes and rebuilds
        self.deleted = 0
        self.stock_flips = 0  # products rewritten because their in-stock state flipped
        self.popularity_counts = 0  # count_popularity() calls that counted something
        self.popularity_upserted = 0  # products rewritten for their popularity

    @property
    def popularity_pending(self) -> int:
        """Order entries whose units are not counted yet."""
        return len(self.order_entries)

    async def apply(self, entries: list[Entry]) -> Staged:
        """Stage the index changes of these entries. Units ordered wait for `count_popularity`."""
        work = touched(entries)
        for variant_id, units in work.ordered.items():
            self.ordered[variant_id] += units
        self.order_entries += work.order_entries
        waiting = set(work.order_entries)
        done = [entry_id for entry_id, _ in entries if entry_id not in waiting]
        if not (work.products or work.stock_variants or work.categories):
            return Staged(0, done)
        async with self.lock:
            if work.categories:
                await self.feed.refresh_categories()
            docs = await self.feed.documents(work.products)
            flipped = await self._stock_flips(work.stock_variants, skip=work.products)
            docs.upserts += flipped.upserts
            docs.deletes += flipped.deletes
            docs.in_stock.update(flipped.in_stock)
            self.stock_flips += len(flipped.in_stock)
            return Staged(await self._write_staged(docs), done)

    async def count_popularity(self) -> Staged:
        """Add the units ordered so far to their products' popularity and stage those products' documents."""
        if not self.order_entries:
            return Staged(0, [])
        ordered, self.ordered = self.ordered, defaultdict(int)
        done, self.order_entries = self.order_entries, []
        async with self.lock:
            products = await self.feed.count_orders(ordered)
            docs = await self.feed.documents(products)
            self.popularity_counts += 1
            self.popularity_upserted += len(docs.upserts)
            return Staged(await self._write_staged(docs), done)

    def forget(self) -> None:
        """After a failed batch: the unacknowledged entries will be read again, so drop what they left here, and
        trust only the committed index for in-stock states (what was staged may never be committed)."""
        self.in_stock.clear()
        self.ordered.clear()
        self.order_entries.clear()

    async def commit(self) -> None:
        async with self.lock:
            await asyncio.to_thread(self.index.commit)

    async def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """The index made again from every stored product, committed at the end (searchers see the old one until
        then). Returns how many products are searchable."""
        async with self.lock:
            # a product the store no longer has must go too; tantivy's delete-all mangles operations staged
            # before it (they are lost or outlive it), so whatever is staged is committed first
            await asyncio.to_thread(self._clear)
            self.in_stock.clear()  # the index answers from now on
            indexed = 0
            async for page in self.feed.pages(self.REBUILD_PAGE):
                docs = await self.feed.documents_of(page)
                await asyncio.to_thread(self._write, docs)
                indexed += len(docs.upserts)
                if progress is not None:
                    progress(len(page))
            await asyncio.to_thread(self.index.commit)
            return indexed

    async def _stock_flips(self, variant_ids: set[str], skip: set[str]) -> Documents:
        """The documents of the products whose in-stock state flipped with these variants' stock movements."""
        owners = await self.feed.products_of(variant_ids)
        owners = {v: p for v, p in owners.items() if p not in skip}
        if not owners:
            return Documents()
        available = await self.feed.available(owners)
        moved: dict[str, bool] = {}  # product -> a moved variant has units (then the product is in stock)
        for variant_id, product_id in owners.items():
            moved[product_id] = moved.get(product_id, False) or available.get(variant_id, 0) > 0
        unknown = [p for p in moved if p not in self.in_stock]
        if unknown:
            self.in_stock.update(await asyncio.to_thread(self.index.in_stock_of, unknown))
        # in stock and a moved variant has units: still in stock. Out of stock and none has: still out. A product
        # the index does not hold (not active) has nothing to flip.
        doubtful = {p for p, has_units in moved.items() if p in self.in_stock and self.in_stock[p] != has_units}
        docs = await self.feed.documents(doubtful)
        flipped = {p for p in doubtful if docs.in_stock.get(p) != self.in_stock.get(p)}
        return Documents([d for d in docs.upserts if d["product_id"] in flipped],
                         [p for p in docs.deletes if p in flipped],
                         {p: state for p, state in docs.in_stock.items() if p in flipped})

    async def _write_staged(self, docs: Documents) -> int:
        await asyncio.to_thread(self._write, docs)
        self.in_stock.update({d["product_id"]: docs.in_stock[d["product_id"]] for d in docs.upserts})
        for product_id in docs.deletes:
            self.in_stock.pop(product_id, None)
        return len(docs.upserts) + len(docs.deletes)

    def _clear(self) -> None:
        self.index.commit()
        self.index.delete_all()

    def _write(self, docs: Documents) -> None:
        if docs.deletes:
            self.index.delete(docs.deletes)
            self.deleted += len(docs.deletes)
        if docs.upserts:
            self.index.upsert(docs.upserts)
            self.upserted += len(docs.upserts)
