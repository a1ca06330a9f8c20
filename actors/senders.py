"""The two ways a delivery leaves the shop: a mail through SMTP (aiosmtplib) and a signed webhook POST (httpx).
Each answers an `Outcome`; the notifier records it (actors/deliveries.py) and decides on a retry."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass
from email.message import EmailMessage
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


async def send_mail(settings: Settings, delivery: Delivery) -> Outcome:
    if settings.mail_via == "console":  # local development: the mail on the notifier's output (its Ray worker log)
        print(f"mail to {delivery.target}: {delivery.subject}\n{delivery.body}\n", flush=True)
        return Outcome(True)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = delivery.target
    message["Subject"] = delivery.subject
    message["Message-ID"] = f"<{delivery.id}@bazaar>"  # the same on a retry: receivers may deduplicate
    message.set_content(delivery.body)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(message, hostname=settings.smtp_host, port=settings.smtp_port,
                              use_tls=settings.smtp_tls == "tls", start_tls=settings.smtp_tls == "starttls",
                              username=settings.smtp_username, password=password,
                              timeout=settings.smtp_timeout_seconds)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        return Outcome(False, f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes))
    except aiosmtplib.SMTPResponseException as exc:
        return Outcome(False, f"{exc.code} {exc.message}", permanent=exc.code >= 500)
    except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    return Outcome(True)


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
