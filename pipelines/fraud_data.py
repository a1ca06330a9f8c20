"""The fraud model's training data from the lake: every `order.created` that carries the fraud signals (orders
from before they were recorded are skipped), labelled by whether a `payment.chargeback` names it, and each
order's features from the orders before it only (domain/fraud_features.py `HistoryReplay`).
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
from pyarrow.fs import FileType
from tqdm import tqdm

from domain.fraud_features import FEATURES, HistoryReplay, PlacedOrder, vector
from lake.layout import Lake
from lake.schemas import schema_for

ORDER_COLUMNS = ["order_id", "user_id", "total", "event_at", "card_fingerprint", "client_ip", "card_country",
                 "ship_country", "account_created_at"]


@dataclass(frozen=True)
class TrainingSet:
    """Orders in time order: features (FEATURES), labels (1 = charged back), and what the rules look at."""

    order_ids: list[str]
    at: np.ndarray  # epoch seconds
    features: np.ndarray  # (orders, len(FEATURES)); NaN where a feature is unknown
    labels: np.ndarray  # 0/1
    rule_inputs: list[tuple[int, int, int]]  # (total, user orders in the hour, card orders in the hour)

    def __len__(self) -> int:
        return len(self.order_ids)

    def first(self, count: int) -> TrainingSet:
        return replace(self, order_ids=self.order_ids[:count], at=self.at[:count], features=self.features[:count],
                       labels=self.labels[:count], rule_inputs=self.rule_inputs[:count])


def read_events(lake: Lake, event_type: str, columns: list[str]) -> pa.Table:
    """One event type's rows (only `columns`), or an empty table when the lake has none yet. Files written before a
    column existed read as nulls in it."""
    schema = schema_for(event_type)
    folder = lake.type_dir(event_type)
    if lake.fs.get_file_info(folder).type != FileType.Directory:
        return schema.empty_table().select(columns)
    return ds.dataset(folder, schema=schema, filesystem=lake.fs, format="parquet").to_table(columns=columns)


def placed_orders(lake: Lake) -> list[PlacedOrder]:
    rows = read_events(lake, "order.created", ORDER_COLUMNS).to_pylist()
    orders = [_placed(row) for row in rows if row["card_fingerprint"] and row["total"] is not None]
    orders.sort(key=lambda order: (order.at, order.order_id))
    return orders


def charged_back(lake: Lake) -> dict[str, float]:
    """Charged-back order ids -> when the chargeback came (epoch seconds)."""
    rows = read_events(lake, "payment.chargeback", ["order_id", "event_at"]).to_pylist()
    return {row["order_id"]: _epoch(row["event_at"]) for row in rows}


def matured(data: TrainingSet, charged: dict[str, float]) -> TrainingSet:
    """The orders old enough to be labelled: placed before the newest chargeback less the median time orders took
    to be charged back. A later order may still be charged back (the label is not known yet): kept, it would count
    as honest fraud that was simply not reported yet."""
    delays = [charged[order_id] - at for order_id, at in zip(data.order_ids, data.at, strict=True)
              if order_id in charged]
    if not delays:
        return data
    horizon = max(charged.values()) - float(np.median(delays))
    return data.first(int(np.searchsorted(data.at, horizon, side="right")))


def training_set(orders: Iterable[PlacedOrder], charged: Container[str], progress: bool = False) -> TrainingSet:
    replay = HistoryReplay()
    ids, times, rows, labels, rule_inputs = [], [], [], [], []
    for order in tqdm(list(orders), desc="fraud features", unit="order", disable=not progress):
        signals = replay.signals(order)
        replay.record(order)
        ids.append(order.order_id)
        times.append(order.at.timestamp())
        rows.append(vector(signals))
        labels.append(int(order.order_id in charged))
        rule_inputs.append((order.total, signals.user_orders_hour, signals.card_orders_hour))
    features = np.array(rows, dtype=float).reshape(len(rows), len(FEATURES))
    return TrainingSet(ids, np.array(times, dtype=float), features, np.array(labels, dtype=int), rule_inputs)


def _epoch(at: object) -> float:
    assert isinstance(at, datetime)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _placed(row: dict[str, object]) -> PlacedOrder:
    at = row["event_at"]
    assert isinstance(at, datetime)
    created = row["account_created_at"]
    return PlacedOrder(str(row["order_id"]), str(row["user_id"]), int(row["total"]),  # type: ignore[call-overload]
                       at if at.tzinfo else at.replace(tzinfo=UTC), str(row["card_fingerprint"]),
                       str(row["client_ip"] or ""), str(row["card_country"] or ""), str(row["ship_country"] or ""),
                       datetime.fromisoformat(created) if isinstance(created, str) and created else None)
