"""What every JSON API route checks before its own work: the bearer token, the size cap, JSON, records.

`POST /leads` and `POST /pipeline` take the same shapes (one object or a list of up to
`MAX_RECORDS`) and refuse bad input the same way: 401 without the token, 413 over
`MAX_BODY`, 422 with field-level `detail` otherwise. The CRM routes use the size cap.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

MAX_BODY = 1024 * 1024  # 1 MiB (DESIGN.md)
MAX_RECORDS = 1000


class BodyTooLarge(Exception):
    """The request body is over the cap (read no further)."""


@dataclass(frozen=True)
class Records:
    """The request's objects, and whether it sent a list (so error locations include the index)."""

    items: list[dict[str, Any]]
    listed: bool

    def loc(self, index: object, *rest: object) -> list[object]:
        return ["body", *([index] if self.listed else []), *rest]


async def read_records(request: Request, token: bytes | None, *, noun: str) -> Records | JSONResponse:
    """The body's objects, or the 4xx answer that refuses the request (nothing is stored either way)."""
    refused = refuse_without_token(request, token)
    if refused is not None:
        return refused
    try:
        body = await read_capped(request, MAX_BODY)
    except BodyTooLarge:
        return error_response(413, "too_large", f"The body is over {MAX_BODY} bytes; send fewer {noun}s per request.")
    try:
        data = json.loads(body)
    # RecursionError: a body nested thousands of levels deep ("[[[[...") exhausts the parser's
    # stack; it is a bad body (422), not a server error.
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return unprocessable("invalid_json", [_body_error(f"Body is not valid JSON: {exc}", "json_invalid")])
    records = data if isinstance(data, list) else [data]
    if not records or not all(isinstance(r, dict) for r in records):
        msg = f"Send a {noun} object or a non-empty array of {noun} objects"
        return unprocessable("invalid_body", [_body_error(msg, "invalid_body")])
    if len(records) > MAX_RECORDS:
        return unprocessable("too_many", [_body_error(f"At most {MAX_RECORDS} {noun}s per request", "too_many")])
    return Records(records, isinstance(data, list))


def refuse_without_token(request: Request, token: bytes | None) -> JSONResponse | None:
    """The 401 for a request without `Authorization: Bearer $LEADBOT_INTAKE_TOKEN` (None: it has it)."""
    if token is not None and _bearer_ok(request.headers.get("authorization"), token):
        return None
    return error_response(
        401,
        "unauthorized",
        "Send `Authorization: Bearer <LEADBOT_INTAKE_TOKEN>`"
        + ("" if token else " (intake is disabled until LEADBOT_INTAKE_TOKEN is set)"),
        headers={"WWW-Authenticate": "Bearer"},
    )


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused with BodyTooLarge as soon as it (or its declared length) passes `limit`."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "message": message}, headers=headers)


def unprocessable(error: str, detail: list[dict[str, Any]]) -> JSONResponse:
    """A 422 with field-level errors (`loc`, `msg`, `type`), as FastAPI answers its own."""
    return JSONResponse(status_code=422, content={"error": error, "detail": detail})


def loc_path(loc: object) -> list[object]:
    """A pydantic error location (a tuple of keys and indexes) as a list."""
    return list(loc) if isinstance(loc, list | tuple) else [loc]


def _body_error(msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body"], "msg": msg, "type": kind}


def _bearer_ok(header: str | None, token: bytes) -> bool:
    if not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), token)
