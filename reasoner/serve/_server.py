"""The server: a Starlette application (the endpoint, the page, the CDS Hooks services) served by uvicorn on its
h11 protocol (pure Python, strict), with the limits of reasoner.serve._endpoint.Settings.

uvicorn is the ASGI server most used with Starlette and maintained with it; its h11 protocol parses strictly
(RFC 9112: no bare LF, no obsolete folding, one Content-Length value, a bounded head) and reasoner.serve._asgi and
reasoner.serve._protocol add what it lacks (duplicate Host, request-head and body timeouts).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from reasoner.errors import ReasonerError
from reasoner.serve._asgi import Access, Guard, Limits, is_loopback
from reasoner.serve._endpoint import Endpoint, Settings, text
from reasoner.serve._hooks import HookOptions, Hooks
from reasoner.serve._protocol import protocol

__all__ = ["App", "Server", "Tls", "access_log", "make_app"]

_FD_MARGIN = 256  # descriptors besides the connections: workers' sockets, the store's files, logs


@dataclass(frozen=True)
class Tls:
    """HTTPS: the certificate chain and the private key (PEM files)."""

    cert: Path
    key: Path


class App:
    """The ASGI application and what it holds (worker pools, the store's serve lock); `close` releases them."""

    def __init__(self, asgi: Starlette, settings: Settings, access: Access, parts: list[Endpoint | Hooks]) -> None:
        self.asgi, self.settings, self.access, self.parts = asgi, settings, access, parts

    def close(self) -> None:
        for part in self.parts:
            part.close()
        self.parts = []


def make_app(
    store: str | Path | None,
    *,
    settings: Settings | None = None,
    hooks: HookOptions | None = None,
    access: Access | None = None,
) -> App:
    """The application over the store directory `store` (the endpoint at /sparql, the page at /) and, given
    `hooks`, the CDS Hooks services at /cds-services; its worker processes are started now."""
    if store is None and hooks is None:
        raise ReasonerError("nothing to serve: give a store, CDS Hooks services, or both")
    settings = settings or Settings()
    parts: list[Endpoint | Hooks] = []
    try:
        if store is not None:
            parts.append(Endpoint(Path(store), settings))
        if hooks is not None:
            parts.append(Hooks(hooks, settings))
    except BaseException:
        for part in parts:
            part.close()
        raise
    routes: list[BaseRoute] = [route for part in parts for route in part.routes()]
    asgi = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    return App(asgi, settings, access or Access(), parts)


async def _not_found(request: Request, exc: Exception) -> Response:
    return text(404, f"nothing at {request.url.path}: the page is at /, the SPARQL endpoint at /sparql")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    allow = getattr(exc, "headers", None) or {}
    return text(405, f"{request.method} is not allowed on {request.url.path}: this server is read-only", **allow)


class Server:
    """`app` served by uvicorn on host:port (0: any free port) until `stop`; in the calling thread (`run`) or in a
    background one (`start`, for tests and embedding). The socket is bound at once, so `url` is known."""

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 0, tls: Tls | None = None) -> None:
        self.app, self.tls = app, tls
        s = app.settings
        loopback = is_loopback(host)
        guarded = Guard(
            app.asgi,
            app.access,
            Limits(s.max_body, s.max_hook_body, s.body_timeout, s.body_timeout),
            loopback=loopback,
        )
        _raise_fd_limit(s.max_connections + _FD_MARGIN)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(s.backlog)  # connections wait in the backlog from now on, even before uvicorn runs
        except OSError as exc:
            self.socket.close()
            raise ReasonerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        config = uvicorn.Config(
            guarded,
            http=protocol(s.head_timeout, s.max_head),
            lifespan="off",
            access_log=False,
            log_config=None,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1,::1",
            server_header=False,
            limit_concurrency=s.max_connections,
            backlog=s.backlog,
            timeout_keep_alive=s.keep_alive,
            timeout_graceful_shutdown=s.grace,
            h11_max_incomplete_event_size=s.max_head,
            ssl_certfile=str(tls.cert) if tls else None,
            ssl_keyfile=str(tls.key) if tls else None,
            ssl_version=ssl.PROTOCOL_TLS_SERVER,
        )
        try:
            config.load()  # reads the certificate now: a bad one is an error before anything is served
        except (OSError, ssl.SSLError) as exc:
            self.socket.close()
            raise ReasonerError(f"cannot use the TLS certificate {tls.cert if tls else ''}: {exc}") from exc
        self.uvicorn = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.socket.getsockname()[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"{'https' if self.tls else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/"

    def run(self, on_ready: Callable[[Server], None] | None = None) -> None:
        """Serve in this thread until SIGINT or SIGTERM (running requests get `grace` seconds), then close."""
        # uvicorn raises the signal again once it has shut down: end quietly, with the workers stopped.
        previous = signal.signal(signal.SIGTERM, _exit)
        try:
            if on_ready is not None:
                on_ready(self)
            self.uvicorn.run(sockets=[self.socket])
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.socket.close()
            self.app.close()

    def start(self) -> Server:
        """Serve in a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        while not self.uvicorn.started:
            if not self._thread.is_alive():
                raise ReasonerError("the server stopped while starting")
            self._thread.join(0.01)
        return self

    def _serve(self) -> None:
        asyncio.run(self.uvicorn.serve(sockets=[self.socket]))

    def stop(self) -> None:
        """Stop serving (as on SIGTERM) and close the application."""
        if self._thread is not None:
            self.uvicorn.should_exit = True
            self._thread.join()
            self._thread = None
        self.socket.close()
        self.app.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def access_log() -> None:
    """Print the structured access log (one JSON object a line) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("reasoner.serve.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _raise_fd_limit(wanted: int) -> None:
    """Allow this process `wanted` open files, as far as the hard limit lets (connections are file descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard)
        )
