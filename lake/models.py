"""Models versioned in the lake, beside the events:

    <lake>/models/<name>/<version>/model.joblib   the fitted estimator (joblib)
    <lake>/models/<name>/<version>/metrics.json   how it did on its hold-out, and its chosen `threshold`
    <lake>/models/<name>/<version>/features.json  the feature names, in the order the model takes them
    <lake>/models/<name>/<version>/approved       present once an admin or operator approved it (who, when, why)

A version is a UTC timestamp (`20300615T120000Z`), so names sort by age. A version is written whole under a
hidden folder (`.writing-<version>`) and then renamed into place, so a reader never sees half of one; servers use
the newest *approved* version only. Deleting `approved` withdraws a version (servers fall back to the previous
approved one, or to none).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import joblib
from pyarrow.fs import FileSelector, FileType

from lake.layout import Lake

APPROVED = "approved"
FILES = ("model.joblib", "metrics.json", "features.json")


def version_at(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S%fZ")


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    model: Any  # the fitted estimator
    metrics: dict[str, Any]
    features: list[str]


class ModelStore:
    def __init__(self, lake: Lake, name: str) -> None:
        self.lake, self.name = lake, name
        self.folder = f"{lake.root}/models/{name}"

    def versions(self) -> list[str]:
        """Every complete version, oldest first."""
        if self.lake.fs.get_file_info(self.folder).type != FileType.Directory:
            return []
        found = self.lake.fs.get_file_info(FileSelector(self.folder))
        return sorted(info.base_name for info in found
                      if info.type == FileType.Directory and not info.base_name.startswith("."))

    def is_approved(self, version: str) -> bool:
        return self.lake.fs.get_file_info(f"{self.folder}/{version}/{APPROVED}").type == FileType.File

    def newest_approved(self) -> str | None:
        return next((v for v in reversed(self.versions()) if self.is_approved(v)), None)

    def publish(self, version: str, model: Any, metrics: dict[str, Any], features: list[str]) -> None:
        """Write a version whole, then rename it into place (an existing version is never overwritten)."""
        if version in self.versions():
            raise FileExistsError(f"model {self.name} version {version} exists already")
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        writing = f"{self.folder}/.writing-{version}"
        contents = (buffer.getvalue(), _json(metrics), _json(features))
        for file_name, content in zip(FILES, contents, strict=True):
            self.lake.write_small(f"{writing}/{file_name}", content)
        self.lake.fs.move(writing, f"{self.folder}/{version}")

    def approve(self, version: str, by: str, reason: str, at: datetime) -> None:
        if version not in self.versions():
            raise FileNotFoundError(f"no model {self.name} version {version}")
        self.lake.write_small(f"{self.folder}/{version}/{APPROVED}",
                              _json({"by": by, "reason": reason, "at": at.isoformat()}))

    def withdraw(self, version: str) -> None:
        self.lake.delete([f"{self.folder}/{version}/{APPROVED}"])

    def load(self, version: str) -> ModelVersion:
        parts = [self.lake.read_small(f"{self.folder}/{version}/{file_name}") for file_name in FILES]
        if any(part is None for part in parts):
            raise FileNotFoundError(f"model {self.name} version {version} is incomplete")
        model_bytes, metrics, features = (part or b"" for part in parts)
        return ModelVersion(self.name, version, joblib.load(io.BytesIO(model_bytes)), json.loads(metrics),
                            json.loads(features))


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True).encode()
