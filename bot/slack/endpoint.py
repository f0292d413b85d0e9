"""POST /slack/events for the FastAPI server: Bolt's synchronous dispatch, off the event loop.

Bolt's `App.dispatch` blocks until the listener acks (and verifies the signature on the
way). Running it on the event loop would stall intake and every other request, and
FastAPI's shared default thread pool would let a burst of Slack traffic starve the
intake API; so Slack requests get a bounded pool of their own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response

# Each dispatch thread waits at most until its listener acks (milliseconds; 3 s at worst),
# so 32 threads carry hundreds of clicks per second; beyond that requests queue, not fail.
DISPATCH_WORKERS = 32
MAX_BODY = 1024 * 1024  # Slack's payloads are a few KB; anything near this is not Slack


class SlackEndpoint:
    """The async route handler; `handle` is what `create_http_app(slack_endpoint=...)` mounts."""

    def __init__(self, app: App, *, workers: int = DISPATCH_WORKERS) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-dispatch")

    async def handle(self, request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse(status_code=413, content={"error": "too_large"})
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse(status_code=413, content={"error": "too_large"})
        try:
            bolt_request = to_bolt_request(request, body)
        except UnicodeDecodeError:
            return JSONResponse(status_code=400, content={"error": "invalid_body"})
        loop = asyncio.get_running_loop()
        bolt_response = await loop.run_in_executor(self._pool, self.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    def close(self) -> None:
        """Stop taking new work (called when the server shuts down)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
