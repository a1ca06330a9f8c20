"""The fraud model as the shopper shard holds it: the newest approved version in the lake (lake/models.py), in
memory, so scoring a checkout is a function call, not a hop.

`refresh()` (blocking file reads: the shard runs it in a thread from its timer, at start and then at most every
`fraud_model_check_seconds`) loads a newer approved version when one appears, and drops the model when none is
approved any more. Until a model is loaded, and whenever one cannot be read, `score` is None and the rules alone
decide (domain/fraud.py). A version whose features are not today's `FEATURES` is refused, never misread.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from typing import Any

from domain.clock import now
from domain.fraud_features import FEATURES, OrderSignals, ShopperHistory, vector
from domain.payments import CardInfo
from lake.layout import Lake
from lake.models import ModelStore, ModelVersion

log = logging.getLogger(__name__)
MODEL_NAME = "fraud"


class FraudModelWatch:
    def __init__(self, lake_url: str, check_seconds: float) -> None:
        self.lake_url = lake_url
        self.check_seconds = check_seconds
        self.current: ModelVersion | None = None
        self._checked_at = -math.inf
        self._refused: set[str] = set()

    @property
    def version(self) -> str | None:
        return None if self.current is None else self.current.version

    @property
    def threshold(self) -> float:
        return float(self.current.metrics["threshold"]) if self.current is not None else math.inf

    def due(self) -> bool:
        return time.monotonic() - self._checked_at >= self.check_seconds

    def refresh(self) -> None:
        self._checked_at = time.monotonic()
        try:
            store = ModelStore(Lake(self.lake_url), MODEL_NAME)
            newest = store.newest_approved()
            if newest is None or newest in self._refused:
                if newest is None and self.current is not None:
                    log.info("fraud model %s withdrawn: rules only", self.current.version)
                    self.current = None
                return
            if newest != self.version:
                self.current = self._checked(store.load(newest))
        except Exception:  # an unreadable lake keeps what is loaded; the rules stay the floor either way
            log.exception("fraud model check failed; keeping %s", self.version)

    def _checked(self, loaded: ModelVersion) -> ModelVersion | None:
        if tuple(loaded.features) != FEATURES or "threshold" not in loaded.metrics:
            log.error("fraud model %s has features %s, not %s: not used", loaded.version, loaded.features, FEATURES)
            self._refused.add(loaded.version)
            return self.current
        log.info("fraud model %s loaded (threshold %s)", loaded.version, loaded.metrics["threshold"])
        return loaded

    def score(self, signals: OrderSignals) -> float | None:
        """The probability of fraud the model gives this order, or None when there is no model."""
        current = self.current
        if current is None:
            return None
        try:
            return round(float(current.model.predict_proba([vector(signals)])[0][1]), 4)
        except Exception:  # a model that cannot score leaves the decision to the rules
            log.exception("fraud model %s could not score a checkout", current.version)
            return None


def checkout_signals(total: int, card: CardInfo, history: ShopperHistory, recent: dict[tuple[str, str], int],
                     user_id: str, client_ip: str, account_created_at: str | None, address: dict[str, Any]
                     ) -> OrderSignals:
    """A checkout's signals from what the shopper shard read for it (the velocity counts hold the orders before
    this one, so it is added to each)."""
    return OrderSignals(total, card.fingerprint, history, recent[("user", user_id)] + 1,
                        recent[("card", card.fingerprint)] + 1, recent[("ip", client_ip)] + 1,
                        datetime.fromisoformat(account_created_at) if account_created_at else None, card.country,
                        str(address.get("country") or ""), now())
