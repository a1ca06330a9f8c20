"""The API's docs and schema are served in development and tests, and off in production unless asked for. Checked on
the FastAPI app itself (no Ray, no Redis: nothing is called)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from config import load_settings
from serve.api import create_api

DOCS = ("/docs", "/redoc", "/openapi.json")


def answers(tmp_path: Path, **overrides: object) -> dict[str, int]:
    settings = load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0",
                             jwt_secret="unit-test-secret-0123456789-0123456789", **overrides)

    async def ask() -> dict[str, int]:
        transport = httpx.ASGITransport(app=create_api(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            return {path: (await client.get(path)).status_code for path in DOCS}

    return asyncio.run(ask())


@pytest.mark.parametrize("env", ["local", "test"])
def test_docs_are_served_in_development_and_tests(tmp_path: Path, env: str) -> None:
    assert answers(tmp_path, env=env) == dict.fromkeys(DOCS, 200)


def test_production_serves_no_docs_and_no_schema_unless_asked(tmp_path: Path) -> None:
    assert answers(tmp_path, env="production") == dict.fromkeys(DOCS, 404)
    assert answers(tmp_path, env="production", api_docs=True) == dict.fromkeys(DOCS, 200)
    assert answers(tmp_path, env="local", api_docs=False) == dict.fromkeys(DOCS, 404)
