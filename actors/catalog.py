"""The catalog actor: the single writer of categories and products, and the browse index over them.

It holds the whole catalog in memory (loaded from Redis at start) so a listing page is one call. Stock for new
variants is created on the inventory shards *before* the catalog write: a product is never listed without its
stock records, and a failed catalog write leaves only unreferenced (harmless, idempotent) stock records.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from actors import keys
from actors.routing import Router
from actors.shard import ShardActor
from actors.store import Changes, load_hash
from config import Settings
from domain.catalog import CatalogUser, Product, ensure_visible, initial_stock, listing_statuses, new_product
from domain.catalog_index import PAGE_SIZE_DEFAULT, ProductIndex, ProductQuery
from domain.catalog_patch import ProductUpdate, added_variants, patched, rated
from domain.categories import Category, CategoryTree
from domain.clock import now_iso
from domain.errors import Conflict, Forbidden, NotFound
from domain.ids import new_id


class CatalogActor(ShardActor):
    kind = "catalog"

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.categories = CategoryTree()
        self.products: dict[str, Product] = {}
        self.variant_owner: dict[str, str] = {}  # variant_id -> product_id
        self.index = ProductIndex()
        self.seeded_at: str | None = None
        self.router = Router(settings)
        self.suspended_sellers: set[str] = set()  # the sellers whose products are marked suspended
        self.suspended_now: set[str] = set()  # keys.SUSPENDED_SELLERS as last read: who may not list
        self.tick_seconds = settings.seller_standing_sync_seconds
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        self.categories = CategoryTree(Category.from_dict(d) for d in load_hash(client, keys.CATEGORIES).values())
        self.products = {pid: Product.from_dict(d) for pid, d in load_hash(client, keys.PRODUCTS).items()}
        self.variant_owner = {v.id: p.id for p in self.products.values() for v in p.variants}
        self.index = ProductIndex(self.products.values())
        self.suspended_sellers = {p.seller_id for p in self.products.values() if p.seller_suspended and p.seller_id}
        self.suspended_now = set(client.hkeys(keys.SUSPENDED_SELLERS))
        self.seeded_at = client.hget(keys.SYSTEM, "seeded")

    # -- categories -------------------------------------------------------------------------------------
    async def category_tree(self) -> list[dict[str, Any]]:
        return self.categories.tree()

    async def create_category(self, name: str, parent_id: str | None = None, slug: str | None = None
                              ) -> dict[str, Any]:
        def command(changes: Changes) -> dict[str, Any]:
            category = self.categories.new_category(name, parent_id, now_iso(), slug)
            self.categories.add(category)
            changes.hset(keys.CATEGORIES, category.id, category.to_dict())
            changes.emit("category.created", category_id=category.id, name=category.name, slug=category.slug,
                         parent_id=category.parent_id)
            return category.to_dict()

        return await self.submit(command)

    # -- listing products -------------------------------------------------------------------------------
    async def create_product(self, spec: dict[str, Any], seller_id: str | None = None) -> dict[str, Any]:
        """List one product (a seller's when `seller_id` is set, else the shop's own) with its initial stock."""
        self._refuse_suspended(seller_id)
        product = new_product(spec, seller_id, now_iso(), self.categories, currency=self.settings.currency)
        await self._create_stock(initial_stock(spec["variants"], product.variants), seller_id)
        created = await self.submit(lambda changes: self._insert([product], changes))
        return created[0].to_dict()

    async def create_products(self, specs: list[dict[str, Any]], seller_id: str | None = None) -> list[str]:
        """Many products in one call and one transaction (the demo seed). A spec may name its product `id`
        and its variants' `id`s; a product whose id already exists is skipped, so a re-run resumes.
        Returns the ids of the products created."""
        self._refuse_suspended(seller_id)
        now = now_iso()
        products: list[Product] = []
        stock: list[dict[str, Any]] = []
        for raw in specs:
            spec = {k: v for k, v in raw.items() if k != "id"}
            spec["variants"] = [{k: v for k, v in variant.items() if k != "id"} for variant in raw["variants"]]
            if raw.get("id") in self.products:
                continue
            variant_ids = [v["id"] for v in raw["variants"]] if all("id" in v for v in raw["variants"]) else None
            product = new_product(spec, seller_id, now, self.categories, raw.get("id"), variant_ids,
                                  self.settings.currency)
            products.append(product)
            stock.extend(initial_stock(spec["variants"], product.variants))
        await self._create_stock(stock, seller_id)
        created = await self.submit(lambda changes: self._insert(products, changes))
        return [product.id for product in created]

    async def update_product(self, product_id: str, patch: dict[str, Any], user: CatalogUser) -> dict[str, Any]:
        new_ids = [new_id("var") for _ in range(added_variants(patch))]
        preview = patched(self._product(product_id), patch, user, now_iso(), self.categories, new_ids,
                              self.settings.currency)
        await self._create_stock(preview.stock, preview.product.seller_id)

        def command(changes: Changes) -> dict[str, Any]:
            # re-applied to the product as it is now: another change may have landed meanwhile
            update = patched(self._product(product_id), patch, user, now_iso(), self.categories, new_ids,
                              self.settings.currency)
            if update.changed:
                self._save(update.product, changes)
                self._emit_update(update, changes)
            return update.product.to_dict()

        return await self.submit(command)

    async def set_rating(self, product_id: str, rating: float, review_count: int) -> dict[str, Any]:
        """Reviews report a product's average rating and review count here."""

        def command(changes: Changes) -> dict[str, Any]:
            product = rated(self._product(product_id), rating, review_count)
            self._save(product, changes)
            changes.emit("product.updated", product_id=product_id, seller_id=product.seller_id,
                         fields=["rating", "review_count"], added_variant_ids=[])
            return product.to_dict()

        return await self.submit(command)

    # -- reads ------------------------------------------------------------------------------------------
    async def get_product(self, product_id: str, user: CatalogUser | None = None) -> dict[str, Any]:
        """The product as `user` may see it (None: an anonymous shopper); hidden ones are not found."""
        return ensure_visible(self.products.get(product_id), product_id, user).to_dict()

    async def get_products(self, product_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Products by id whatever their status (for other services); unknown ids are absent."""
        return {pid: self.products[pid].to_dict() for pid in product_ids if pid in self.products}

    async def list_products(self, category: str | None = None, brand: str | None = None,
                            seller: str | None = None, status: str | None = None, page: int = 1,
                            page_size: int = PAGE_SIZE_DEFAULT, user: CatalogUser | None = None) -> dict[str, Any]:
        """One page, newest first: {"items", "total", "page", "page_size"}; `category` includes its subtree."""
        statuses = listing_statuses(user, seller, status)
        category_ids = None if category is None else frozenset(self.categories.descendants(category))
        owners_view = user is not None and (user.is_admin or (seller is not None and user.seller_id == seller))
        query = ProductQuery(category_ids, brand, seller, statuses, page, page_size, owners_view)
        ids, total = self.index.query(query)
        return {"items": [self.products[pid].to_dict() for pid in ids], "total": total, "page": page,
                "page_size": page_size}

    async def seller_variants(self, seller_id: str) -> list[dict[str, Any]]:
        """Every variant of one seller's products, whatever their status, newest product first: product_id,
        product_name, product_status, variant_id, sku."""
        products = sorted((self.products[pid] for pid in self.index.of_seller(seller_id)),
                          key=lambda p: (p.created_at, p.id), reverse=True)
        return [{"product_id": p.id, "product_name": p.name, "product_status": p.status, "variant_id": v.id,
                 "sku": v.sku} for p in products for v in p.variants]

    # -- suspended sellers ------------------------------------------------------------------------------
    async def tick(self) -> None:
        await self.sync_sellers()

    async def sync_sellers(self) -> int:
        """Mark the products of every suspended seller (keys.SUSPENDED_SELLERS, written by the user shards with the
        seller) as suspended, and unmark those of reinstated sellers; each changed product gets a `product.updated`
        (fields ["seller_suspended"]), so search drops or restores it. Returns how many products changed. The
        admin's suspend and reinstate call this at once; the catalog's tick calls it too, so a call that failed
        is made good within `seller_standing_sync_seconds`."""
        suspended = set(await self.store.redis.hkeys(keys.SUSPENDED_SELLERS))  # type: ignore[misc]
        self.suspended_now = suspended
        if suspended == self.suspended_sellers:
            return 0

        def command(changes: Changes) -> int:
            changed = 0
            for seller_id in suspended ^ self.suspended_sellers:
                for product_id in self.index.of_seller(seller_id):
                    product = self.products[product_id]
                    if product.seller_suspended != (seller_id in suspended):
                        self._save(replace(product, seller_suspended=seller_id in suspended), changes)
                        changes.emit("product.updated", product_id=product_id, seller_id=seller_id,
                                     fields=["seller_suspended"], added_variant_ids=[])
                        changed += 1
            self.suspended_sellers = suspended
            return changed

        return await self.submit(command)

    def _refuse_suspended(self, seller_id: str | None) -> None:
        if seller_id is not None and seller_id in self.suspended_now:
            raise Forbidden("seller_suspended", "A suspended seller cannot list products", {"seller_id": seller_id})

    # -- the demo seed ----------------------------------------------------------------------------------
    async def seeded(self) -> str | None:
        """When the demo catalog was seeded into this store, or None."""
        return self.seeded_at

    async def mark_seeded(self, products: int) -> str:
        def command(changes: Changes) -> str:
            if self.seeded_at is None:
                self.seeded_at = now_iso()
                changes.hset(keys.SYSTEM, "seeded", self.seeded_at)
                changes.emit("catalog.seeded", products=products)
            return self.seeded_at

        return await self.submit(command)

    async def stats(self) -> dict[str, Any]:
        return {"products": len(self.products), "variants": len(self.variant_owner),
                "categories": len(self.categories), "pid": os.getpid(), "seeded": self.seeded_at}

    # -- internals --------------------------------------------------------------------------------------
    def _product(self, product_id: str) -> Product:
        product = self.products.get(product_id)
        if product is None:
            raise NotFound("product_not_found", "No such product", {"product_id": product_id})
        return product

    async def _create_stock(self, items: Iterable[dict[str, Any]], seller_id: str | None) -> None:
        """One idempotent `create_stock` call per inventory shard, all at once; the records know their seller."""
        by_variant = {item["variant_id"]: {**item, "seller_id": seller_id} for item in items}
        groups = self.router.group("inventory", by_variant)
        await asyncio.gather(*(
            self.router.handle("inventory", shard).create_stock.remote([by_variant[v] for v in variant_ids])
            for shard, variant_ids in groups.items()))

    def _insert(self, products: list[Product], changes: Changes) -> list[Product]:
        fresh = [p for p in products if p.id not in self.products]
        for product in fresh:  # check all before inserting any: a refused command changes nothing
            if product.category_id not in self.categories:
                raise NotFound("category_not_found", "No such category", {"category_id": product.category_id})
            taken = [v.id for v in product.variants if self.variant_owner.get(v.id, product.id) != product.id]
            if taken:
                raise Conflict("variant_exists", "A variant id belongs to another product", {"variant_ids": taken})
        for product in fresh:
            self._save(product, changes)
            changes.emit("product.created", product_id=product.id, seller_id=product.seller_id,
                         category_id=product.category_id, brand=product.brand, status=product.status,
                         variant_ids=[v.id for v in product.variants])
        return fresh

    def _save(self, product: Product, changes: Changes) -> None:
        self.products[product.id] = product
        self.index.put(product)
        for variant in product.variants:
            if variant.id not in self.variant_owner:
                self.variant_owner[variant.id] = product.id
                changes.hset(keys.VARIANTS, variant.id, product.id)
        changes.hset(keys.PRODUCTS, product.id, product.to_dict())

    @staticmethod
    def _emit_update(update: ProductUpdate, changes: Changes) -> None:
        product = update.product
        changes.emit("product.updated", product_id=product.id, seller_id=product.seller_id, fields=update.fields,
                     added_variant_ids=update.added_variant_ids)
        for change in update.price_changes:
            changes.emit("product.price_changed", product_id=product.id, **change)
        if update.status_change is not None:
            changes.emit("product.status_changed", product_id=product.id, seller_id=product.seller_id,
                         **{"from": update.status_change[0], "to": update.status_change[1]})
