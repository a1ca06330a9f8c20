"""Errors to HTTP, in one place. Every failure leaves as `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import errors as E

log = logging.getLogger(__name__)

STATUS: dict[type[E.DomainError], int] = {
    E.BadRequest: 400,
    E.Unauthorized: 401,
    E.PaymentDeclined: 402,
    E.Forbidden: 403,
    E.NotFound: 404,
    E.Conflict: 409,
    E.Invalid: 422,
    E.RateLimited: 429,
    E.Unavailable: 503,
}

class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case, stable: what went wrong, for programs")
    message: str = Field(description="for people")
    details: Any = Field(default=None, description="what the code is about (fields, items, limits), or null")


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


_MEANING = {400: "The request cannot be acted on as sent (bad JSON, an empty cart)",
            401: "Missing, expired or revoked credentials", 402: "The payment was declined",
            403: "Signed in, but not allowed", 404: "No such resource, or not the caller's",
            409: "The request clashes with the current state (out of stock, already shipped, ...)",
            413: "The body is too large", 422: "A value is not valid", 429: "Too many attempts; see Retry-After",
            503: "A part of the shop is restarting, unreachable or too busy (`busy`); retry (with the same "
                 "Idempotency-Key), after Retry-After when given"}


def documented(statuses: tuple[int, ...]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all with the error body's schema."""
    return {status: {"model": ErrorBody, "description": _MEANING[status]} for status in statuses}


# what every /v1 operation may answer besides success; checkout may also decline a payment
API_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429, 503)
CHECKOUT_ERRORS = (*API_ERRORS, 402)

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def unwrap(exc: BaseException) -> BaseException:
    """An exception raised inside an actor arrives wrapped in a RayTaskError; the domain error is its cause."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


def domain_response(exc: E.DomainError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status in (429, 503) and isinstance(exc.details, dict) and "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return error_response(status, exc.code, exc.message, exc.details, headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"), "problem": err.get("msg")}
            for err in exc.errors()
        ]
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return error_response(400, "invalid_json", "The request body is not valid JSON", problems)
        return error_response(422, "validation_error", "The request is not valid", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message)

    from ray.exceptions import RayError

    @app.exception_handler(E.DomainError)
    @app.exception_handler(RayError)
    @app.exception_handler(Exception)
    async def _any(request: Request, exc: Exception) -> JSONResponse:
        inner = unwrap(exc)
        if isinstance(inner, E.DomainError):
            return domain_response(inner)
        if _is_unavailable(inner):
            return error_response(503, "unavailable", "A backend service is restarting; retry shortly")
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "Something went wrong on our side")


def _is_unavailable(exc: BaseException) -> bool:
    from ray.exceptions import ActorDiedError, ActorUnavailableError, GetTimeoutError
    from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError, ReplicaUnavailableError
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(exc, ActorDiedError | ActorUnavailableError | GetTimeoutError | RedisConnectionError
                      | BackPressureError | DeploymentUnavailableError | ReplicaUnavailableError)
