"""The review shard: single writer of the reviews of the products that hash to it (actors/routing.py, by product id;
review ids are minted to hash to their product's shard, so a review is found by its id alone).

Each command checks and changes the shard's `ReviewBook` (domain/reviews.py) and writes the review, its indexes and
its events in one transaction (actors/shard.py, group commit). When a command changes what the product's published
reviews add up to, the same transaction carries `product.rating_changed`; the rating follower (actors/ratings.py)
takes it to the catalog, and the catalog's `product.updated` to the search index: ratings are eventual, as the
design says, but never lost, since the event is committed with the review.
The seller ratings this shard also owns (by seller id) are in actors/seller_ratings.py.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from actors import keys
from actors.admin_log import recorded
from actors.routing import Router, local_id
from actors.seller_ratings import SellerRatingCommands
from actors.store import Changes, load_hash
from config import Settings
from domain.clock import epoch, epoch_of, iso_from_epoch, now_iso
from domain.moderation import ModerationPolicy, screen
from domain.reviews import BODY_MAX, TITLE_MAX, Review, ReviewBook, checked_rating, checked_text


class ReviewShard(SellerRatingCommands):
    kind = "reviews"

    def __init__(self, settings: Settings, shard: int = 0) -> None:
        self.book = ReviewBook()
        self.router = Router(settings)
        self.policy = ModerationPolicy(frozenset(w.lower() for w in settings.review_banned_words),
                                       settings.review_burst_per_author, settings.review_burst_per_product,
                                       settings.review_burst_seconds)
        super().__init__(settings, shard)

    def load(self, client: Any) -> None:
        self.book = ReviewBook([Review.from_dict(d) for d in load_hash(client, keys.reviews(self.shard)).values()])
        self.load_seller_ratings(client)

    # -- a shopper's review ----------------------------------------------------------------------------------
    async def write(self, product_id: str, seller_id: str | None, user_id: str, author_name: str,
                     variant_id: str | None, rating: int, title: str, body: str) -> dict[str, Any]:
        """A verified buyer's review (the route checked the delivered purchase), moderated before it is shown."""
        await self.fresh()
        draft = Review(local_id(self.settings, self.kind, self.shard, "rev"), product_id, user_id, seller_id,
                       variant_id, checked_rating(rating), checked_text("title", title, TITLE_MAX),
                       checked_text("body", body, BODY_MAX), author_name, "held", created_at=now_iso())
        draft.updated_at = draft.created_at
        self.book.ensure_first(product_id, user_id)
        by_author = await self._recent_by_author(user_id)

        def command(changes: Changes) -> dict[str, Any]:
            on_product = self.book.submitted_since(product_id, self._window_start())
            verdict = screen(draft.title, draft.body, self.policy, by_author, on_product)
            before = self.book.rating(product_id)
            review = self.book.submit(draft, verdict)
            self._save(review, changes)
            changes.emit("review.submitted", review_id=review.id, product_id=product_id, user_id=user_id,
                         rating=review.rating)
            self._emit_state(review, changes)
            self._emit_rating(product_id, before, changes)
            return review.own()

        return await self.submit(command)

    async def edit(self, review_id: str, user_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """The author's edit: checked, then moderated again like a new review."""
        await self.fresh()
        self.book.owned(review_id, user_id)
        by_author = await self._recent_by_author(user_id)

        def command(changes: Changes) -> dict[str, Any]:
            current = self.book.owned(review_id, user_id)
            edited = self.book.edited(current, patch, now_iso())
            on_product = self.book.submitted_since(current.product_id, self._window_start())
            verdict = screen(edited.title, edited.body, self.policy, by_author - 1, on_product - 1)
            before = self.book.rating(current.product_id)
            review = self.book.remoderated(edited, verdict)
            self._save(review, changes)
            changes.emit("review.edited", review_id=review_id, product_id=review.product_id, user_id=user_id,
                         rating=review.rating)
            self._emit_state(review, changes)
            self._emit_rating(review.product_id, before, changes)
            return review.own()

        return await self.submit(command)

    async def delete(self, review_id: str, user_id: str) -> None:
        def command(changes: Changes) -> None:
            product_id = self.book.owned(review_id, user_id).product_id
            before = self.book.rating(product_id)
            self.book.delete(review_id, user_id)
            changes.hdel(keys.reviews(self.shard), review_id)
            for index in (keys.product_reviews(product_id), keys.user_reviews(user_id), keys.HELD_REVIEWS,
                          keys.REJECTED_REVIEWS):
                changes.zrem(index, review_id)
            changes.emit("review.deleted", review_id=review_id, product_id=product_id, user_id=user_id)
            self._emit_rating(product_id, before, changes)

        await self.submit(command)

    # -- other shoppers, the seller, admins ------------------------------------------------------------------
    async def vote(self, review_id: str, user_id: str) -> dict[str, Any]:
        def command(changes: Changes) -> dict[str, Any]:
            review = self.book.vote(review_id, user_id)
            self._save(review, changes)
            changes.zadd(keys.user_votes(user_id), review_id, epoch())
            changes.emit("review.voted", review_id=review_id, product_id=review.product_id, user_id=user_id,
                         helpful_count=review.helpful_count)
            return review.public()

        return await self.submit(command)

    async def report(self, review_id: str, user_id: str, reason: str) -> dict[str, Any]:
        def command(changes: Changes) -> dict[str, Any]:
            product_id = self.book.get(review_id).product_id
            before = self.book.rating(product_id)
            review, held = self.book.report(review_id, user_id, reason, self.settings.review_reports_to_hold)
            self._save(review, changes)
            changes.emit("review.reported", review_id=review_id, product_id=product_id, user_id=user_id,
                         reason=reason.strip(), report_count=len(review.reporters))
            if held:
                self._emit_state(review, changes)
            self._emit_rating(product_id, before, changes)
            return {"review_id": review_id, "reported": True}

        return await self.submit(command)

    async def answer(self, review_id: str, seller_id: str | None, body: str) -> dict[str, Any]:
        def command(changes: Changes) -> dict[str, Any]:
            review = self.book.answer(review_id, seller_id, body, now_iso())
            self._save(review, changes)
            changes.emit("review.answered", review_id=review_id, product_id=review.product_id, seller_id=seller_id)
            return review.public()

        return await self.submit(command)

    async def moderate(self, review_id: str, decision: Literal["approve", "reject"], admin_id: str,
                       reason: str | None) -> dict[str, Any]:
        """An admin's decision, recorded in the audit log in the same transaction."""

        def command(changes: Changes) -> dict[str, Any]:
            product_id = self.book.get(review_id).product_id
            before = self.book.rating(product_id)
            review = self.book.moderate(review_id, decision, admin_id, reason, now_iso())
            self._save(review, changes)
            self._emit_state(review, changes, reason)
            self._emit_rating(product_id, before, changes)
            recorded(changes, admin_id, f"review.{decision}", "review", review_id, reason=reason,
                     product_id=product_id)
            return review.own()

        return await self.submit(command)

    async def anonymise(self, user_id: str, review_ids: list[str]) -> int:
        """An erased account's reviews stay, without their author's name (docs/privacy.md)."""

        def command(changes: Changes) -> int:
            done = self.book.anonymise(review_ids, user_id)
            for review in done:
                self._save(review, changes)
                changes.emit("review.anonymised", review_id=review.id, product_id=review.product_id)
            return len(done)

        return await self.submit(command)

    # -- internals -------------------------------------------------------------------------------------------
    def _window_start(self) -> str:
        return iso_from_epoch(epoch() - self.settings.review_burst_seconds)

    async def _recent_by_author(self, user_id: str) -> int:
        since = epoch() - self.settings.review_burst_seconds
        return int(await self.store.redis.zcount(keys.user_reviews(user_id), since, "+inf"))

    def _emit_rating(self, product_id: str, before: tuple[float, int], changes: Changes) -> None:
        """When the command moved the product's published rating from `before`, say so in the same transaction."""
        after = self.book.rating(product_id)
        if after != before:
            changes.emit("product.rating_changed", product_id=product_id, rating=after[0], review_count=after[1])
            # for the rating follower (actors/ratings.py): the rating, and the product due to the catalog
            changes.hset(keys.PRODUCT_RATINGS, product_id, {"rating": after[0], "review_count": after[1]})
            changes.zadd(keys.RATINGS_DUE, product_id, time.time_ns() // 1000)

    def _save(self, review: Review, changes: Changes) -> None:
        created = epoch_of(review.created_at)
        changes.hset(keys.reviews(self.shard), review.id, review.to_dict())
        changes.zadd(keys.product_reviews(review.product_id), review.id, created)
        changes.zadd(keys.user_reviews(review.user_id), review.id, created)
        for state, index in (("held", keys.HELD_REVIEWS), ("rejected", keys.REJECTED_REVIEWS)):
            if review.state == state:
                changes.zadd(index, review.id, created)
            else:
                changes.zrem(index, review.id)

    @staticmethod
    def _emit_state(review: Review, changes: Changes, reason: str | None = None) -> None:
        base = {"review_id": review.id, "product_id": review.product_id, "user_id": review.user_id}
        if review.state == "published":
            changes.emit_data("review.published", {**base, "rating": review.rating})
        elif review.state == "held":
            changes.emit_data("review.held", {**base, "reasons": list(review.reasons)})
        else:
            changes.emit_data("review.rejected", {**base, "reason": reason or ",".join(review.reasons)})
