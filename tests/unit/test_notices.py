"""What becomes a notification and for whom, a webhook's view and signature, and the retry rule: pure rules."""

from __future__ import annotations

import asyncio
import email
import re
from email.header import decode_header, make_header

from actors.senders import mail_bytes, resolves_publicly
from domain.deliveries import Delivery, retry_delay
from domain.ids import ID_PATTERN, derived_id
from domain.notices import Facts, notices, restocked
from domain.users import Notifications
from domain.webhooks import public_address, seller_view, signature, verify

SHOPPER = "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"


def kinds(type: str, data: dict[str, object], facts: Facts | None = None) -> list[str]:
    return [n.kind for n in notices("evt_1", type, data, facts or Facts())]


def test_an_order_confirmation_is_one_notice_whether_created_or_confirmed() -> None:
    data = {"order_id": "ord_1", "user_id": SHOPPER, "order_number": "BZ-1"}
    created, confirmed = (notices(f"evt_{n}", t, data, Facts())[0] for n, t in
                          enumerate(("order.created", "order.confirmed")))
    assert created.kind == confirmed.kind == "order_confirmed" and created.key == confirmed.key == "ord_1"
    assert "BZ-1" in created.title


def test_only_a_declined_payment_tells_the_shopper_and_never_why() -> None:
    assert kinds("checkout.failed", {"user_id": SHOPPER, "reason": "out_of_stock"}) == []
    [notice] = notices("evt_1", "checkout.failed", {"user_id": SHOPPER, "reason": "payment_declined:risk"}, Facts())
    assert notice.kind == "payment_failed" and "risk" not in notice.body + notice.title


def test_a_price_drop_counts_the_sale_price_and_a_rise_is_no_news() -> None:
    base = {"product_id": "prd_1", "variant_id": "var_1", "currency": "USD", "old_price": 5000}
    assert kinds("product.price_changed", {**base, "old_sale_price": None, "price": 5000, "sale_price": 4000}) == [
        "price_drop"]
    assert kinds("product.price_changed", {**base, "old_sale_price": 4000, "price": 5000, "sale_price": None}) == []
    assert kinds("product.price_changed", {**base, "old_sale_price": None, "price": 6000, "sale_price": None}) == []


def test_back_in_stock_is_a_variant_going_from_none_to_some() -> None:
    facts = Facts(available={"var_a": 4, "var_b": 9})
    assert restocked({"variant_id": "var_a", "delta": 4, "available": 4}, facts) == ["var_a"]
    assert restocked({"variant_id": "var_a", "delta": 2, "available": 4}, facts) == []
    assert restocked({"lines": {"var_a": 4, "var_b": 3}}, facts) == ["var_a"]  # var_b had 6 before
    facts.variant_products = {"var_a": "prd_1"}
    [notice] = notices("evt_1", "inventory.released", {"lines": {"var_a": 4}}, facts)
    assert (notice.audience.kind, notice.audience.id, notice.audience.variant_id) == ("wishlisters", "prd_1", "var_a")


def test_a_refund_of_nothing_is_not_news_and_unknown_types_notify_no_one() -> None:
    assert kinds("order.lines_cancelled", {"user_id": SHOPPER, "order_id": "o", "refund_amount": 0}) == []
    assert kinds("return.refunded", {"user_id": SHOPPER, "order_id": "o", "refund_amount": 5}) == ["refund_issued"]
    assert kinds("cart.item_added", {"user_id": SHOPPER}) == []


def test_preferences_mute_kinds_but_never_a_password_reset() -> None:
    prefs = Notifications(email=False, muted=("price_drop",))
    assert not prefs.wants("order_shipped", "email") and prefs.wants("order_shipped", "in_app")
    assert not prefs.wants("price_drop", "in_app")
    assert prefs.wants("password_reset", "email") and not prefs.wants("password_reset", "in_app")


