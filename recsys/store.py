"""The recommendation store in the lake: versions written whole, then switched to with one pointer file.

    <lake>/models/recsys/<version>/recommendations.json   {"users": {user_id: [product_id, ...]},
                                                            "related": {product_id: [product_id, ...]},
                                                            "popular": [product_id, ...]}
    <lake>/models/recsys/<version>/metrics.json           the evaluation table and what was trained on
    <lake>/models/recsys/CURRENT                           the version the API serves

A version's files are written (each atomically) before CURRENT names it, and CURRENT is replaced atomically, so a
reader that follows CURRENT never sees a half-written store. The newest `KEEP` versions stay; older ones are
deleted after the switch (a replica still loading one of them retries on its next check).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pyarrow.fs import FileSelector, FileType

from lake.layout import Lake
from recsys.training import Recommendations

KEEP = 3
STORE_FILE = "recommendations.json"
METRICS_FILE = "metrics.json"


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
    body = {"users": recommendations.users, "related": recommendations.related, "popular": recommendations.popular}
    lake.write_small(f"{folder}/{STORE_FILE}", orjson.dumps(body))
    lake.write_small(f"{folder}/{METRICS_FILE}", orjson.dumps({"version": version, **metrics},
                                                             option=orjson.OPT_INDENT_2))
    lake.write_small(current_path(lake), version.encode())
    _prune(lake, keep=version)
    return version


def current_version(lake: Lake) -> str | None:
    raw = lake.read_small(current_path(lake))
    return raw.decode().strip() or None if raw else None


@dataclass(frozen=True)
class Store:
    version: str
    users: dict[str, list[str]]
    related: dict[str, list[str]]
    popular: list[str]


def load(lake: Lake, version: str) -> Store | None:
    """The store of `version`, or None when its files are gone (pruned since)."""
    raw = lake.read_small(f"{models_dir(lake)}/{version}/{STORE_FILE}")
    if raw is None:
        return None
    body = orjson.loads(raw)
    return Store(version, body["users"], body["related"], body["popular"])


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
