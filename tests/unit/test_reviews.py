"""Review rules without Ray or Redis: moderation verdicts, the review book, listings, seller ratings, privacy."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.moderation import ModerationPolicy, Verdict, screen
from domain.privacy import pseudonymised_address
from domain.review_listing import review_page
from domain.reviews import ANONYMOUS, Review, ReviewBook
from domain.seller_ratings import SellerRatings

POLICY = ModerationPolicy(frozenset({"scam"}), burst_per_author=3, burst_per_product=5)
PUBLISHED = Verdict("published")


def draft(review_id: str = "rev_1", user_id: str = "usr_a", rating: int = 5, at: str = "2026-01-01T00:00:00.000Z"
          ) -> Review:
    return Review(review_id, "prd_1", user_id, "sel_1", None, rating, "Title", "Body", "Ada L.", "held",
                  created_at=at, updated_at=at)


@pytest.mark.parametrize(("title", "body", "by_author", "on_product", "verdict"), [
    ("Great", "Works well", 0, 0, Verdict("published")),
    ("Great", "What a Scam!", 0, 0, Verdict("rejected", ["banned_word"])),
    ("Great", "see https://x.example.com", 0, 0, Verdict("held", ["link"])),
    ("Great", "buy at deals.shop now", 0, 0, Verdict("held", ["link"])),
    ("Great", "!!!!!!!!!!!!", 0, 0, Verdict("held", ["repeated_text"])),
    ("Great", "good " * 10, 0, 0, Verdict("held", ["repeated_text"])),
    ("Great", "Works well", 3, 0, Verdict("held", ["burst_from_author"])),
    ("Great", "Works well", 0, 5, Verdict("held", ["burst_on_product"])),
    ("Scam", "see www.a.com", 9, 9, Verdict("rejected", ["banned_word"])),
])
def test_moderation_verdicts(title: str, body: str, by_author: int, on_product: int, verdict: Verdict) -> None:
    assert screen(title, body, POLICY, by_author, on_product) == verdict


def test_one_review_per_shopper_and_product_and_ratings_count_published_only() -> None:
    book = ReviewBook()
    book.submit(draft(), PUBLISHED)
    with pytest.raises(Conflict):
        book.submit(draft("rev_2"), PUBLISHED)
    book.submit(draft("rev_3", "usr_b", rating=1), Verdict("held", ["link"]))
    book.submit(draft("rev_4", "usr_c", rating=2), PUBLISHED)
    assert book.rating("prd_1") == (3.5, 2)
    book.moderate("rev_3", "approve", "usr_admin", None, "2026-01-02T00:00:00.000Z")
    assert book.rating("prd_1") == (2.67, 3)
    with pytest.raises(Invalid):
        book.moderate("rev_4", "reject", "usr_admin", "  ", "2026-01-02T00:00:00.000Z")
    with pytest.raises(Conflict):
        book.moderate("rev_4", "approve", "usr_admin", None, "2026-01-02T00:00:00.000Z")


def test_votes_reports_and_answers_have_their_rules() -> None:
    book = ReviewBook([draft()])
    book.reviews["rev_1"].state = "published"
    with pytest.raises(Invalid):
        book.vote("rev_1", "usr_a")
    assert book.vote("rev_1", "usr_b").helpful_count == 1
    with pytest.raises(Conflict):
        book.vote("rev_1", "usr_b")
    assert book.report("rev_1", "usr_b", "rude", hold_at=2)[1] is False
    review, held = book.report("rev_1", "usr_c", "rude", hold_at=2)
    assert held and review.state == "held" and review.reasons == ["reported"]
    with pytest.raises(NotFound):
        book.vote("rev_1", "usr_d")  # held: not shown
    book.moderate("rev_1", "approve", "usr_admin", None, "2026-01-02T00:00:00.000Z")
    with pytest.raises(Forbidden):
        book.answer("rev_1", "sel_2", "Not mine", "2026-01-03T00:00:00.000Z")
    assert book.answer("rev_1", "sel_1", "Thanks", "2026-01-03T00:00:00.000Z").answer is not None
    with pytest.raises(Conflict):
        book.answer("rev_1", "sel_1", "Again", "2026-01-03T00:00:00.000Z")


def test_an_erased_authors_reviews_stay_without_their_name() -> None:
    book = ReviewBook([draft(), draft("rev_2", "usr_b")])
    assert [r.id for r in book.anonymise(["rev_1", "rev_2"], "usr_a")] == ["rev_1"]
    assert book.reviews["rev_1"].public()["author_name"] == ANONYMOUS
    assert book.reviews["rev_2"].author_name == "Ada L."


def test_a_review_page_sorts_filters_and_counts_stars() -> None:
    reviews = [draft("rev_1", "a", 5, "2026-01-01T00:00:00.000Z"), draft("rev_2", "b", 3, "2026-01-02T00:00:00.000Z"),
               draft("rev_3", "c", 4, "2026-01-03T00:00:00.000Z")]
    for review in reviews:
        review.state = "published"
    reviews[1].voters = ["x", "y"]
    hidden = draft("rev_4", "d", 1)
    page = review_page([*reviews, hidden], "recent", None, 1, 2)
    assert [r["id"] for r in page["items"]] == ["rev_3", "rev_2"] and page["total"] == 3
    assert page["histogram"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1} and page["rating"] == 4.0
    assert review_page(reviews, "helpful", None, 1, 3)["items"][0]["id"] == "rev_2"
    assert [r["id"] for r in review_page(reviews, "rating_desc", None, 1, 3)["items"]] == ["rev_1", "rev_3", "rev_2"]
    assert [r["id"] for r in review_page(reviews, "recent", 4, 1, 3)["items"]] == ["rev_3"]


def test_a_seller_is_rated_once_per_order_line() -> None:
    ratings = SellerRatings("sel_1")
    ratings.rate("ord_1", "var_1", "usr_a", 5, "t")
    ratings.rate("ord_1", "var_2", "usr_a", 2, "t")
    with pytest.raises(Conflict):
        ratings.rate("ord_1", "var_1", "usr_a", 1, "t")
    with pytest.raises(Invalid):
        ratings.rate("ord_2", "var_1", "usr_a", 0, "t")
    assert ratings.summary() == {"seller_id": "sel_1", "average": 3.5, "count": 2}


def test_a_pseudonymised_address_keeps_only_what_taxes_need() -> None:
    address = {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip_code": "62701", "country": "US",
               "type": "home"}
    assert pseudonymised_address(address) == {"country": "US", "state": "IL", "erased": True}


def test_an_edit_does_not_publish_a_review_that_people_held_or_an_admin_rejected() -> None:
    book = ReviewBook([draft()])
    book.moderate("rev_1", "reject", "usr_admin", "rude", "2026-01-02T00:00:00.000Z")
    edited = book.edited(book.reviews["rev_1"], {"body": "Nicer words"}, "2026-01-03T00:00:00.000Z")
    review = book.remoderated(edited, PUBLISHED)
    assert (review.state, review.reasons) == ("held", ["edited_after_moderation"])
    book.moderate("rev_1", "approve", "usr_admin", None, "2026-01-04T00:00:00.000Z")
    edited = book.edited(book.reviews["rev_1"], {"rating": 4}, "2026-01-05T00:00:00.000Z")
    assert book.remoderated(edited, PUBLISHED).state == "published"
