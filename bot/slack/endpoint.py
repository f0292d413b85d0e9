"""POST /slack/events for the FastAPI server: Bolt's synchronous dispatch, off the event loop.

Bolt's `App.dispatch` blocks until the listener acks (and verifies the signature on the
way). Running it on the event loop would stall intake and every other request, and
FastAPI's shared default thread pool would let a burst of Slack traffic starve the
intake API; so Slack requests get a bounded pool of their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

# Each dispatch thread waits at most until its listener acks (milliseconds; 3 s at worst),
# so 32 threads carry hundreds of clicks per second; beyond that requests queue, not fail.
DISPATCH_WORKERS = 32
MAX_BODY = 1024 * 1024  # Slack's payloads are a few KB; anything near this is not Slack
STALE_AFTER = 5 * 60  # seconds either way, as Slack and Bolt check it


class SlackEndpoint:
    """The async route handler; `handle` is what `create_http_app(slack_endpoint=...)` mounts."""

    def __init__(self, app: App, *, signing_secret: str, workers: int = DISPATCH_WORKERS) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-dispatch")
        self._verifier = SignatureVerifier(signing_secret)  # the same secret the Bolt app checks with

    async def handle(self, request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            return JSONResponse(status_code=413, content={"error": "too_large"})
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse(status_code=413, content={"error": "too_large"})
        # Verify first, on the raw bytes: Bolt parses the body (and its payload= field) while it
        # builds its request, before its own signature check, so unsigned garbage reached its
        # parser and got a 500; and a timestamp that is not a number raised inside that check.
        if not self._signed(request, body):
            return JSONResponse(status_code=401, content={"error": "invalid request"})
        try:
            bolt_request = to_bolt_request(request, body)
        except Exception:  # signed, yet no payload Slack sends ("payload=null", "[1]"): Bolt's parser fails
            log.warning("refused a signed Slack request Bolt cannot parse", exc_info=True)
            return JSONResponse(status_code=400, content={"error": "invalid_body"})
        loop = asyncio.get_running_loop()
        try:
            bolt_response = await loop.run_in_executor(self._pool, self.app.dispatch, bolt_request)
        except Exception:  # see below: Bolt's error handler can trip over the same payload and raise
            log.warning("refused a Slack request Bolt could not dispatch", exc_info=True)
            return JSONResponse(status_code=400, content={"error": "invalid_request"})
        if bolt_response.status >= 500:
            # Our listeners never answer 5xx (errors.guarded acks and explains every failure), so this
            # is Bolt's middleware failing on a payload of a shape Slack does not send ("event": null,
            # "actions": null, "user": false); the global error handler has logged it. Nothing ran:
            # the request is bad, not the server.
            return JSONResponse(status_code=400, content={"error": "invalid_request"})
        return to_starlette_response(bolt_response)

    def _signed(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        # Whole seconds only, compared as integers: anything else made int() raise, and a huge one
        # overflowed float arithmetic, inside Bolt's check.
        if not (timestamp.isascii() and timestamp.isdigit()) or abs(int(time.time()) - int(timestamp)) > STALE_AFTER:
            return False
        try:
            return self._verifier.is_valid(body.decode("utf-8"), timestamp, signature)
        except UnicodeDecodeError:  # Slack only sends UTF-8
            return False

    def close(self) -> None:
        """Stop taking new work (called when the server shuts down)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
