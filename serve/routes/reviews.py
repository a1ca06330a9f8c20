"""Product reviews: verified buyers write them, everyone reads the published ones, shoppers vote and report, the
product's seller answers, admins moderate. Writes go to the review shard of the product (actors/reviews.py); reads
come from committed state (actors/review_reads.py). Review text is returned as stored, in JSON: whatever shows it
in a page escapes it there. See docs/api-reviews.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from actors import reads, review_reads
from domain.errors import Forbidden, Invalid, NotFound
from domain.review_listing import Sort, review_page
from domain.reviews import Review
from serve.context import Context
from serve.deps import AdminUser, Ctx, CurrentUser
from serve.schemas import Body, Id, PathId
from serve.tokens import Principal

router = APIRouter(tags=["reviews"])
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
TEXT = "kept as given (trimmed); 1 to {} characters, or 422"


class ReviewIn(Body):
    rating: int = Field(description="1 to 5, or 422 `invalid_rating`", examples=[5])
    title: str = Field(description=TEXT.format(120), examples=["Sturdy and quiet"])
    body: str = Field(description=TEXT.format(5000), examples=["Runs all day without a sound."])
    variant_id: Id | None = None


class ReviewPatch(Body):
    rating: int | None = None
    title: str | None = None
    body: str | None = None


class ReasonIn(Body):
    reason: str = Field(description="1 to 500 characters", examples=["spam"])


class ApprovalIn(Body):
    reason: str | None = None


class AnswerIn(Body):
    body: str = Field(description=TEXT.format(5000))


def _not_found(review_id: str) -> NotFound:
    return NotFound("review_not_found", "No such review", {"review_id": review_id})


async def _product(ctx: Context, product_id: str) -> dict[str, Any]:
    product = (await reads.products(ctx, [product_id])).get(product_id)
    if product is None:
        raise NotFound("product_not_found", "No such product", {"product_id": product_id})
    return product


def _shard(ctx: Context, review_id: str) -> Any:
    return ctx.router.owner("reviews", review_id)


def _view(review: Review, caller: Principal | None) -> dict[str, Any]:
    if caller is not None and (caller.is_admin or caller.user_id == review.user_id):
        return review.own()
    return review.public()


# -- shoppers ------------------------------------------------------------------------------------------------
@router.post("/v1/products/{product_id}/reviews", status_code=201)
async def write_review(product_id: PathId, body: ReviewIn, ctx: Ctx, me: CurrentUser) -> dict[str, Any]:
    """201 `{"review"}` with its `state` (published, held with `reasons`, or rejected); 403 `purchase_required`
    unless the caller received the product; 409 `review_exists` for a second review; 422 bad rating or text."""
    product = await _product(ctx, product_id)
    if body.variant_id is not None and body.variant_id not in {v["id"] for v in product["variants"]}:
        raise Invalid("unknown_variant", "The variant is not one of this product's", {"variant_id": body.variant_id})
    if await reads.delivered_purchase(ctx, me.user_id, product_id) is None:
        raise Forbidden("purchase_required", "Only a shopper who bought and received this product may review it")
    user = await reads.user(ctx, me.user_id)
    author = f"{user.first_name} {user.last_name[:1]}." if user is not None else "A shopper"
    review = await ctx.router.owner("reviews", product_id).write.remote(
        product_id, product.get("seller_id"), me.user_id, author, body.variant_id, body.rating, body.title, body.body)
    return {"review": review}


@router.get("/v1/products/{product_id}/reviews")
async def product_reviews(product_id: PathId, ctx: Ctx, sort: Sort = "recent",
                          rating: Annotated[int | None, Query(ge=1, le=5)] = None, page: Page = 1,
                          page_size: PageSize = 20) -> dict[str, Any]:
    """200 `{"items", "total", "page", "page_size", "rating", "review_count", "histogram": {"1".."5"}}`: published
    reviews only."""
    await _product(ctx, product_id)
    return review_page(await review_reads.product_reviews(ctx, product_id), sort, rating, page, page_size)


@router.get("/v1/reviews/{review_id}")
async def get_review(review_id: PathId, ctx: Ctx, me: CurrentUser) -> dict[str, Any]:
    """A published review; its author and admins also see it held or rejected, with its reasons."""
    review = await review_reads.review(ctx, review_id)
    if review is None or (review.state != "published" and not (me.is_admin or me.user_id == review.user_id)):
        raise _not_found(review_id)
    return {"review": _view(review, me)}


@router.patch("/v1/reviews/{review_id}")
async def edit_review(review_id: PathId, body: ReviewPatch, ctx: Ctx, me: CurrentUser) -> dict[str, Any]:
    """The author's edit, moderated again; another user's review is 404."""
    patch = body.model_dump(exclude_unset=True)
    return {"review": await _shard(ctx, review_id).edit.remote(review_id, me.user_id, patch)}


@router.delete("/v1/reviews/{review_id}", status_code=204)
async def delete_review(review_id: PathId, ctx: Ctx, me: CurrentUser) -> Response:
    """The author deletes their review (then may write a new one); another user's review is 404."""
    await _shard(ctx, review_id).delete.remote(review_id, me.user_id)
    return Response(status_code=204)