def test_a_derived_id_is_stable_and_of_the_usual_shape() -> None:
    first = derived_id("ntf", "evt_1", SHOPPER, "order_confirmed")
    assert first == derived_id("ntf", "evt_1", SHOPPER, "order_confirmed") and re.match(ID_PATTERN, first)
    assert first != derived_id("ntf", "evt_1", SHOPPER, "order_shipped")


def test_a_seller_sees_its_own_lines_and_no_shopper_data() -> None:
    data = {"order_id": "o", "user_id": SHOPPER, "client_ip": "1.2.3.4", "status": "confirmed",
            "items": [{"variant_id": "a", "seller_id": "sel_1"}, {"variant_id": "b", "seller_id": "sel_2"}]}
    view = seller_view(data, "order.created", "sel_1", {})
    assert view == {"order_id": "o", "status": "confirmed", "items": [{"variant_id": "a", "seller_id": "sel_1"}]}
    assert seller_view(data, "order.created", "sel_3", {}) is None
    assert seller_view({"product_id": "p", "user_id": SHOPPER}, "product.updated", "sel_1", {"p": "sel_1"}) == {
        "product_id": "p"}
    assert seller_view({"product_id": "p"}, "product.updated", "sel_2", {"p": "sel_1"}) is None


def test_a_signature_verifies_only_unchanged_and_recent() -> None:
    header = signature("whsec_x", 1_000_000, '{"id":"evt_1"}')
    assert verify("whsec_x", header, '{"id":"evt_1"}', now=1_000_100)
    assert not verify("whsec_x", header, '{"id":"evt_2"}', now=1_000_100)
    assert not verify("whsec_y", header, '{"id":"evt_1"}', now=1_000_100)
    assert not verify("whsec_x", header, '{"id":"evt_1"}', now=1_000_000 + 301)
    assert not verify("whsec_x", "garbage", "{}", now=0)


def test_private_addresses_are_not_public() -> None:
    assert public_address("93.184.216.34") and not public_address("127.0.0.1")
    assert not any(public_address(a) for a in ("10.0.0.1", "192.168.1.1", "169.254.169.254", "::1", "::ffff:10.0.0.1"))


def test_loopback_hosts_do_not_resolve_publicly() -> None:
    assert not asyncio.run(resolves_publicly("http://127.0.0.1:8080/hook"))
    assert not asyncio.run(resolves_publicly("http://localhost/hook"))
    assert not asyncio.run(resolves_publicly("http://[::1]/hook"))


def test_retries_back_off_to_a_cap_and_a_permanent_refusal_is_dead_at_once() -> None:
    assert [retry_delay(n, 2, 30) for n in (1, 2, 3, 4, 5, 60)] == [2, 4, 8, 16, 30, 30]
    mail = Delivery("dlv_1", "mail", "a@example.com", "order_shipped", "s", "b", 0.0)
    assert not mail.failed("451 later", 1.0, max_attempts=3) and mail.attempts == 1
    assert mail.failed("550 no such mailbox", 2.0, max_attempts=3, permanent=True) and mail.state == "dead"
    assert "body" not in mail.summary() and mail.revived().attempts == 0


def test_a_mail_carries_its_subject_and_body_whole_and_no_header_a_product_name_could_inject() -> None:
    subject = "Back in stock: Crème brûlée torch\r\nBcc: thief@example.com"
    raw = mail_bytes("Bazaar <no-reply@bazaar.local>", Delivery(
        "dlv_1", "mail", "ada@example.com", "back_in_stock", subject, "Größe M is back.\nBuy it now.", 0.0))
    message = email.message_from_bytes(raw)
    assert message["Bcc"] is None and message.get_all("To") == ["ada@example.com"]
    assert str(make_header(decode_header(message["Subject"]))) == " ".join(subject.split())
    assert message["Message-ID"] == "<dlv_1@bazaar>" and message["Date"]
    assert message.get_payload(decode=True).decode() == "Größe M is back.\nBuy it now."
