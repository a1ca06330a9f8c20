"""A product's review page: published reviews only, filtered by stars, sorted, paged, with the rating histogram."""

from __future__ import annotations

from typing import Any, Literal

from domain.reviews import Review

Sort = Literal["recent", "helpful", "rating_desc", "rating_asc"]


def histogram(reviews: list[Review]) -> dict[str, int]:
    """Published reviews per star, "1" to "5"."""
    counts = {str(stars): 0 for stars in range(1, 6)}
    for review in reviews:
        if review.state == "published":
            counts[str(review.rating)] += 1
    return counts


def review_page(reviews: list[Review], sort: Sort, rating: int | None, page: int, page_size: int) -> dict[str, Any]:
    published = [r for r in reviews if r.state == "published"]
    shown = [r for r in published if rating is None or r.rating == rating]
    newest = sorted(shown, key=lambda r: (r.created_at, r.id), reverse=True)  # ties: newest first in every sort
    if sort == "helpful":
        newest.sort(key=lambda r: r.helpful_count, reverse=True)
    elif sort == "rating_desc":
        newest.sort(key=lambda r: r.rating, reverse=True)
    elif sort == "rating_asc":
        newest.sort(key=lambda r: r.rating)
    start = (page - 1) * page_size
    count = len(published)
    average = round(sum(r.rating for r in published) / count, 2) if count else 0.0
    return {"items": [r.public() for r in newest[start:start + page_size]], "total": len(shown), "page": page,
            "page_size": page_size, "rating": average, "review_count": count, "histogram": histogram(published)}
