"""Notifications through HTTP, as shoppers meet them: an order confirmed and shipped reaches the shopper's inbox,
their open live stream (a real HTTP client reading Server-Sent Events through the Serve app) and their mailbox
(a real SMTP server); a stream resumes with Last-Event-ID; preferences turn mail off; a refused mail becomes a dead
letter an admin can send again; no one reads another's notifications."""

from __future__ import annotations

from typing import Any

import pytest

from tests.notify_support import EventStream, Mailbox
from tests.shop import CARD_DECLINED, Account, Shop, assert_error
from tests.support import wait_until


def place_order(shop: Shop, shopper: Account, product: dict[str, Any] | None = None) -> dict[str, Any]:
    shop.add_to_cart(shopper, product or shop.product(stock=5))
    r = shop.checkout(shopper, shop.checkout_body(shopper))
    assert r.status_code == 201, r.text
    return r.json()["order"]  # type: ignore[no-any-return]


def ship(shop: Shop, order: dict[str, Any], tracking: str) -> None:
    status = f"/v1/admin/orders/{order['id']}/status"
    assert shop.http.post(status, json={"status": "packed"}, headers=shop.admin.headers).status_code == 200
    r = shop.http.post(status, json={"status": "shipped", "tracking_number": tracking}, headers=shop.admin.headers)
    assert r.status_code == 200, r.text


