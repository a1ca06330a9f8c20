"""The two ways a delivery leaves the shop: a mail through SMTP (aiosmtplib) and a signed webhook POST (httpx).
Each answers an `Outcome`; the notifier records it (actors/deliveries.py) and decides on a retry."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
import httpx

from config import Settings
from domain.deliveries import Delivery
from domain.webhooks import SIGNATURE_HEADER, Webhook, public_address, signature


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False  # refused for good (a 5xx SMTP reply, an endpoint that is gone): no retry
    status_code: int | None = None


class MailSender:
    """Mail through SMTP: the mails due at once go over a few sessions (`SESSIONS`), each sending its share one after
    another over one connection, so a batch costs a few connections and greetings rather than one per mail (at
    checkout rates the per-mail connection, its EHLO and a fresh `getfqdn` were most of the notifier's time).
    Sessions are kept open between batches for up to `IDLE_SECONDS` (the notifier sends a batch every fraction of
    a second under load: the connection, greeting, EHLO and QUIT were a fifth of each mail's exchanges). A kept
    session the server has closed meanwhile is opened again for the mail that found it closed. A session that
    breaks fails the rest of its share, to be retried."""

    SESSIONS = 4
    IDLE_SECONDS = 30.0  # well under the 5 minutes RFC 5321 asks a server to wait for a client's next command

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sender = parseaddr(settings.smtp_from)[1] or settings.smtp_from
        self._hostname: str | None = None
        self._kept: list[tuple[aiosmtplib.SMTP, float]] = []  # open sessions and when each was last used
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the kept sessions belong to

    async def send(self, deliveries: list[Delivery]) -> list[Outcome]:
        """One outcome per delivery, in order."""
        if self.settings.mail_via == "console":  # local development: on the notifier's output (its Ray worker log)
            for delivery in deliveries:
                print(f"mail to {delivery.target}: {delivery.subject}\n{delivery.body}\n", flush=True)
            return [Outcome(True)] * len(deliveries)
        if self._hostname is None:  # the EHLO name, looked up once (it may ask DNS)
            self._hostname = await asyncio.to_thread(socket.getfqdn)
        await self._drop_stale()
        shares = [deliveries[n::self.SESSIONS] for n in range(min(self.SESSIONS, len(deliveries)))]
        answered = await asyncio.gather(*(self._session(share) for share in shares))
        outcomes: list[Outcome] = [Outcome(False)] * len(deliveries)
        for n, share_outcomes in enumerate(answered):
            outcomes[n::self.SESSIONS] = share_outcomes
        return outcomes

    async def _session(self, deliveries: list[Delivery]) -> list[Outcome]:
        client = self._kept.pop()[0] if self._kept else None
        outcomes: list[Outcome] = []
        try:
            if client is None:
                client = await self._connect()
            else:  # kept open since an earlier batch: the server may have closed it meanwhile
                outcome = await self._one(client, deliveries[0])
                if not outcome.ok and not client.is_connected:
                    client = await self._connect()
                    outcome = await self._one(client, deliveries[0])
                outcomes.append(outcome)
            for delivery in deliveries[len(outcomes):]:
                if outcomes and not outcomes[-1].ok and not client.is_connected:
                    break
                outcomes.append(await self._one(client, delivery))
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            outcomes.append(Outcome(False, f"{type(exc).__name__}: {exc}"))
        finally:
            if client is not None and client.is_connected:
                self._kept.append((client, time.monotonic()))
        broken = outcomes[-1] if outcomes and not outcomes[-1].ok else Outcome(False, "the session ended")
        return outcomes + [broken] * (len(deliveries) - len(outcomes))

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        client = aiosmtplib.SMTP(hostname=settings.smtp_host, port=settings.smtp_port, local_hostname=self._hostname,
                                 use_tls=settings.smtp_tls == "tls", start_tls=settings.smtp_tls == "starttls",
                                 username=settings.smtp_username, password=password,
                                 timeout=settings.smtp_timeout_seconds)
        await client.connect()
        return client

    async def _drop_stale(self) -> None:
        """Close kept sessions idle for longer than `IDLE_SECONDS`, and all of them if this is another event loop
        than theirs (a connection belongs to the loop that opened it)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._kept, self._loop = [], loop  # the old loop's transports went with it
        now = time.monotonic()
        stale = [client for client, used in self._kept if now - used > self.IDLE_SECONDS]
        self._kept = [(client, used) for client, used in self._kept if now - used <= self.IDLE_SECONDS]
        await asyncio.gather(*(self._quit(client) for client in stale))

    async def close(self) -> None:
        kept, self._kept = self._kept, []
        await asyncio.gather(*(self._quit(client) for client, _ in kept))

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        try:
            await client.quit()
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            client.close()

    async def _one(self, client: aiosmtplib.SMTP, delivery: Delivery) -> Outcome:
        try:
            await client.sendmail(self.sender, [delivery.target], mail_bytes(self.settings.smtp_from, delivery))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            return Outcome(False, f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes))
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome(False, f"{exc.code} {exc.message}", permanent=exc.code >= 500)
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            return Outcome(False, f"{type(exc).__name__}: {exc}")
        except ValueError as exc:  # an address SMTP cannot carry: it never will
            return Outcome(False, f"unusable address: {exc}", permanent=True)
        return Outcome(True)


def mail_bytes(from_: str, delivery: Delivery) -> bytes:
    """The message as sent: UTF-8 text, a non-ASCII subject encoded (RFC 2047), and the delivery's own Message-ID,
    the same on a retry (receivers may deduplicate). Every header value is put on one line first.

    Where every header is short ASCII (nearly every mail: an address and "Your order ... is confirmed"), the bytes
    are written out here, the very bytes `email` makes (tests/unit/test_mail_bytes.py compares them): `email` took
    a fifth of the notifier's CPU, 0.3 ms a mail. Anything else (a non-ASCII subject or address, a header long
    enough to be folded) goes through `email`."""
    headers = mail_headers(from_, delivery)
    if all(value.isascii() and len(value) <= _PLAIN_HEADER_MAX for value in headers):
        from_line, to, subject, message_id = headers
        return b"".join((_MAIL_PREAMBLE, f"From: {from_line}\nTo: {to}\nSubject: {subject}\n"
                         f"Date: {formatdate(usegmt=True)}\nMessage-ID: {message_id}\n\n".encode(),
                         base64.encodebytes(delivery.body.encode())))
    return _mail_bytes_by_email(headers, delivery.body)


def mail_headers(from_: str, delivery: Delivery) -> tuple[str, str, str, str]:
    """From, To, Subject and Message-ID, each on one line."""
    return (one_line(from_), one_line(delivery.target), one_line(delivery.subject),
            f"<{one_line(delivery.id)}@bazaar>")


_MAIL_PREAMBLE = b'Content-Type: text/plain; charset="utf-8"\nMIME-Version: 1.0\nContent-Transfer-Encoding: base64\n'
_PLAIN_HEADER_MAX = 60  # "Message-ID: " and the value within 78 characters: no header needs folding


def _mail_bytes_by_email(headers: tuple[str, str, str, str], body: str) -> bytes:
    """Built with the compat32 classes (a fifth of the cost of EmailMessage's header registry), which do not refuse
    a line break in a header: `headers` are each on one line already (`mail_headers`)."""
    from_line, to, subject, message_id = headers
    message = MIMEText(body, "plain", "utf-8")
    message["From"] = from_line
    message["To"] = to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # type: ignore[assignment]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    return message.as_bytes()


def one_line(value: str) -> str:
    return " ".join(value.split())


async def resolves_publicly(url: str) -> bool:
    """Every address the URL's host resolves to is public (checked again at each delivery: DNS may change)."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(public_address(str(info[4][0])) for info in infos)


class WebhookSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:  # no redirects: a 3xx could point a delivery at an address we refuse
            self._client = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds, follow_redirects=False)
        return self._client

    async def send(self, webhook: Webhook | None, delivery: Delivery) -> Outcome:
        if webhook is None:
            return Outcome(False, "the endpoint was deleted", permanent=True)
        if not self.settings.private_webhooks_allowed and not await resolves_publicly(webhook.url):
            return Outcome(False, "the endpoint's address is not public", permanent=True)
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: signature(webhook.secret, timestamp, delivery.body),
                   "Bazaar-Event-Id": delivery.subject, "Bazaar-Event-Type": delivery.kind,
                   "User-Agent": "Bazaar-Webhooks/1"}
        try:
            response = await self.client.post(webhook.url, content=delivery.body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, f"{type(exc).__name__}: {exc}")
        if 200 <= response.status_code < 300:
            return Outcome(True, status_code=response.status_code)
        return Outcome(False, f"answered {response.status_code}", permanent=response.status_code == 410,
                       status_code=response.status_code)


def webhook_body(event_id: str, type: str, at: str, data: dict[str, Any]) -> str:
    return json.dumps({"id": event_id, "type": type, "at": at, "data": data}, sort_keys=True, separators=(",", ":"))
