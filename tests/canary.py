"""A loopback canary: an HTTP server on 127.0.0.1 that records every request it gets. Tests point hostile inputs
and queries at it and assert it heard nothing; a control test in each suite shows it does hear what reaches it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Canary:
    """`requests` lists "METHOD /path" as they arrive; `base` is http://127.0.0.1:PORT. Whatever is asked, it
    answers `body` (a small valid answer, so a client that fetched would go on and be seen doing so)."""

    def __init__(self, *, body: bytes, content_type: str, path: str = "") -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_HEAD = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base + path
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def canary_fixture(**options: str | bytes) -> object:
    """A module-scoped pytest fixture named `canary` serving `Canary(**options)`."""

    @pytest.fixture(scope="module", name="canary")
    def fixture() -> Iterator[Canary]:
        server = Canary(**options)  # type: ignore[arg-type]
        yield server
        server.close()

    return fixture
