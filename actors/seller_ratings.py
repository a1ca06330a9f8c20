"""The seller ratings a review shard owns: those of the sellers whose id hashes to it (actors/routing.py). The
seller's summary (average, count) is written beside them in the same transaction, for listings to read."""

from __future__ import annotations

from typing import Any

from actors import keys
from actors.shard import ShardActor
from actors.store import Changes, load_hash
from domain.clock import epoch, now_iso
from domain.seller_ratings import SellerRatings


class SellerRatingCommands(ShardActor):
    seller_ratings: dict[str, SellerRatings]

    def load_seller_ratings(self, client: Any) -> None:
        self.seller_ratings = {sid: SellerRatings.from_dict(d)
                               for sid, d in load_hash(client, keys.seller_ratings(self.shard)).items()}

    async def rate_seller(self, seller_id: str, order_id: str, variant_id: str, user_id: str, rating: int
                          ) -> dict[str, Any]:
        """The shopper's rating of the seller of a delivered line (the route checked the delivery), once per line."""

        def command(changes: Changes) -> dict[str, Any]:
            ratings = self.seller_ratings.get(seller_id) or SellerRatings(seller_id)
            line = ratings.rate(order_id, variant_id, user_id, rating, now_iso())
            self.seller_ratings[seller_id] = ratings
            summary = ratings.summary()
            changes.hset(keys.seller_ratings(self.shard), seller_id, ratings.to_dict())
            changes.hset(keys.SELLER_RATING_SUMMARY, seller_id, {"average": summary["average"],
                                                                 "count": summary["count"]})
            changes.zadd(keys.user_seller_ratings(user_id), f"{seller_id}:{order_id}:{variant_id}", epoch())
            changes.emit("seller.rated", seller_id=seller_id, order_id=order_id, variant_id=variant_id,
                         user_id=user_id, rating=line["rating"])
            return {"rating": line, "seller_rating": summary}

        return await self.submit(command)
