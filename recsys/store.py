"""The recommendation store in the lake: versions written whole, then switched to with one pointer file.

    <lake>/models/recsys/<version>/products.json    the product ids every list below points into, by position
    <lake>/models/recsys/<version>/users.json       the shoppers' ids, one per row of for_you.npy
    <lake>/models/recsys/<version>/for_you.npy      int32 [shoppers x N]: each shopper's candidates, best first
    <lake>/models/recsys/<version>/related.npy      int32 [products x R]: each product's related products
    <lake>/models/recsys/<version>/popular.npy      int32 [P]: the popular products
    <lake>/models/recsys/<version>/metrics.json     the evaluation table and what was trained on
    <lake>/models/recsys/CURRENT                    the version the API serves

Lists are rows of product positions padded with -1, so an API replica holds a million shoppers' 50 candidates in
200 MB of one array rather than in Python lists of strings. A version's files are written (each atomically)
before CURRENT names it, and CURRENT is replaced atomically, so a reader that follows CURRENT never sees a
half-written store. The newest `KEEP` versions stay; older ones are deleted after the switch (a replica still
loading one of them keeps what it has and finds the newer one at its next check).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
from pyarrow.fs import FileSelector, FileType

from lake.layout import Lake
from recsys.training import Recommendations

KEEP = 3
METRICS_FILE = "metrics.json"
NONE = -1  # padding of a row
FILES = ("products.json", "users.json", "for_you.npy", "related.npy", "popular.npy")


def models_dir(lake: Lake) -> str:
    return f"{lake.root}/models/recsys"


def current_path(lake: Lake) -> str:
    return f"{models_dir(lake)}/CURRENT"


def new_version() -> str:
    """Sortable by time: 20261203T062512123Z-1a2b."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3] + "Z-" + secrets.token_hex(2)


def publish(lake: Lake, recommendations: Recommendations, metrics: dict[str, Any], version: str | None = None
            ) -> str:
    """Write a new version and make it the current one; returns the version."""
    version = version or new_version()
    folder = f"{models_dir(lake)}/{version}"
    users = list(recommendations.users)
    products = list(dict.fromkeys([*recommendations.popular, *recommendations.related,
                                   *(p for lists in (recommendations.users, recommendations.related)
                                     for found in lists.values() for p in found)]))
    position = {product_id: n for n, product_id in enumerate(products)}
    lake.write_small(f"{folder}/products.json", orjson.dumps(products))
    lake.write_small(f"{folder}/users.json", orjson.dumps(users))
    lake.write_small(f"{folder}/for_you.npy", _npy(_rows([recommendations.users[u] for u in users], position)))
    lake.write_small(f"{folder}/related.npy",
                     _npy(_rows([recommendations.related.get(p, []) for p in products], position)))
    lake.write_small(f"{folder}/popular.npy",
                     _npy(np.asarray([position[p] for p in recommendations.popular], dtype=np.int32)))
    lake.write_small(f"{folder}/{METRICS_FILE}", orjson.dumps({"version": version, **metrics},
                                                             option=orjson.OPT_INDENT_2))
    lake.write_small(current_path(lake), version.encode())
    _prune(lake, keep=version)
    return version


def _rows(lists: list[list[str]], position: dict[str, int]) -> np.ndarray:
    rows = np.full((len(lists), max((len(found) for found in lists), default=0)), NONE, dtype=np.int32)
    for n, found in enumerate(lists):
        rows[n, :len(found)] = [position[p] for p in found]
    return rows


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=False)
    return out.getvalue()


def current_version(lake: Lake) -> str | None:
    raw = lake.read_small(current_path(lake))
    return raw.decode().strip() or None if raw else None


@dataclass(frozen=True)
class Store:
    version: str
    products: list[str]
    users: dict[str, int]  # user_id -> row of for_you
    for_you: np.ndarray
    related_rows: np.ndarray
    popular_rows: np.ndarray
    product_row: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.product_row.update((product_id, n) for n, product_id in enumerate(self.products))

    def for_user(self, user_id: str) -> list[str]:
        row = self.users.get(user_id)
        return [] if row is None else self._ids(self.for_you[row])

    def related(self, product_id: str) -> list[str]:
        row = self.product_row.get(product_id)
        return [] if row is None or row >= len(self.related_rows) else self._ids(self.related_rows[row])

    @property
    def popular(self) -> list[str]:
        return self._ids(self.popular_rows)

    def _ids(self, row: np.ndarray) -> list[str]:
        return [self.products[n] for n in row.tolist() if n != NONE]


def load(lake: Lake, version: str) -> Store | None:
    """The store of `version`, or None when its files are gone (pruned since)."""
    found: dict[str, bytes] = {}
    for name in FILES:
        raw = lake.read_small(f"{models_dir(lake)}/{version}/{name}")
        if raw is None:
            return None
        found[name] = raw
    arrays = [np.load(io.BytesIO(found[name]), allow_pickle=False) for name in FILES[2:]]
    users = {user_id: n for n, user_id in enumerate(orjson.loads(found["users.json"]))}
    return Store(version, orjson.loads(found["products.json"]), users, *arrays)


def read_metrics(lake: Lake, version: str) -> dict[str, Any] | None:
    raw = lake.read_small(f"{models_dir(lake)}/{version}/{METRICS_FILE}")
    return None if raw is None else dict(orjson.loads(raw))


def versions(lake: Lake) -> list[str]:
    selector = FileSelector(models_dir(lake), allow_not_found=True)
    return sorted(info.base_name for info in lake.fs.get_file_info(selector) if info.type == FileType.Directory)


def _prune(lake: Lake, keep: str) -> None:
    for version in versions(lake)[:-KEEP]:
        if version != keep:
            lake.fs.delete_dir(f"{models_dir(lake)}/{version}")
