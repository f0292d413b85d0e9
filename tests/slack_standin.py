"""A local HTTP stand-in for the Slack Web API, for tests.

It is a real HTTP server (standard library ``ThreadingHTTPServer``) that a real
``slack_sdk.WebClient`` talks to, in the spirit of bolt-python's
``tests/mock_web_api_server``, but stateful and strict:

* it answers the Web API methods Leadbot uses the way Slack does;
* it validates Block Kit payloads with slack_sdk's own models, plus the limits
  slack_sdk does not check, and rejects bad payloads with
  ``{"ok": false, "error": "invalid_blocks", "errors": [...]}``;
* it records every call, and can inject 500s, 429s and rate-limit storms;
* it can be stopped (connection refused) and started again on the same port.

The listening server is `tests.local_server` (shared with the CRM stand-ins) and the Block
Kit checks are `tests.slack_blockkit`; what stays here is one idea, Slack's side of the
conversation (its state and its methods), which is why it is longer than a module should be.

Usage::

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"
        assert slack.rejected == []
"""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk import WebClient

from tests.local_server import LocalServer, Request
from tests.slack_blockkit import (
    MAX_MESSAGE_BLOCKS,
    MAX_TEXT_LENGTH,
    MAX_VIEW_BLOCKS,
    decode_json_param,
    located,
    validate_message_blocks,
    validate_view,
)

__all__ = [
    "BOT_ID",
    "BOT_USER_ID",
    "MAX_MESSAGE_BLOCKS",
    "MAX_TEXT_LENGTH",
    "MAX_VIEW_BLOCKS",
    "TEAM_ID",
    "TOKEN",
    "UPLOAD_METHOD",
    "Call",
    "SlackStandIn",
    "validate_message_blocks",
    "validate_view",
]

TOKEN = "xoxb-standin-token"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
TEAM_DOMAIN = "leadbot-test"

# Pseudo method name under which uploads to the upload URL are recorded.
UPLOAD_METHOD = "upload"

# Errors that mean "the payload itself was malformed"; they go to `rejected`.
_PAYLOAD_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "invalid_json",
    }
)
# Answers given before a call counts against any rate limit.
_NOT_ACCEPTED_ERRORS = frozenset({"not_authed", "invalid_auth", "not_allowed_token_type", "invalid_json"})
# Methods called with the app-level (xapp-) token.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Parameters Slack accepts as JSON, which form-encoded requests carry as strings.
_JSON_PARAMS = ("blocks", "attachments", "view", "files", "metadata", "user_auth_blocks")

_FIRST_TS_MICROS = 1_700_000_000_000_100
_TS_STEP_MICROS = 100


@dataclass(frozen=True)
class Call:
    """One request the stand-in answered.

    ``params`` is what the client sent (form or JSON, merged with the query
    string, without the token), with JSON-string parameters such as ``blocks``
    or ``view`` decoded when they are valid JSON. ``at`` is ``time.monotonic()``
    when the request was handled (read under the stand-in's lock, so calls are
    in answer order); ``status`` is the HTTP status answered; ``error``
    is the Slack ``error`` code when the answer was ``"ok": false``.
    """

    method: str
    params: dict
    at: float
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass(frozen=True)
class _RateLimit:
    per_second: float
    retry_after: int | None


# ---------------------------------------------------------------------------
# Request parsing
# ---------------------------------------------------------------------------


def _flatten(multi: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in multi.items()}


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Parse a request body; raises ValueError on malformed JSON."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not body:
        return {}
    if ctype == "application/json":
        data = json.loads(body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    if ctype == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
        )
        result: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or not name:
                continue
            payload = part.get_payload(decode=True)
            data_bytes = payload if isinstance(payload, bytes) else b""
            if part.get_filename() is None:
                result[name] = data_bytes.decode("utf-8", "replace")
            else:
                result[name] = data_bytes
        return result
    return _flatten(parse_qs(body.decode("utf-8"), keep_blank_values=True))


def _accepted(call: Call) -> bool:
    """Got past authentication, fault injection and rate limiting."""
    return call.status == 200 and call.error not in _NOT_ACCEPTED_ERRORS


def _channel_of(params: dict) -> str:
    channel = params.get("channel") or params.get("channel_id") or ""
    return channel if isinstance(channel, str) else str(channel)


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------


