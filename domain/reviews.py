"""Product reviews: who may write one, what it may say, and how it moves between published, held and rejected.

A `ReviewBook` holds the reviews of the products one review shard owns. Every method checks before it changes
anything (a refused command changes nothing). Review text is kept exactly as given (trimmed); escaping is the
job of whatever shows it. Ratings count published reviews only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.moderation import Verdict
from domain.serial import to_builtins

State = Literal["published", "held", "rejected"]
TITLE_MAX = 120
BODY_MAX = 5000
REASON_MAX = 500
ANONYMOUS = "Former customer"
PUBLIC_FIELDS = ("id", "product_id", "variant_id", "rating", "title", "body", "author_name", "verified_purchase",
                 "helpful_count", "answer", "created_at", "updated_at", "edited")


def checked_rating(rating: Any) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid("invalid_rating", "rating is a whole number from 1 to 5", {"field": "rating"})
    return rating


def checked_text(name: str, value: Any, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise Invalid(f"invalid_{name}", f"{name} has 1 to {limit} characters", {"field": name, "max": limit})
    return text


@dataclass
class Review:
    id: str
    product_id: str
    user_id: str
    seller_id: str | None  # the product's seller when the review was written: who may answer it
    variant_id: str | None
    rating: int
    title: str
    body: str
    author_name: str
    state: str
    reasons: list[str] = field(default_factory=list)  # why it is held or rejected
    verified_purchase: bool = True
    voters: list[str] = field(default_factory=list)  # who found it helpful (one vote each)
    reporters: list[str] = field(default_factory=list)
    answer: dict[str, Any] | None = None  # {"seller_id", "body", "at"}
    moderation: dict[str, Any] | None = None  # the last admin decision {"admin_id", "decision", "reason", "at"}
    created_at: str = ""
    updated_at: str = ""
    edited: bool = False
    anonymised: bool = False

    @property
    def helpful_count(self) -> int:
        return len(self.voters)

    def to_dict(self) -> dict[str, Any]:
        return to_builtins(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def public(self) -> dict[str, Any]:
        """What anyone may read of a published review (never who voted or reported)."""
        data = self.to_dict()
        view = {name: data.get(name) for name in PUBLIC_FIELDS if name != "helpful_count"}
        view["helpful_count"] = self.helpful_count
        if self.anonymised:
            view["author_name"] = ANONYMOUS
        return view

    def own(self) -> dict[str, Any]:
        """What its author (and an admin) sees: the public view with its state and the reasons."""
        return {**self.public(), "user_id": self.user_id, "state": self.state, "reasons": list(self.reasons),
                "report_count": len(self.reporters), "moderation": self.moderation}


class ReviewBook:
    def __init__(self, reviews: list[Review] | None = None) -> None:
        self.reviews: dict[str, Review] = {}
        self.by_product: dict[str, dict[str, str]] = defaultdict(dict)  # product_id -> user_id -> review_id
        for review in reviews or []:
            self.put(review)

    def put(self, review: Review) -> Review:
        self.reviews[review.id] = review
        self.by_product[review.product_id][review.user_id] = review.id
        return review

    def get(self, review_id: str) -> Review:
        review = self.reviews.get(review_id)
        if review is None:
            raise NotFound("review_not_found", "No such review", {"review_id": review_id})
        return review

    def shown(self, review_id: str) -> Review:
        """A published review (others are not found by anyone but their author and admins)."""
        review = self.get(review_id)
        if review.state != "published":
            raise NotFound("review_not_found", "No such review", {"review_id": review_id})
        return review

    def owned(self, review_id: str, user_id: str) -> Review:
        """The caller's own review; another user's is simply not found."""
        review = self.get(review_id)
        if review.user_id != user_id:
            raise NotFound("review_not_found", "No such review", {"review_id": review_id})
        return review

    # -- writing ---------------------------------------------------------------------------------------------
    def ensure_first(self, product_id: str, user_id: str) -> None:
        existing = self.by_product.get(product_id, {}).get(user_id)
        if existing is not None:
            raise Conflict("review_exists", "You have already reviewed this product; edit that review instead",
                           {"review_id": existing})

    def submit(self, draft: Review, verdict: Verdict) -> Review:
        self.ensure_first(draft.product_id, draft.user_id)
        return self.put(replace(draft, state=verdict.state, reasons=list(verdict.reasons)))

    @staticmethod
    def edited(review: Review, patch: dict[str, Any], at: str) -> Review:
        """The review with the patch applied (checked), not yet moderated or stored."""
        return replace(review, edited=True, updated_at=at,
                       rating=checked_rating(patch.get("rating", review.rating)),
                       title=checked_text("title", patch.get("title", review.title), TITLE_MAX),
                       body=checked_text("body", patch.get("body", review.body), BODY_MAX))

    def remoderated(self, review: Review, verdict: Verdict) -> Review:
        """An edited review with its new verdict. One that people reported or an admin rejected does not publish
        itself by being edited: it waits for an admin (reason `edited_after_moderation`)."""
        settled_by_people = review.state != "published" and ({"reported", "admin"} & set(review.reasons))
        if verdict.state == "published" and settled_by_people:
            verdict = Verdict("held", ["edited_after_moderation"])
        return self.put(replace(review, state=verdict.state, reasons=list(verdict.reasons)))

    def delete(self, review_id: str, user_id: str) -> Review:
        review = self.owned(review_id, user_id)
        del self.reviews[review_id]
        self.by_product[review.product_id].pop(review.user_id, None)
        return review

    def vote(self, review_id: str, user_id: str) -> Review:
        review = self.shown(review_id)
        if review.user_id == user_id:
            raise Invalid("own_review", "You cannot vote for your own review")
        if user_id in review.voters:
            raise Conflict("already_voted", "You have already found this review helpful")
        return self.put(replace(review, voters=[*review.voters, user_id]))

    def report(self, review_id: str, user_id: str, reason: str, hold_at: int) -> tuple[Review, bool]:
        """The review with one more report; True when this report holds it again (the `hold_at`-th report)."""
        checked_text("reason", reason, REASON_MAX)
        review = self.shown(review_id)
        if review.user_id == user_id:
            raise Invalid("own_review", "You cannot report your own review")
        if user_id in review.reporters:
            raise Conflict("already_reported", "You have already reported this review")
        reporters = [*review.reporters, user_id]
        holds = len(reporters) >= hold_at
        reasons = [*review.reasons, "reported"] if holds else review.reasons
        return self.put(replace(review, reporters=reporters, state="held" if holds else review.state,
                                reasons=reasons)), holds

    def answer(self, review_id: str, seller_id: str | None, body: str, at: str) -> Review:
        text = checked_text("body", body, BODY_MAX)
        review = self.shown(review_id)
        if seller_id is None or review.seller_id != seller_id:
            raise Forbidden("not_your_product", "Only the product's seller answers its reviews")
        if review.answer is not None:
            raise Conflict("already_answered", "This review has an answer already")
        return self.put(replace(review, answer={"seller_id": seller_id, "body": text, "at": at}))

    def moderate(self, review_id: str, decision: Literal["approve", "reject"], admin_id: str, reason: str | None,
                 at: str) -> Review:
        review = self.get(review_id)
        state = "published" if decision == "approve" else "rejected"
        if decision == "reject":
            reason = checked_text("reason", reason, REASON_MAX)
        if review.state == state:
            raise Conflict("already_" + state, f"This review is {state} already", {"state": state})
        record = {"admin_id": admin_id, "decision": decision, "reason": reason, "at": at}
        # approved: the automatic reasons and the reports are settled; reports after this count afresh
        reasons = [] if decision == "approve" else [*review.reasons, "admin"]
        reporters = [] if decision == "approve" else review.reporters
        return self.put(replace(review, state=state, reasons=reasons, reporters=reporters, moderation=record))

    def anonymise(self, review_ids: list[str], user_id: str) -> list[Review]:
        """The author's reviews keep their text and rating, but no longer show who wrote them."""
        done = []
        for review_id in review_ids:
            review = self.reviews.get(review_id)
            if review is not None and review.user_id == user_id and not review.anonymised:
                done.append(self.put(replace(review, anonymised=True, author_name=ANONYMOUS)))
        return done

    # -- reading ---------------------------------------------------------------------------------------------
    def rating(self, product_id: str) -> tuple[float, int]:
        """The average of the product's published ratings (2 decimals) and how many there are."""
        ratings = [self.reviews[r].rating for r in self.by_product.get(product_id, {}).values()
                   if self.reviews[r].state == "published"]
        return (round(sum(ratings) / len(ratings), 2), len(ratings)) if ratings else (0.0, 0)

    def submitted_since(self, product_id: str, since: str) -> int:
        return sum(1 for r in self.by_product.get(product_id, {}).values() if self.reviews[r].created_at >= since)
