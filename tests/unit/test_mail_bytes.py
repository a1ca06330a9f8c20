"""A mail's bytes (actors/senders.py `mail_bytes`): written out by hand for short ASCII headers, they are exactly
what the `email` package makes of the same delivery; anything else is made by `email`."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import senders
from domain.deliveries import Delivery

FROM = "Bazaar <shop@bazaar.test>"


@pytest.fixture(autouse=True)
def fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(senders, "formatdate", lambda usegmt: "Thu, 03 Dec 2026 16:34:27 GMT")


def delivery(subject: str, body: str, target: str = "ada@example.com") -> Delivery:
    return Delivery(id="dlv-01JZ8Q", queue="mail", target=target, kind="order.confirmed", subject=subject, body=body,
                    created_at=0)


texts = (st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
         | st.text(st.characters(codec="ascii"), max_size=120))


@settings(max_examples=300, deadline=None)
@given(subject=texts, body=texts, target=st.emails() | st.sampled_from(["ada@example.com", "zoë@exämple.com"]))
def test_every_mail_is_the_bytes_email_makes(subject: str, body: str, target: str) -> None:
    mail = delivery(subject, body, target)
    assert senders.mail_bytes(FROM, mail) == senders._mail_bytes_by_email(senders.mail_headers(FROM, mail), mail.body)


@pytest.mark.parametrize("subject", ["Your order BZ-1234 is confirmed", "Votre commande est confirmée",
                                     "A subject long enough to be folded by the email package " * 2])
def test_a_mail_reads_back_as_sent(subject: str) -> None:
    raw = senders.mail_bytes(FROM, delivery(subject, "Hello Ada,\n\nTotal: 12,00 €\n"))
    parsed = message_from_bytes(raw)
    assert " ".join(str(make_header(decode_header(parsed["Subject"]))).split()) == " ".join(subject.split())
    assert (parsed["From"], parsed["To"], parsed["Message-ID"]) == (FROM, "ada@example.com", "<dlv-01JZ8Q@bazaar>")
    assert parsed.get_payload(decode=True).decode() == "Hello Ada,\n\nTotal: 12,00 €\n"
