"""What a CRM call came to, classified the way the outbox must treat it.

- Delivered: done (the body, when the CRM sent one).
- RetryAfter: 429; wait `seconds` (the CRM's Retry-After) before the next call to it.
- Transient: 5xx or no answer (network); retry with backoff.
- Unauthorized: 401; the token expired or was revoked: rows wait until it is fixed, never dropped.
- Permanent: any other 4xx; retrying cannot help; `error` is the CRM's own text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_RETRY_AFTER = 10.0  # seconds, when a 429 carries no usable Retry-After


@dataclass(frozen=True, slots=True)
class Delivered:
    status: int
    body: Any = None


@dataclass(frozen=True, slots=True)
class RetryAfter:
    seconds: float
    error: str


@dataclass(frozen=True, slots=True)
class Transient:
    error: str


@dataclass(frozen=True, slots=True)
class Unauthorized:
    error: str


@dataclass(frozen=True, slots=True)
class Permanent:
    status: int
    error: str


CrmResult = Delivered | RetryAfter | Transient | Unauthorized | Permanent


def classify(response: httpx.Response, *, crm: str) -> CrmResult:
    """Turn a CRM's HTTP answer into a CrmResult, keeping the CRM's error text."""
    status = response.status_code
    if 200 <= status < 300:
        return Delivered(status, _json(response))
    error = f"{crm} {status}: {error_text(response)}"
    if status == 429:
        return RetryAfter(_retry_after(response.headers.get("retry-after")), error)
    if status == 401:
        return Unauthorized(error)
    if status >= 500 or status == 408:
        return Transient(error)
    return Permanent(status, error)


def network_failure(exc: httpx.HTTPError, *, crm: str) -> Transient:
    return Transient(f"{crm} unreachable: {type(exc).__name__}: {exc}")


def error_text(response: httpx.Response) -> str:
    """The CRM's message: HubSpot's `message`, Salesforce's `[{"errorCode", "message"}]`, or the text."""
    body = _json(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        category = body.get("category") or body.get("errorType")
        return f"{category}: {body['message']}" if category else body["message"]
    if isinstance(body, dict) and isinstance(body.get("error"), str):  # OAuth token endpoint
        return f"{body['error']}: {body.get('error_description', '')}".rstrip(": ")
    if isinstance(body, list) and body and all(isinstance(e, dict) for e in body):
        return "; ".join(f"{e.get('errorCode', 'ERROR')}: {e.get('message', '')}" for e in body)
    return response.text[:500] or response.reason_phrase


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _retry_after(value: str | None) -> float:
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:  # an HTTP date: rare from these CRMs; wait the default
        seconds = DEFAULT_RETRY_AFTER
    return max(1.0, seconds)