def inbox(shop: Shop, account: Account, **params: Any) -> dict[str, Any]:
    r = shop.http.get("/v1/notifications", headers=account.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def inbox_with(shop: Shop, account: Account, kinds: list[str]) -> dict[str, Any]:
    """The inbox once it holds notices of these kinds (the notifier follows the events within moments)."""
    return wait_until(lambda: (box := inbox(shop, account)) and  # type: ignore[no-any-return]
                      sorted(n["kind"] for n in box["items"]) == sorted(kinds) and box)


def mails_to(mailbox: Mailbox, address: str, count: int) -> list[Any]:
    return wait_until(lambda: len(found := mailbox.to(address)) >= count and found)  # type: ignore[no-any-return]


def text(mail: Any) -> str:
    return mail.get_payload(decode=True).decode()  # type: ignore[no-any-return]


def test_an_order_reaches_the_inbox_the_live_stream_and_the_mailbox(shop: Shop, mailbox: Mailbox) -> None:
    shopper = shop.register()
    stream = EventStream(shop.base_url, shopper.access_token)
    assert stream.status == 200
    try:
        order = place_order(shop, shopper)
        seq, confirmed = stream.next()
        assert confirmed["kind"] == "order_confirmed" and confirmed["data"]["order_id"] == order["id"]
        assert str(order["order_number"]) in confirmed["title"] and confirmed["read"] is False
        ship(shop, order, "1Z-NOTIFY-1")
        _, shipped = stream.next()
        assert shipped["kind"] == "order_shipped" and "1Z-NOTIFY-1" in shipped["body"]
        assert int(seq) < shipped["seq"]
    finally:
        stream.close()

    box = inbox_with(shop, shopper, ["order_confirmed", "order_shipped"])
    assert [n["kind"] for n in box["items"]] == ["order_shipped", "order_confirmed"]  # newest first
    assert box["unread"] == 2 and box["total"] == 2

    mails = mails_to(mailbox, shopper.email, 2)
    assert sorted(m["Subject"] for m in mails) == sorted(n["title"] for n in box["items"])
    assert "1Z-NOTIFY-1" in text(next(m for m in mails if "shipped" in m["Subject"]))

    first = box["items"][1]["id"]
    assert shop.http.post(f"/v1/notifications/{first}/read", headers=shopper.headers).status_code == 204
    after = inbox(shop, shopper)
    assert after["unread"] == 1 and [n["read"] for n in after["items"]] == [False, True]
    assert inbox(shop, shopper, unread="true")["total"] == 1
    assert shop.http.post("/v1/notifications/read-all", headers=shopper.headers).status_code == 204
    assert inbox(shop, shopper)["unread"] == 0


def test_a_stream_resumed_with_last_event_id_replays_what_came_after(shop: Shop) -> None:
    shopper = shop.register()
    order = place_order(shop, shopper)
    ship(shop, order, "1Z-RESUME")
    box = inbox_with(shop, shopper, ["order_confirmed", "order_shipped"])
    confirmed_seq = box["items"][1]["seq"]

    stream = EventStream(shop.base_url, shopper.access_token, last_event_id=str(confirmed_seq))
    try:
        event_id, replayed = stream.next()
        assert replayed["kind"] == "order_shipped" and event_id == str(replayed["seq"])
        assert stream.events.empty()
    finally:
        stream.close()
    bad = shop.http.get("/v1/notifications/stream", headers={**shopper.headers, "Last-Event-ID": "abc"})
    assert_error(bad, 422, "invalid_last_event_id")


def test_no_one_reads_another_users_notifications_or_stream(shop: Shop) -> None:
    shopper, attacker = shop.register(), shop.register()
    spying = EventStream(shop.base_url, attacker.access_token)
    try:
        place_order(shop, shopper)
        notice = inbox_with(shop, shopper, ["order_confirmed"])["items"][0]
        own = place_order(shop, attacker)
        _, first = spying.next()  # the attacker's stream carried nothing of the shopper's before its own
        assert first["data"]["order_id"] == own["id"]
    finally:
        spying.close()

    assert_error(shop.http.get("/v1/notifications"), 401)
    assert_error(shop.http.get("/v1/notifications/stream"), 401)
    assert_error(shop.http.post(f"/v1/notifications/{notice['id']}/read"), 401)
    assert_error(shop.http.post(f"/v1/notifications/{notice['id']}/read", headers=attacker.headers), 404,
                 "notification_not_found")
    assert [n["data"]["order_id"] for n in inbox(shop, attacker)["items"]] == [own["id"]]
    assert inbox(shop, shopper)["unread"] == 1  # the attacker's attempt marked nothing


def test_a_declined_payment_is_told_without_its_reason(shop: Shop) -> None:
    shopper = shop.register()
    shop.add_to_cart(shopper, shop.product(stock=3))
    assert shop.checkout(shopper, shop.checkout_body(shopper, CARD_DECLINED)).status_code == 402
    failed = inbox_with(shop, shopper, ["payment_failed"])["items"][0]
    assert "declined" in failed["body"] and "card_declined" not in failed["body"] + str(failed["data"])


def test_preferences_turn_mail_off_and_the_inbox_stays(shop: Shop, mailbox: Mailbox) -> None:
    shopper = shop.register()
    off = {"preferences": {"notifications": {"email": False}}}
    assert shop.http.patch("/v1/me", json=off, headers=shopper.headers).json()["user"]["preferences"][
        "notifications"]["email"] is False
    order = place_order(shop, shopper)
    inbox_with(shop, shopper, ["order_confirmed"])

    on = {"preferences": {"notifications": {"email": True, "muted": ["order_delivered"]}}}
    assert shop.http.patch("/v1/me", json=on, headers=shopper.headers).status_code == 200
    ship(shop, order, "1Z-PREFS")
    mails = mails_to(mailbox, shopper.email, 1)
    assert [m["Subject"] for m in mails] == [f"Order {order['order_number']} shipped"]  # never the confirmation
    bad = {"preferences": {"notifications": {"muted": ["no_such_kind"]}}}
    assert_error(shop.http.patch("/v1/me", json=bad, headers=shopper.headers), 422, "invalid_preferences")


def test_a_refused_mail_is_a_dead_letter_an_admin_sends_again(shop: Shop, mailbox: Mailbox) -> None:
    shopper = shop.register()
    mailbox.refusing.add(shopper.email)
    try:
        place_order(shop, shopper)

        def dead() -> list[dict[str, Any]]:
            r = shop.http.get("/v1/admin/notifications/dead-letters", headers=shop.admin.headers)
            assert r.status_code == 200, r.text
            return [d for d in r.json()["items"] if d["target"] == shopper.email]

        letter = wait_until(dead)[0]
        assert letter["kind"] == "order_confirmed" and "550" in letter["last_error"] and "body" not in letter
        assert mailbox.to(shopper.email) == []
    finally:
        mailbox.refusing.discard(shopper.email)
    assert_error(shop.http.get("/v1/admin/notifications/dead-letters", headers=shopper.headers), 403)
    retry = f"/v1/admin/notifications/dead-letters/{letter['id']}/retry"
    assert shop.http.post(retry, headers=shop.admin.headers).status_code == 200
    assert mails_to(mailbox, shopper.email, 1)[0]["Subject"] == letter["subject"]
    assert_error(shop.http.post(retry, headers=shop.admin.headers), 404, "dead_letter_not_found")


def test_a_password_reset_is_mailed_and_its_token_never_reaches_the_inbox(shop: Shop, mailbox: Mailbox) -> None:
    shopper = shop.register()
    assert shop.http.post("/v1/auth/password-reset", json={"email": shopper.email}).status_code == 202
    mail = mails_to(mailbox, shopper.email, 1)[0]
    token = text(mail).split("new password: ", 1)[1].split()[0]
    assert shop.http.post("/v1/auth/password-reset/confirm",
                          json={"token": token, "new_password": "Brand-new-pass-77"}).status_code == 204
    assert inbox(shop, shop.login(shopper.email, "Brand-new-pass-77"))["total"] == 0


@pytest.mark.parametrize("pref", [{"in_app": False}])
def test_in_app_off_keeps_the_inbox_empty_but_mails(shop: Shop, mailbox: Mailbox, pref: dict[str, bool]) -> None:
    shopper = shop.register()
    assert shop.http.patch("/v1/me", json={"preferences": {"notifications": pref}},
                           headers=shopper.headers).status_code == 200
    order = place_order(shop, shopper)
    assert mails_to(mailbox, shopper.email, 1)[0]["Subject"] == f"Order {order['order_number']} confirmed"
    assert inbox(shop, shopper)["total"] == 0
