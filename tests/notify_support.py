"""Real counterparts for the notification tests: an SMTP server (aiosmtpd) that keeps what it receives, a reader
of a Server-Sent Events stream (a real HTTP client in a thread), and a webhook receiver that verifies signatures
as docs/webhooks.md tells a receiver to."""

from __future__ import annotations

import email
import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from aiosmtpd.controller import Controller

from domain.webhooks import SIGNATURE_HEADER, verify
from serve.local_redis import free_port


class Mailbox:
    """An aiosmtpd handler: every message it accepts, and recipients it refuses (550) while they are listed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refusing: set[str] = set()
        self.greetings = 0  # EHLOs: one per session a client opened
        self._lock = threading.Lock()

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
                          ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refusing:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


class EventStream:
    """GET /v1/notifications/stream read in a thread; `next()` waits for the next event (id, data)."""

    def __init__(self, base_url: str, token: str, last_event_id: str | None = None) -> None:
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.opened: queue.Queue[int] = queue.Queue()
        self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(60, read=None))
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._thread = threading.Thread(target=self._read, args=(headers,), daemon=True)
        self._thread.start()
        self.status = self.opened.get(timeout=60)  # the stream is subscribed once its headers arrived

    def _read(self, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", "/v1/notifications/stream", headers=headers) as response:
                self.opened.put(response.status_code)
                event_id, data = "", ""
                for line in response.iter_lines():
                    if line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line == "" and data:
                        self.events.put((event_id, json.loads(data)))
                        event_id, data = "", ""
        except httpx.HTTPError:
            self.opened.put(0)

    def next(self, timeout: float = 60) -> tuple[str, dict[str, Any]]:
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self._client.close()


class WebhookReceiver:
    """An HTTP server on a free port that accepts a delivery only when its signature verifies, its time is within
    the tolerance and its event id was not seen before (a replay is answered 409)."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[tuple[int, str]] = []
        self.seen: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                status = receiver.receive(body, self.headers.get(SIGNATURE_HEADER, ""))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, body: str, header: str) -> int:
        if not verify(self.secret, header, body, now=time.time(), tolerance=300):
            self.refused.append((401, body))
            return 401
        event = json.loads(body)
        if event["id"] in self.seen:
            self.refused.append((409, body))
            return 409
        self.seen.add(event["id"])
        self.accepted.append({"event": event, "signature": header, "body": body})
        return 200

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
