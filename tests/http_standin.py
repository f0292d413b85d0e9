"""The common half of the CRM stand-ins: a real local HTTP server that records every call.

Like `tests/slack_standin.py`: a `tests.local_server.LocalServer` (stoppable, restartable on
the same port), stateful and thread-safe, with fault injection (`fail_next`) answered the way
the vendor answers it. Subclasses implement
`_answer` for their API.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer, Request

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (None: no body), extra headers


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered: `body` is the decoded JSON or form body (or None)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int
    at: float = field(compare=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Failure:
    status: int
    retry_after: int | None
    body: Any


class HttpStandIn(LocalServer):
    """A started-on-demand local API server; subclasses answer requests in `_answer`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._failures: deque[Failure | None] = deque()  # None: answer this call normally
        self._rate: tuple[float, float] | None = None  # (per second, burst) when a limit is enforced
        self._bucket = 0.0
        self._refilled = 0.0

    def respond(self, request: Request) -> None:
        url = urlsplit(request.path)
        status, payload, extra = self._handle(
            request.command, url.path, url.query, request.lower_headers(), request.body()
        )
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        request.send(status, body, None if payload is None else "application/json;charset=UTF-8", extra)

    @property
    def url(self) -> str:
        """The API base URL, without a trailing slash (as HUBSPOT_API_URL / SALESFORCE_INSTANCE_URL)."""
        if not self._port:
            raise RuntimeError(f"{self.name} has not been started yet")
        return f"http://{self.host}:{self._port}"

    # -- recorded traffic and faults ----------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, path_prefix: str = "", *, include_failed: bool = False) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self._calls
                if c.method == method and c.path.startswith(path_prefix) and (include_failed or c.ok)
            ]

    def fail_next(self, status: int = 500, times: int = 1, *, retry_after: int | None = None, after: int = 0) -> None:
        """Answer `times` API calls, after `after` normal ones, with `status` and the vendor's error body.

        A 429 carries `Retry-After: retry_after` (default 1 second); pass retry_after for others too.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            self._failures.extend([None] * after)
            self._failures.extend([Failure(status, retry_after, self._error_body(status))] * times)

    def limit_rate(self, per_second: float, *, burst: float | None = None) -> None:
        """Enforce `per_second` API calls (a token bucket of `burst`, default a tenth of a second's worth):
        beyond it, 429 with `Retry-After: 1` and the vendor's rate-limit body, as the vendor's limiter does."""
        with self._lock:
            size = burst if burst is not None else max(1.0, per_second / 10)
            self._rate = (per_second, size)
            self._bucket, self._refilled = size, time.monotonic()

    def _over_rate(self) -> bool:
        if self._rate is None:
            return False
        per_second, size = self._rate
        now = time.monotonic()
        self._bucket = min(size, self._bucket + (now - self._refilled) * per_second)
        self._refilled = now
        if self._bucket < 1:
            return True
        self._bucket -= 1
        return False

    def reset(self) -> None:
        """Forget recorded calls and pending faults; the vendor-side state is kept."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()

    # -- request handling ---------------------------------------------------

    def _handle(self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes) -> Answer:
        body, malformed = _decode(headers.get("content-type", ""), raw)
        params = parse_qs(query, keep_blank_values=True)
        with self._lock:
            if malformed:
                status, payload, extra = self._malformed()
            elif self._counts_for_faults(path) and self._over_rate():
                status, payload, extra = 429, self._error_body(429), {"Retry-After": "1"}
            elif self._failures and self._counts_for_faults(path) and (failure := self._failures.popleft()):
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                status, payload = failure.status, failure.body
            else:
                status, payload, extra = self._answer(method, path, params, headers, body)
            self._calls.append(Call(method, path, params, headers, copy.deepcopy(body), status, time.monotonic()))
            return status, payload, extra

    def _counts_for_faults(self, path: str) -> bool:
        return True

    def _answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Answer:
        raise NotImplementedError

    def _error_body(self, status: int) -> Any:
        raise NotImplementedError

    def _malformed(self) -> Answer:
        raise NotImplementedError

    @staticmethod
    def correlation_id() -> str:
        return str(uuid.uuid4())


def bearer(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    return auth[7:].strip() or None if auth.lower().startswith("bearer ") else None


def _decode(content_type: str, raw: bytes) -> tuple[Any, bool]:
    if not raw:
        return None, False
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}, False
        return json.loads(raw), False
    except (ValueError, UnicodeDecodeError):
        return None, True
