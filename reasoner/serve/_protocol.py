"""uvicorn's h11 protocol with the one timeout it lacks: a connection must send a complete request head within
`head_timeout` seconds of opening (or of its previous response), else it is closed.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but a connection that never sends a byte,
or sends a request head one byte at a time (slowloris), is kept for ever: a thousand of them exhaust the file
descriptors and every client waits. The body and the response have their timeouts in reasoner.serve._asgi.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["protocol"]


def protocol(head_timeout: float) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's `http=` setting."""

    class _Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_deadline: asyncio.TimerHandle | None = None
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            self._head_deadline = self.loop.call_later(head_timeout, self._expire, self.cycle)

        def _expire(self, armed: Any) -> None:
            """Close the connection if no new request head arrived since the deadline was set."""
            if self.cycle is armed and not self.transport.is_closing():
                self.transport.close()

    return _Protocol