class SlackStandIn(LocalServer):
    """A local, thread-safe, stateful stand-in for the Slack Web API.

    ``with SlackStandIn() as slack:`` starts it; ``slack.url`` is the base URL
    for ``WebClient(base_url=...)``. ``stop()`` closes the listening socket
    (clients get connection refused) and ``start()`` listens again on the same
    port.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, wall_clock_ts: bool = False) -> None:
        super().__init__(host, port)
        # Message ts from the wall clock (as Slack's are) instead of a fixed 1700000000 series,
        # for code that relates ts to its own timestamps (conversations.history `oldest`).
        self._wall_clock_ts = wall_clock_ts
        self._lock = threading.RLock()

        # Recorded traffic
        self._calls: list[Call] = []
        self._rejected: list[tuple[str, list[str]]] = []
        self._last_accepted: dict[tuple[str, str], float] = {}

        # Fault injection
        self._failures: dict[str, deque[tuple[int, str]]] = {}
        self._rate_limits: dict[str, _RateLimit] = {}
        self._storms: dict[str, float] = {}

        # Slack-side state
        self._next_ts = _FIRST_TS_MICROS
        self._next_id = 1
        self._messages: dict[tuple[str, str], dict] = {}
        self._views: dict[str, dict] = {}
        self._uploads: dict[str, bytes] = {}
        self._files: dict[str, dict] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._users: dict[str, dict] = {}
        # Set by a SocketModeStandIn: issues the ws:// URL that apps.connections.open answers.
        self.socket_mode_url: Callable[[], str] | None = None

        self._handlers: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }

    name = "slack-standin"

    def respond(self, request: Request) -> None:
        url = urlsplit(request.path)
        body = request.body()
        if url.path.startswith("/api/"):
            status, payload, headers = self._answer_api(
                method=url.path[len("/api/") :], query=url.query, headers=request.lower_headers(), body=body
            )
            request.send(status, json.dumps(payload).encode("utf-8"), "application/json; charset=utf-8", headers)
        elif url.path.startswith("/upload/"):
            status, text = self._answer_upload(url.path[len("/upload/") :], body)
            request.send(status, text.encode("utf-8"), "text/plain; charset=utf-8", {})
        else:
            request.send(404, b"not found", "text/plain; charset=utf-8", {})

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``, ending in ``/``."""
        return f"{self.root_url}api/"

    def client(self, token: str = TOKEN, **kwargs: Any) -> WebClient:
        """A real ``WebClient`` pointed at this stand-in."""
        return WebClient(token=token, base_url=self.url, **kwargs)

    # -- recorded traffic ---------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, include_failed: bool = False) -> list[Call]:
        """Calls to ``method``; only successful ones (HTTP 200, ok) unless include_failed."""
        with self._lock:
            return [c for c in self._calls if c.method == method and (include_failed or c.ok)]

    @property
    def rejected(self) -> list[tuple[str, list[str]]]:
        """(method, errors) for every payload Slack would have refused as malformed."""
        with self._lock:
            return list(self._rejected)

    def accepted_times(self, channel: str, method: str | None = None) -> list[float]:
        """``time.monotonic()`` times (``Call.at``) of calls for ``channel`` that got past
        authentication, fault injection and rate limiting, optionally for one method.

        These are the calls the rate limiter counts, whatever their answer
        (an ``invalid_blocks`` answer still counts, as it does on Slack)."""
        with self._lock:
            return [
                c.at
                for c in self._calls
                if _accepted(c)
                and c.method != UPLOAD_METHOD
                and _channel_of(c.params) == channel
                and (method is None or c.method == method)
            ]

    def reset(self) -> None:
        """Forget recorded calls and rejections and clear all fault injection.

        Slack-side state (posted messages, views, uploaded files, usergroups,
        users) is kept, as it would be on a real workspace.
        """
        with self._lock:
            self._calls.clear()
            self._rejected.clear()
            self._last_accepted.clear()
            self._failures.clear()
            self._rate_limits.clear()
            self._storms.clear()

    # -- Slack-side state ---------------------------------------------------

    @property
    def messages(self) -> list[dict]:
        """Current state of every message posted (after updates), in post order."""
        with self._lock:
            return copy.deepcopy(list(self._messages.values()))

    def message(self, channel: str, ts: str) -> dict | None:
        with self._lock:
            found = self._messages.get((channel, ts))
            return copy.deepcopy(found) if found is not None else None

    @property
    def uploads(self) -> dict[str, bytes]:
        """file_id -> bytes POSTed to that file's upload URL."""
        with self._lock:
            return dict(self._uploads)

    @property
    def files(self) -> dict[str, dict]:
        """file_id -> metadata (filename, length, title, channel_id, initial_comment,
        thread_ts, blocks, completed)."""
        with self._lock:
            return copy.deepcopy(self._files)

    @property
    def views(self) -> dict[str, dict]:
        """view id -> the last view payload opened/pushed/updated/published with that id."""
        with self._lock:
            return copy.deepcopy(self._views)

    @property
    def usergroups(self) -> dict[str, list[str]]:
        with self._lock:
            return copy.deepcopy(self._usergroups)

    @usergroups.setter
    def usergroups(self, value: dict[str, list[str]]) -> None:
        with self._lock:
            self._usergroups = {k: list(v) for k, v in value.items()}

    @property
    def users(self) -> dict[str, dict]:
        """user id -> fields merged over the default users.info answer."""
        with self._lock:
            return copy.deepcopy(self._users)

    @users.setter
    def users(self, value: dict[str, dict]) -> None:
        with self._lock:
            self._users = copy.deepcopy(value)

    # -- fault injection ----------------------------------------------------

    def fail_next(self, method: str, status: int = 500, times: int = 1, error: str | None = None) -> None:
        """Answer the next ``times`` calls to ``method`` ("*" for any) with HTTP ``status``.

        The body is ``{"ok": false, "error": error}``; ``error`` defaults to
        "internal_error" (or "ratelimited", with ``Retry-After: 1``, for 429).
        ``status=200`` with an ``error`` injects a plain Slack error.
        """
        if error is None:
            error = "ratelimited" if status == 429 else "internal_error"
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend([(status, error)] * times)

    def rate_limit(
        self,
        method: str = "chat.postMessage",
        per_second: float | None = 1.0,
        retry_after: int | None = 1,
    ) -> None:
        """Allow ``per_second`` accepted calls to ``method`` per channel.

        A call for the same channel sooner than ``1/per_second`` after the last
        accepted one gets HTTP 429 ``ratelimited`` with ``Retry-After`` =
        ``retry_after`` (or, if None, the seconds left, rounded up); never < 1.
        ``per_second=None`` removes the limit.
        """
        with self._lock:
            if per_second is None:
                self._rate_limits.pop(method, None)
            else:
                if per_second <= 0:
                    raise ValueError("per_second must be positive")
                self._rate_limits[method] = _RateLimit(per_second, retry_after)

    def rate_limit_storm(self, method: str, seconds: float) -> None:
        """Answer every call to ``method`` ("*" for any) with 429 for ``seconds``."""
        with self._lock:
            self._storms[method] = time.monotonic() + seconds

    # -- request handling ---------------------------------------------------

    def _new_ts(self) -> str:
        if self._wall_clock_ts:
            self._next_ts = max(self._next_ts, int(time.time() * 1_000_000))
        value = self._next_ts
        self._next_ts += _TS_STEP_MICROS
        return f"{value // 1_000_000}.{value % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        value = self._next_id
        self._next_id += 1
        return f"{prefix}{value:08d}"

    def _record(self, method: str, params: dict, at: float, status: int, payload: dict) -> None:
        error = None if payload.get("ok", True) else payload.get("error")
        call = Call(method, params, at, status, error)
        self._calls.append(call)
        if _accepted(call):
            self._last_accepted[(method, _channel_of(params))] = at
            if error in _PAYLOAD_ERRORS:
                self._rejected.append((method, list(payload.get("errors") or [error])))

    def _answer_api(
        self, *, method: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict, dict[str, str]]:
        params: dict[str, Any] = _flatten(parse_qs(query, keep_blank_values=True))
        malformed = False
        try:
            params.update(_parse_body(headers.get("content-type", ""), body))
        except (ValueError, UnicodeDecodeError):
            malformed = True

        token = None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[len("bearer ") :].strip() or None
        body_token = params.pop("token", None)
        token = token or body_token

        for key in _JSON_PARAMS:
            if key in params:
                decoded, ok = decode_json_param(params[key])
                if ok:
                    params[key] = decoded

        with self._lock:
            # Take the time under the lock so that recorded times, and the rate
            # limiter's view of them, are in the order the calls were answered.
            now = time.monotonic()
            status, payload, extra = self._dispatch(method, params, token, malformed, now)
            self._record(method, copy.deepcopy(params), now, status, payload)
            return status, payload, extra

    def _dispatch(
        self, method: str, params: dict, token: str | None, malformed: bool, now: float
    ) -> tuple[int, dict, dict[str, str]]:
        if malformed:
            return 200, {"ok": False, "error": "invalid_json"}, {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        # apps.connections.open takes the app-level token only, every other method a bot or user token.
        if method in _APP_TOKEN_METHODS:
            if not token.startswith("xapp-"):
                return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        elif not token.startswith("xox"):
            return (
                200,
                {"ok": False, "error": "not_allowed_token_type" if token.startswith("xapp-") else "invalid_auth"},
                {},
            )

        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                status, error = queue.popleft()
                extra = {"Retry-After": "1"} if status == 429 else {}
                return status, {"ok": False, "error": error}, extra

        for key in (method, "*"):
            until = self._storms.get(key)
            if until is not None:
                if now < until:
                    retry = max(1, math.ceil(until - now))
                    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry)}
                del self._storms[key]

        limit = self._rate_limits.get(method)
        if limit is not None:
            last = self._last_accepted.get((method, _channel_of(params)))
            interval = 1.0 / limit.per_second
            if last is not None and now - last < interval:
                left = interval - (now - last)
                retry = limit.retry_after if limit.retry_after is not None else math.ceil(left)
                return (
                    429,
                    {"ok": False, "error": "ratelimited"},
                    {"Retry-After": str(max(1, int(retry)))},
                )

        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        return 200, handler(params), {}

    def _answer_upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        with self._lock:
            arrived = time.monotonic()
            known = file_id in self._files
            status = 200 if known else 404
            if known:
                self._uploads[file_id] = bytes(body)
            self._calls.append(
                Call(
                    UPLOAD_METHOD,
                    {"file_id": file_id, "length": len(body)},
                    arrived,
                    status,
                    None if known else "file_not_found",
                )
            )
        return status, f"OK - {len(body)}" if known else "file_not_found"

    # -- validation helpers -------------------------------------------------

    @staticmethod
    def _blocks_error(params: dict) -> dict | None:
        if "blocks" not in params or params["blocks"] in (None, ""):
            return None
        errors = validate_message_blocks(params["blocks"])
        if errors is None:
            return {"ok": False, "error": "invalid_blocks_format"}
        if errors:
            return _invalid_blocks(errors)
        return None

    @classmethod
    def _message_error(cls, params: dict) -> dict | None:
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
            message = f"text must be at most {MAX_TEXT_LENGTH} characters, got {len(text)}"
            return {"ok": False, "error": "msg_too_long", "errors": [message]}
        return cls._blocks_error(params)

    @staticmethod
    def _view_error(params: dict) -> dict | None:
        if "view" not in params:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": [located("missing required field: view", "")],
            }
        errors = validate_view(params["view"])
        return _invalid_blocks(errors) if errors else None

    @staticmethod
    def _im_channel(channel: str) -> str:
        # Posting to a user ID posts to the DM with that user.
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _message_echo(self, params: dict, channel: str, ts: str) -> dict:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "team": TEAM_ID,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) not in (None, ""):
                message[key] = copy.deepcopy(params[key])
        message["channel"] = channel
        return message

    # -- method handlers (called with the lock held) ------------------------

    def _auth_test(self, params: dict) -> dict:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Leadbot Test",
            "user": "leadbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict) -> dict:
        """A Socket Mode URL (https://docs.slack.dev/reference/methods/apps.connections.open/)."""
        if self.socket_mode_url is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        return {"ok": True, "url": self.socket_mode_url()}

    def _chat_post_message(self, params: dict) -> dict:
        channel = _channel_of(params)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            return {
                "ok": False,
                "error": "no_text",
                "errors": ["one of text, blocks or attachments is required"],
            }
        error = self._message_error(params)
        if error:
            return error
        channel = self._im_channel(channel)
        ts = self._new_ts()
        message = self._message_echo(params, channel, ts)
        self._messages[(channel, ts)] = message
        echo = {k: v for k, v in message.items() if k != "channel"}
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(echo)}

    def _chat_update(self, params: dict) -> dict:
        channel = _channel_of(params)
        ts = params.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        channel = self._im_channel(channel)
        if not ts or (channel, ts) not in self._messages:
            return {"ok": False, "error": "message_not_found"}
        error = self._message_error(params)
        if error:
            return error
        message = self._messages[(channel, ts)]
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = copy.deepcopy(params[key])
        message["edited"] = {"user": BOT_USER_ID, "ts": self._new_ts()}
        echo = {k: v for k, v in message.items() if k != "channel"}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": copy.deepcopy(echo),
        }

    def _chat_post_ephemeral(self, params: dict) -> dict:
        if not _channel_of(params):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            return {
                "ok": False,
                "error": "no_text",
                "errors": ["one of text, blocks or attachments is required"],
            }
        error = self._message_error(params)
        if error:
            return error
        return {"ok": True, "message_ts": self._new_ts()}

    def _chat_get_permalink(self, params: dict) -> dict:
        channel = _channel_of(params)
        ts = params.get("message_ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _view_answer(self, params: dict, view_id: str | None = None) -> dict:
        view, _ = decode_json_param(params["view"])
        view_id = view_id or self._new_id("V")
        answer = copy.deepcopy(view)
        answer.update(
            {
                "id": view_id,
                "team_id": TEAM_ID,
                "app_id": "ABOT",
                "bot_id": BOT_ID,
                "hash": f"{int(time.time())}.{self._new_id('h')}",
                "state": {"values": {}},
                "root_view_id": view_id,
                "previous_view_id": None,
            }
        )
        answer.setdefault("private_metadata", "")
        answer.setdefault("callback_id", "")
        answer.setdefault("external_id", "")
        self._views[view_id] = answer
        return {"ok": True, "view": copy.deepcopy(answer)}

    def _views_open(self, params: dict) -> dict:
        if not params.get("trigger_id"):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": [located("missing required field: trigger_id", "")],
            }
        return self._view_error(params) or self._view_answer(params)

    def _views_push(self, params: dict) -> dict:
        return self._views_open(params)

    def _views_update(self, params: dict) -> dict:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        if not view_id and not external_id:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": [located("view_id or external_id required", "")],
            }
        error = self._view_error(params)
        if error:
            return error
        if not view_id:
            found = [vid for vid, v in self._views.items() if v.get("external_id") == external_id]
            if not found:
                return {"ok": False, "error": "not_found"}
            view_id = found[0]
        return self._view_answer(params, view_id=view_id)

    def _views_publish(self, params: dict) -> dict:
        user_id = params.get("user_id")
        if not user_id:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": [located("missing required field: user_id", "")],
            }
        error = self._view_error(params)
        if error:
            return error
        view, _ = decode_json_param(params["view"])
        if view.get("type") != "home":
            return _invalid_blocks([located("must be home", "/view/type")])
        existing = [vid for vid, v in self._views.items() if v.get("type") == "home" and v.get("user_id") == user_id]
        answer = self._view_answer(params, view_id=existing[0] if existing else None)
        self._views[answer["view"]["id"]]["user_id"] = user_id
        return answer

    def _conversations_open(self, params: dict) -> dict:
        if params.get("channel"):
            return {"ok": True, "channel": {"id": params["channel"]}}
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u.strip() for u in (users or "").split(",") if u.strip()]
        if not ids:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = "D" + ids[0] if len(ids) == 1 else "G" + "".join(ids)
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _conversations_history(self, params: dict) -> dict:
        """Top-level messages of a channel, newest first, paged with a cursor like Slack's.

        ``oldest``/``latest`` bound the ts (exclusive unless ``inclusive``); message
        ``metadata`` is returned only with ``include_all_metadata``.
        """
        channel = _channel_of(params)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        channel = self._im_channel(channel)
        inclusive = _truthy(params.get("inclusive"))
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else math.inf
        with_metadata = _truthy(params.get("include_all_metadata"))
        found = []
        for (ch, ts), message in self._messages.items():
            if ch != channel or message.get("thread_ts") not in (None, ts):
                continue
            t = float(ts)
            if (t > oldest or (inclusive and t == oldest)) and (t < latest or (inclusive and t == latest)):
                found.append(message)
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        try:
            start = int(params.get("cursor") or 0)
            limit = max(1, min(999, int(params.get("limit") or 100)))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = []
        for message in page:
            echo = {k: copy.deepcopy(v) for k, v in message.items() if k != "channel"}
            if not with_metadata:
                echo.pop("metadata", None)
            messages.append(echo)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _conversations_replies(self, params: dict) -> dict:
        """A thread: its parent, then its replies, oldest first, paged like Slack's.

        ``oldest``/``latest`` bound the replies' ts (the parent is always first);
        message ``metadata`` is returned only with ``include_all_metadata``
        (https://docs.slack.dev/reference/methods/conversations.replies/).
        """
        channel = _channel_of(params)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        channel = self._im_channel(channel)
        parent_ts = params.get("ts")
        if not parent_ts or (channel, parent_ts) not in self._messages:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else math.inf
        with_metadata = _truthy(params.get("include_all_metadata"))
        replies = sorted(
            (
                m
                for (ch, ts), m in self._messages.items()
                if ch == channel and ts != parent_ts and m.get("thread_ts") == parent_ts and oldest < float(ts) < latest
            ),
            key=lambda m: float(m["ts"]),
        )
        found = [self._messages[(channel, parent_ts)], *replies]
        try:
            start = int(params.get("cursor") or 0)
            limit = max(1, min(999, int(params.get("limit") or 100)))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = []
        for message in page:
            echo = {k: copy.deepcopy(v) for k, v in message.items() if k != "channel"}
            if not with_metadata:
                echo.pop("metadata", None)
            messages.append(echo)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _users_info(self, params: dict) -> dict:
        user_id = params.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        name = str(user_id).lower()
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_admin": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": {
                "real_name": f"User {user_id}",
                "display_name": name,
                "email": f"{name}@example.com",
            },
        }
        override = copy.deepcopy(self._users.get(user_id, {}))
        profile = override.pop("profile", None)
        user.update(override)
        if profile:
            user["profile"].update(profile)
        return {"ok": True, "user": user}

    def _usergroups_users_list(self, params: dict) -> dict:
        group = params.get("usergroup")
        if group not in self._usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self._usergroups[group])}

    def _files_get_upload_url_external(self, params: dict) -> dict:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length in (None, ""):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": ["filename and length are required"],
            }
        try:
            length = int(length)
        except (TypeError, ValueError):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": ["length must be an integer"],
            }
        file_id = self._new_id("F")
        self._files[file_id] = {
            "id": file_id,
            "filename": filename,
            "length": length,
            "completed": False,
        }
        return {"ok": True, "upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: dict) -> dict:
        files = params.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            return {
                "ok": False,
                "error": "invalid_arguments",
                "errors": ["files must be a JSON array of {id, title}"],
            }
        for f in files:
            if f["id"] not in self._files or f["id"] not in self._uploads:
                return {"ok": False, "error": "file_not_found"}
        error = self._blocks_error(params)
        if error:
            return error
        channels = params.get("channels")
        if isinstance(channels, str):
            channels = [c for c in channels.split(",") if c]
        channel_ids = [params["channel_id"]] if params.get("channel_id") else (channels or [])
        answer = []
        for f in files:
            meta = self._files[f["id"]]
            meta.update(
                {
                    "title": f.get("title") or meta["filename"],
                    "channel_id": params.get("channel_id"),
                    "channels": list(channel_ids),
                    "initial_comment": params.get("initial_comment"),
                    "thread_ts": params.get("thread_ts"),
                    "blocks": copy.deepcopy(params.get("blocks")),
                    "completed": True,
                }
            )
            answer.append(
                {
                    "id": f["id"],
                    "title": meta["title"],
                    "name": meta["filename"],
                    "size": len(self._uploads[f["id"]]),
                    "channels": list(channel_ids),
                }
            )
        return {"ok": True, "files": answer}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _invalid_blocks(errors: list[str]) -> dict:
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": list(errors),
        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
    }