@router.post("/v1/reviews/{review_id}/helpful")
async def vote_helpful(review_id: PathId, ctx: Ctx, me: CurrentUser) -> dict[str, Any]:
    """200 `{"review"}`; 409 `already_voted`; 422 `own_review`."""
    return {"review": await _shard(ctx, review_id).vote.remote(review_id, me.user_id)}


@router.post("/v1/reviews/{review_id}/report")
async def report_review(review_id: PathId, body: ReasonIn, ctx: Ctx, me: CurrentUser) -> dict[str, Any]:
    """200 `{"review_id", "reported": true}`; 409 `already_reported`; 422 `own_review`. Enough reports hold it."""
    return await _shard(ctx, review_id).report.remote(review_id, me.user_id, body.reason)


@router.post("/v1/reviews/{review_id}/answer")
async def answer_review(review_id: PathId, body: AnswerIn, ctx: Ctx, me: CurrentUser) -> dict[str, Any]:
    """The product's seller answers, once: 200 `{"review"}`; 403 `not_your_product`; 409 `already_answered`."""
    return {"review": await _shard(ctx, review_id).answer.remote(review_id, me.seller_id, body.body)}


# -- admins --------------------------------------------------------------------------------------------------
@router.get("/v1/admin/reviews")
async def moderation_queue(ctx: Ctx, admin: AdminUser, state: Literal["held", "rejected"] = "held",
                           page: Page = 1, page_size: PageSize = 20) -> dict[str, Any]:
    """Reviews held for a decision (or rejected), oldest first, with their `reasons`."""
    items, total = await review_reads.queue_page(ctx, state, page, page_size)
    return {"items": [r.own() for r in items], "total": total, "page": page, "page_size": page_size}


@router.post("/v1/admin/reviews/{review_id}/approve")
async def approve_review(review_id: PathId, ctx: Ctx, admin: AdminUser, body: ApprovalIn | None = None
                         ) -> dict[str, Any]:
    """Publish it: 200 `{"review"}`; 409 `already_published`. Recorded in the audit log."""
    return {"review": await _shard(ctx, review_id).moderate.remote(
        review_id, "approve", admin.user_id, body.reason if body else None)}


@router.post("/v1/admin/reviews/{review_id}/reject")
async def reject_review(review_id: PathId, body: ReasonIn, ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Reject it with a reason: 200 `{"review"}`; 409 `already_rejected`. Recorded in the audit log."""
    return {"review": await _shard(ctx, review_id).moderate.remote(review_id, "reject", admin.user_id, body.reason)}
