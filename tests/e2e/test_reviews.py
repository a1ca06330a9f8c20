"""Reviews through HTTP: verified buyers review, ratings follow published reviews into the catalog and search,
moderation holds spam, reports hold a review again, and every refusal is a clear error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.reviews_world import (
    delivered_order,
    product_page,
    published_review,
    reviews_of,
    write_review,
)
from tests.shop import Shop, assert_error
from tests.support import wait_until

pytestmark = pytest.mark.ray


def rated(shop: Shop, product: dict[str, Any], rating: float, count: int) -> dict[str, Any]:
    """The product page once its rating and review count are these (ratings follow reviews eventually)."""
    return wait_until(lambda: (page := product_page(shop, product))["rating"] == rating  # type: ignore[no-any-return]
                      and page["review_count"] == count and page)


def found_with_rating_min(shop: Shop, word: str, rating_min: int) -> list[str]:
    r = shop.http.get("/v1/search", params={"q": word, "rating_min": rating_min})
    assert r.status_code == 200, r.text
    return [hit["product_id"] for hit in r.json()["hits"]]


def test_a_verified_review_is_published_and_moves_the_rating_and_search(shop: Shop) -> None:
    word = "lathe" + uuid.uuid4().hex[:8]
    lathe = shop.product(name=f"Bench {word}")
    _, review = published_review(shop, lathe, rating=4, title="Solid <b>lathe</b>",
                                 body="Cuts true & quiet. <script>alert(1)</script>")
    assert review["verified_purchase"] is True and review["rating"] == 4
    assert review["title"] == "Solid <b>lathe</b>", "text is kept as given; JSON carries it escaped"
    assert review["author_name"] == "Ada L." and review["helpful_count"] == 0

    page = reviews_of(shop, lathe)
    assert [r["id"] for r in page["items"]] == [review["id"]]
    assert page["histogram"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert (page["rating"], page["review_count"]) == (4.0, 1)
    assert "user_id" not in page["items"][0], "the public page does not say who wrote it"

    rated(shop, lathe, 4.0, 1)
    _, second = published_review(shop, lathe, rating=5)
    rated(shop, lathe, 4.5, 2)
    wait_until(lambda: lathe["id"] in found_with_rating_min(shop, word, 4))
    assert lathe["id"] not in found_with_rating_min(shop, word, 5)

    assert [r["id"] for r in reviews_of(shop, lathe, sort="rating_asc")["items"]] == [review["id"], second["id"]]
    assert [r["id"] for r in reviews_of(shop, lathe, rating=5)["items"]] == [second["id"]]


def test_a_spam_review_is_held_for_an_admin_and_then_rejected_never_counting(shop: Shop) -> None:
    kettle = shop.product()
    spammer = shop.register()
    delivered_order(shop, spammer, kettle)
    r = write_review(shop, spammer, kettle, 1, title="Cheap kettles", body="Better ones at http://kettles.example.com")
    assert r.status_code == 201, r.text
    spam = r.json()["review"]
    assert (spam["state"], spam["reasons"]) == ("held", ["link"])
    assert reviews_of(shop, kettle)["items"] == []

    queue = shop.http.get("/v1/admin/reviews", params={"state": "held"}, headers=shop.admin.headers).json()
    assert spam["id"] in [item["id"] for item in queue["items"]]
    assert_error(shop.http.get("/v1/admin/reviews", headers=spammer.headers), 403, "admin_only")
    assert_error(shop.http.post(f"/v1/admin/reviews/{spam['id']}/reject", json={"reason": "spam"},
                                headers=spammer.headers), 403, "admin_only")

    rejected = shop.http.post(f"/v1/admin/reviews/{spam['id']}/reject", json={"reason": "advertising"},
                              headers=shop.admin.headers)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["review"]["state"] == "rejected"
    queue = shop.http.get("/v1/admin/reviews", params={"state": "held"}, headers=shop.admin.headers).json()
    assert spam["id"] not in [item["id"] for item in queue["items"]]
    assert_error(shop.http.post(f"/v1/admin/reviews/{spam['id']}/reject", json={"reason": "again"},
                                headers=shop.admin.headers), 409, "already_rejected")

    published_review(shop, kettle, rating=5)
    rated(shop, kettle, 5.0, 1)  # the spam's 1 star never counted

    abuser = shop.register()
    delivered_order(shop, abuser, kettle)
    r = write_review(shop, abuser, kettle, 1, body="The seller is a SCAM")
    assert (r.json()["review"]["state"], r.json()["review"]["reasons"]) == ("rejected", ["banned_word"])


def test_an_approved_review_is_published(shop: Shop) -> None:
    radio = shop.product()
    fan = shop.register()
    delivered_order(shop, fan, radio)
    held = write_review(shop, fan, radio, 5, body="wow " * 12).json()["review"]
    assert (held["state"], held["reasons"]) == ("held", ["repeated_text"])
    approved = shop.http.post(f"/v1/admin/reviews/{held['id']}/approve", headers=shop.admin.headers)
    assert approved.status_code == 200 and approved.json()["review"]["state"] == "published"
    assert [r["id"] for r in reviews_of(shop, radio)["items"]] == [held["id"]]
    rated(shop, radio, 5.0, 1)


def test_enough_reports_hold_a_review_again(shop: Shop) -> None:
    lamp = shop.product()
    _, review = published_review(shop, lamp, rating=2)
    rated(shop, lamp, 2.0, 1)
    reporters = [shop.register() for _ in range(3)]
    report = f"/v1/reviews/{review['id']}/report"
    first = shop.http.post(report, json={"reason": "off topic"}, headers=reporters[0].headers)
    assert first.status_code == 200, first.text
    assert_error(shop.http.post(report, json={"reason": "again"}, headers=reporters[0].headers), 409,
                 "already_reported")
    assert_error(shop.http.post(report, json={"reason": ""}, headers=reporters[1].headers), 422)
    for reporter in reporters[1:]:
        assert shop.http.post(report, json={"reason": "rude"}, headers=reporter.headers).status_code == 200

    assert reviews_of(shop, lamp)["items"] == []
    queue = shop.http.get("/v1/admin/reviews", params={"state": "held"}, headers=shop.admin.headers).json()
    held = next(item for item in queue["items"] if item["id"] == review["id"])
    assert held["reasons"] == ["reported"] and held["report_count"] == 3
    rated(shop, lamp, 0.0, 0)


def test_refusals_are_clear_errors(shop: Shop) -> None:
    saw = shop.product()
    stranger = shop.register()
    assert_error(write_review(shop, stranger, saw), 403, "purchase_required")
    waiting = shop.register()
    delivered_order(shop, waiting, saw, status="shipped")
    assert_error(write_review(shop, waiting, saw), 403, "purchase_required")
    assert_error(write_review(shop, stranger, {"id": "prd_01J00000000000000000000000"}), 404, "product_not_found")

    buyer = shop.register()
    delivered_order(shop, buyer, saw)
    for rating, title, body, code in [(0, "t", "b", "invalid_rating"), (6, "t", "b", "invalid_rating"),
                                      (5, "   ", "b", "invalid_title"), (5, "t", "", "invalid_body"),
                                      (5, "t" * 121, "b", "invalid_title"), (5, "t", "b" * 5001, "invalid_body")]:
        assert_error(write_review(shop, buyer, saw, rating, title, body), 422, code)
    assert_error(write_review(shop, buyer, saw, variant_id="var_01J00000000000000000000000"), 422, "unknown_variant")
    mine = write_review(shop, buyer, saw, 5).json()["review"]
    error = assert_error(write_review(shop, buyer, saw, 3), 409, "review_exists")
    assert error["details"]["review_id"] == mine["id"]

    helpful = f"/v1/reviews/{mine['id']}/helpful"
    assert_error(shop.http.post(helpful, headers=buyer.headers), 422, "own_review")
    voted = shop.http.post(helpful, headers=stranger.headers)
    assert voted.status_code == 200 and voted.json()["review"]["helpful_count"] == 1
    assert_error(shop.http.post(helpful, headers=stranger.headers), 409, "already_voted")
    assert_error(shop.http.post(helpful), 401)
    assert_error(shop.http.post("/v1/reviews/rev_01J00000000000000000000000/helpful", headers=stranger.headers),
                 404, "review_not_found")


def test_only_the_author_edits_or_deletes_and_an_edit_is_moderated_again(shop: Shop) -> None:
    drill = shop.product()
    author, review = published_review(shop, drill, rating=3)
    other = shop.register()
    url = f"/v1/reviews/{review['id']}"
    assert_error(shop.http.patch(url, json={"rating": 1}, headers=other.headers), 404, "review_not_found")
    assert_error(shop.http.delete(url, headers=other.headers), 404, "review_not_found")

    edited = shop.http.patch(url, json={"body": "Now see www.drills.example.net"}, headers=author.headers)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["review"]["state"], edited.json()["review"]["edited"]) == ("held", True)
    assert reviews_of(shop, drill)["items"] == []
    fixed = shop.http.patch(url, json={"body": "Strong motor.", "rating": 4}, headers=author.headers).json()["review"]
    assert (fixed["state"], fixed["rating"], fixed["body"]) == ("published", 4, "Strong motor.")
    rated(shop, drill, 4.0, 1)

    assert shop.http.delete(url, headers=author.headers).status_code == 204
    assert_error(shop.http.get(url, headers=author.headers), 404, "review_not_found")
    rated(shop, drill, 0.0, 0)
    assert write_review(shop, author, drill).status_code == 201, "after deleting, the author may review again"
