"""The contract, fuzzed: schemathesis generates requests for every operation of the deployed app's
/openapi.json, as an anonymous caller, a customer, a seller and an admin. Whatever it sends, the app answers no
5xx, every answer is documented for its operation and matches its schema, and every error has the contract's
shape. Bounded: a few deterministic examples per operation and role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    load_all_checks,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from actors.system import spawn_scheduler, stop_scheduler
from config import Settings
from pipelines.analytics import run as run_analytics
from tests.shop import Account, Shop

EXAMPLES = 4  # per operation and role
ROLES = ("anonymous", "customer", "seller", "admin")
load_all_checks()


@pytest.fixture(scope="module")
def contract(shop: Shop, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not settings.analytics_db.exists():  # a shop that has run its analytics once (else 503 until it has)
        empty_lake = str(tmp_path_factory.mktemp("empty-lake"))
        run_analytics(settings.model_copy(update={"lake_dir": empty_lake}), reader="duckdb", progress=False)
    # a shop with its job scheduler (else 503 `scheduler_unavailable`), scheduling nothing: no fuzzed name is a job
    idle = settings.model_copy(update={"exporter": "off", "schedules": {}})
    spawn_scheduler(idle)
    yield schemathesis.openapi.from_dict(shop.http.get("/openapi.json").json())
    stop_scheduler(idle)


@pytest.fixture(scope="module")
def callers(shop: Shop) -> dict[str, Account | None]:
    customer, seller = shop.register(), shop.register()
    applied = shop.http.post("/v1/sellers", json={"store_name": "Fuzz Store"}, headers=seller.headers)
    assert applied.status_code == 201, applied.text
    approved = shop.http.post(f"/v1/admin/sellers/{applied.json()['seller']['id']}/approve",
                              headers=shop.admin.headers)
    assert approved.status_code == 200, approved.text
    return {"anonymous": None, "customer": customer, "seller": shop.login(seller.email, seller.password),
            "admin": shop.admin}


def error_shape(response: Any) -> None:
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], body


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_within_the_contract(shop: Shop, contract: Any, callers: dict[str, Any],
                                                      role: str) -> None:
    caller = callers[role]
    headers = {} if caller is None else caller.headers
    failures: list[str] = []
    for result in contract.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            if case.method.upper() == "POST" and case.path.startswith("/v1/auth/logout"):
                return  # would end the caller's own session, and the rest of this role's run with it
            if case.method.upper() == "GET" and case.path == "/v1/notifications/stream" and caller is not None:
                return  # an event stream never ends: its answers are tested in test_notifications.py
            response = case.call(base_url=shop.base_url, headers=headers, timeout=60)
            try:
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                         content_type_conformance, response_schema_conformance])
                error_shape(response)
            except Exception as exc:  # collected, so one run reports every operation that strays
                failures.append(f"{case.method} {case.path} -> {response.status_code}: {str(exc)[:300]}")

        check()
    assert not failures, "\n".join(sorted(set(failures))[:40])


def test_the_contract_documents_the_error_shape(shop: Shop) -> None:
    spec = httpx.get(f"{shop.base_url}/openapi.json").json()
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            errors = {status: answer for status, answer in operation["responses"].items() if status >= "400"}
            assert "503" in errors and (not path.startswith("/v1/") or "422" in errors), (method, path)
            for answer in errors.values():
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
