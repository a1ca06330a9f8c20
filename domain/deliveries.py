"""A delivery (a mail, a webhook call) and its retry rule, shared by the mailer and the webhook sender."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Queue = Literal["mail", "webhook"]


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds before the next try after `attempt` failed tries (1, 2, ...): base, 2*base, 4*base ... at most cap."""
    return float(min(cap, base * 2 ** max(0, min(attempt - 1, 30))))


@dataclass
class Delivery:
    id: str
    queue: Queue
    target: str  # the mail's recipient or the webhook's id
    kind: str  # the notice kind, or the event type of a webhook call
    subject: str  # the mail's subject, or the event id of a webhook call
    body: str  # the mail's text, or the JSON body posted
    created_at: float
    user_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: float | None = None
    state: Literal["pending", "dead"] = "pending"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        return cls(**data)

    def failed(self, error: str, at: float, max_attempts: int, permanent: bool = False) -> bool:
        """Record a failed try; True when it is now a dead letter (out of attempts, or refused for good)."""
        self.attempts += 1
        self.last_error = error[:500]
        self.last_attempt_at = at
        if permanent or self.attempts >= max_attempts:
            self.state = "dead"
        return self.state == "dead"

    def revived(self) -> Delivery:
        """A dead letter an admin sends again: a fresh set of attempts."""
        self.state, self.attempts = "pending", 0
        return self

    def summary(self) -> dict[str, Any]:
        """What an admin sees of a dead letter: never its body (a reset mail carries a token)."""
        return {"id": self.id, "queue": self.queue, "target": self.target, "kind": self.kind,
                "subject": self.subject if self.queue == "mail" else None, "attempts": self.attempts,
                "last_error": self.last_error, "last_attempt_at": self.last_attempt_at, "created_at": self.created_at}
