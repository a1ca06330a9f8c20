"""The notifier's mail path against a real SMTP server (aiosmtpd): the mails due at once go over a few sessions, a
refused recipient fails alone and for good, and a server that is not there fails every mail for a retry."""

from __future__ import annotations

import asyncio

from aiosmtpd.controller import Controller

from actors.senders import MailSender
from config import Settings
from domain.deliveries import Delivery
from serve.local_redis import free_port
from tests.notify_support import Mailbox, smtp_server


def mail(n: int, to: str) -> Delivery:
    return Delivery(f"dlv_{n}", "mail", to, "order_confirmed", f"Order BZ-{n} confirmed", f"Thanks for order {n}.", 0.0)


def test_a_batch_goes_over_a_few_sessions_and_a_refused_recipient_fails_alone_and_for_good(settings: Settings) -> None:
    with smtp_server() as (mailbox, port):
        mailbox.refusing.add("gone@example.com")
        sender = MailSender(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}))
        batch = [mail(n, "gone@example.com" if n == 3 else f"shopper{n}@example.com") for n in range(1, 10)]
        outcomes = asyncio.run(sender.send(batch))
        delivered = sorted(m["Message-ID"] for m in mailbox.messages)
    assert [(o.ok, o.permanent) for o in outcomes] == [(n != 3, n == 3) for n in range(1, 10)]
    assert delivered == sorted(f"<dlv_{n}@bazaar>" for n in range(1, 10) if n != 3)


def test_without_a_mail_server_every_mail_of_the_batch_fails_for_a_retry(settings: Settings) -> None:
    sender = MailSender(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()}))
    outcomes = asyncio.run(sender.send([mail(n, f"shopper{n}@example.com") for n in range(1, 6)]))
    assert len(outcomes) == 5 and not any(o.ok or o.permanent for o in outcomes)
    assert all(o.error for o in outcomes)



def test_sessions_stay_open_between_batches_and_one_the_server_closed_is_opened_again(settings: Settings) -> None:
    first, port = Mailbox(), free_port()
    controller = Controller(first, hostname="127.0.0.1", port=port)
    controller.start()
    sender = MailSender(settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port}))
    restarted = Mailbox()

    async def batches() -> list[list[bool]]:
        nonlocal controller
        sent = [[o.ok for o in await sender.send([mail(n, f"a{n}@example.com") for n in range(1, 9)])]]
        assert first.greetings == MailSender.SESSIONS
        sent.append([o.ok for o in await sender.send([mail(n, f"b{n}@example.com") for n in range(11, 19)])])
        assert first.greetings == MailSender.SESSIONS  # the second batch went over the sessions kept open
        controller.stop()  # the server goes away, closing the kept sessions, and comes back on the same port
        controller = Controller(restarted, hostname="127.0.0.1", port=port)
        controller.start()
        sent.append([o.ok for o in await sender.send([mail(n, f"c{n}@example.com") for n in range(21, 29)])])
        await sender.close()
        return sent

    try:
        assert asyncio.run(batches()) == [[True] * 8] * 3
    finally:
        controller.stop()
    assert len(first.messages) == 16 and len(restarted.messages) == 8
    assert restarted.greetings == MailSender.SESSIONS
