"""The HTTP layer: a threading server that reads each request (body size capped), hands it to the route mounted
for its path, and writes the Response back. Routes are plain functions of a Request, mounted by path:

    server.mount("/cds-services/", handler)   # a key ending in "/" takes every path under it
    server.mount("/status", handler)          # any other key takes that path only

When the server listens on a loopback address it answers only requests whose Host header names a loopback host,
so a web page elsewhere cannot reach it through DNS rebinding; it sends no CORS headers, so other sites' scripts
cannot read its answers either.
"""

from __future__ import annotations

import ipaddress
import select
import socket
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["Request", "Response", "Route", "Server"]

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


@dataclass(frozen=True)
class Request:
    """One HTTP request: `params` are the URL's query parameters; `client_gone()` tells whether the client has
    hung up (for routes that work a long time)."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: Message
    body: bytes
    client_gone: Callable[[], bool]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def text(status: int, message: str, **headers: str) -> Response:
    """A plain-text response: the message, one line."""
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"), headers=headers)


Route = Callable[[Request], Response]


class Server(ThreadingHTTPServer):
    """The HTTP server: `routes` maps a path (or a prefix ending in "/") to its Route; `cleanups` run when the
    server closes."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, max_body: int) -> None:
        super().__init__(address, _Handler)
        self.max_body = max_body
        self.routes: dict[str, Route] = {}
        self.cleanups: list[Callable[[], None]] = []
        self.loopback = ipaddress.ip_address(str(self.server_address[0])).is_loopback

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def mount(self, path: str, route: Route) -> None:
        self.routes[path] = route

    def route(self, path: str) -> Route | None:
        if path in self.routes:
            return self.routes[path]
        prefixes = [p for p in self.routes if p.endswith("/") and path.startswith(p)]
        return self.routes[max(prefixes, key=len)] if prefixes else None

    def server_close(self) -> None:
        super().server_close()
        for cleanup in self.cleanups:
            cleanup()


class _Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "reasoner"

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _handle(self) -> None:
        response = self._respond()
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _respond(self) -> Response:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if self.server.loopback and host not in _LOOPBACK_NAMES:
            return text(403, f"this server answers requests for localhost only, not for host {host!r}")
        url = urlsplit(self.path)
        route = self.server.route(url.path)
        if route is None:
            return text(404, f"nothing at {url.path}: the page is at /, the SPARQL endpoint at /sparql")
        body = b""
        if self.command in ("POST", "PUT", "PATCH"):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self.close_connection = True
                return text(411, "send the body with a Content-Length (chunked bodies are not accepted)")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= self.server.max_body:
                self.close_connection = True  # the body is not read
                return text(413, f"the request body may be at most {self.server.max_body:,} bytes")
            body = self.rfile.read(length)
        params = parse_qs(url.query, keep_blank_values=True)
        request = Request(self.command, url.path, params, self.headers, body, self._client_gone)
        try:
            return route(request)
        except Exception:  # a bug in a route must not take the server down
            traceback.print_exc(file=sys.stderr)
            return text(500, "internal error (logged on the server)")

    def _client_gone(self) -> bool:
        """True once the client has closed its end: the socket reads as end-of-file (or fails)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True
