"""What every request passes before any route sees it (one ASGI middleware, outermost):

- strict HTTP: one Host, at most one Content-Length of digits only, never both Content-Length and
  Transfer-Encoding (h11 has refused malformed heads, bare LF and obsolete line folding already): 400;
- the Host check: on a loopback address, or when `allow_hosts` is given, the Host must be a loopback name or one of
  `allow_hosts` (a page elsewhere cannot reach a loopback server through DNS rebinding; behind a reverse proxy,
  allow the public name): 403;
- the Origin check: a cross-origin request (an Origin other than the server's own, or a browser's
  Sec-Fetch-Site of cross-site or same-site) is refused before it is evaluated unless its Origin is in
  `allow_origins` ("*": any), which also gets the CORS headers and preflight answers: 403. So a page on another
  origin cannot run queries, not even to time them;
- the body: read whole before the route runs, at most `max_body` bytes (`max_hook_body` under /cds-services) within
  `body_timeout` seconds (413, 408); each chunk of the response must be taken by the client within `send_timeout`;
- one structured access log line per request (JSON on the "reasoner.serve.access" logger): method, path without
  its query string (queries may name patients), status, bytes, milliseconds, client address.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio

__all__ = ["LOOPBACK_NAMES", "Access", "Guard", "is_loopback"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_LOG = logging.getLogger("reasoner.serve.access")
_CORS_METHODS = "GET, HEAD, POST, OPTIONS"
_CORS_HEADERS = "Accept, Authorization, Content-Type"


@dataclass(frozen=True)
class Access:
    """Who may call. `allow_origins`: browser origins (scheme://host[:port]) allowed to call cross-origin, "*" for
    any; `allow_hosts`: Host names answered besides the loopback names (the public name behind a proxy)."""

    allow_origins: tuple[str, ...] = ()
    allow_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_body: int
    max_hook_body: int
    body_timeout: float
    send_timeout: float


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class Guard:
    """The middleware around `app` (see the module docstring); `loopback`: the server listens on loopback only."""

    def __init__(self, app: App, access: Access, limits: Limits, *, loopback: bool) -> None:
        self.app, self.access, self.limits, self.loopback = app, access, limits, loopback
        self.hosts = {h.lower() for h in access.allow_hosts} | (set(LOOPBACK_NAMES) if loopback else set())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        sent = {"status": 0, "bytes": 0}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            with anyio.fail_after(self.limits.send_timeout):
                await send(message)

        try:
            await self._handle(scope, receive, timed_send)
        finally:
            client = scope.get("client") or ("", 0)
            entry = {
                "method": scope["method"],
                "path": scope["path"],
                "status": sent["status"],
                "bytes": sent["bytes"],
                "ms": round((time.monotonic() - started) * 1000, 1),
                "client": client[0],
            }
            _LOG.info(json.dumps(entry))

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        refused = self._refusal(headers)
        if refused is not None:
            await _reply(send, *refused)
            return
        host = _host_name(headers["host"][0])
        if self.hosts and host not in self.hosts:
            await _reply(
                send,
                403,
                f"this server answers requests for {', '.join(sorted(self.hosts))} only, not for host {host!r} "
                "(behind a reverse proxy: reasoner serve --allow-host NAME)",
            )
            return
        own = f"{scope['scheme']}://{headers['host'][0].lower()}"
        origin = headers["origin"][0] if "origin" in headers else None
        site = (headers.get("sec-fetch-site") or [""])[0].lower()
        cross = (origin is not None and origin.lower() != own) or site in ("cross-site", "same-site")
        cors: list[tuple[bytes, bytes]] = []
        if cross:
            if origin is None or not ("*" in self.access.allow_origins or origin in self.access.allow_origins):
                await _reply(
                    send,
                    403,
                    f"cross-origin request from {origin or 'another site'} refused: this server answers pages of its "
                    f"own origin only (reasoner serve --allow-origin ORIGIN allows one)",
                    [(b"vary", b"Origin")],
                )
                return
            cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                cors += [
                    (b"access-control-allow-methods", _CORS_METHODS.encode()),
                    (b"access-control-allow-headers", _CORS_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                ]
                await _reply(send, 204, "", cors)
                return
            cors.append((b"access-control-expose-headers", b"Content-Type, Retry-After, X-Reasoner-Rows"))
        body = await self._body(scope, receive, send, headers)
        if body is None:
            return
        await self.app(scope, _replay(body, receive), _with_headers(send, cors))

    def _refusal(self, headers: dict[str, list[str]]) -> tuple[int, str] | None:
        if len(headers.get("host", [])) != 1:
            return 400, "a request must carry exactly one Host header"
        lengths = headers.get("content-length", [])
        if len(lengths) > 1:
            return 400, "a request may carry one Content-Length header only"
        if lengths and not (lengths[0].isascii() and lengths[0].isdigit()):
            return 400, "Content-Length must be a number of digits only"
        if lengths and "transfer-encoding" in headers:
            return 400, "a request may not carry both Content-Length and Transfer-Encoding"
        return None

    async def _body(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, list[str]]) -> bytes | None:
        """The whole request body, or None once a refusal was sent."""
        cap = self.limits.max_hook_body if scope["path"].startswith("/cds-services") else self.limits.max_body
        declared = int((headers.get("content-length") or ["0"])[0])
        if declared > cap:
            await _reply(send, 413, f"the request body may be at most {cap:,} bytes", close=True)
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.fail_after(self.limits.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > cap:
                        await _reply(send, 413, f"the request body may be at most {cap:,} bytes", close=True)
                        return None
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            await _reply(
                send, 408, f"the request body did not arrive within {self.limits.body_timeout:g} s", close=True
            )
            return None


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the buffered body once, then what the client sends next (its disconnection)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    if not extra:
        return send

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return sending


async def _reply(
    send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None, *, close: bool = False
) -> None:
    body = (message + "\n").encode("utf-8") if message else b""
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
