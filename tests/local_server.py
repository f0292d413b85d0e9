"""The listening half every HTTP stand-in shares: a real local server that can stop and come back.

A standard library `ThreadingHTTPServer` on 127.0.0.1 (port 0 picks a free one), served from
a daemon thread. `stop()` closes the socket, so clients get connection refused, as when the
vendor is down; `start()` listens again on the same port, so a client keeps its base URL.
Subclasses answer requests in `respond(request)`, with `send()` writing the answer.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 makes bursts of concurrent clients wait for a SYN retransmit
    # (about 1 s); the vendors do not do that to us.
    request_queue_size = 128
    owner: LocalServer


class Request(BaseHTTPRequestHandler):
    """One request, handed to `LocalServer.respond` (one request per connection, as the SDKs use it)."""

    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.owner.respond(self)

    def do_POST(self) -> None:
        self.server.owner.respond(self)

    def do_PATCH(self) -> None:
        self.server.owner.respond(self)

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def lower_headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class LocalServer:
    """Start, stop and restart a local HTTP server on one port; `respond` answers each request."""

    name = "standin"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._lifecycle = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def respond(self, request: Request) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen (again) on the same host and port; no-op when running."""
        with self._lifecycle:
            if self._server is not None:
                return
            server = _Server((self.host, self._port), Request)
            server.owner = self
            self._port = server.server_address[1]
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name=f"{self.name}-{self._port}",
                daemon=True,
            )
            thread.start()
            self._server, self._thread = server, thread

    def stop(self) -> None:
        """Close the listening socket: clients get connection refused."""
        with self._lifecycle:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            if server is None:
                return
            server.shutdown()
            server.server_close()
            if thread is not None:
                thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{self.name} has not been started yet")
        return self._port
