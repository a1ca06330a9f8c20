"""Shared request-model base: unknown fields are refused, strings are trimmed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, StringConstraints

from domain.ids import ID_PATTERN


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]

# A path parameter that must be one of our ids: malformed ids get a 422 in the contract's shape.
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
