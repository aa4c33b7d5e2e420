"""uvicorn's h11 protocol with what it lacks:

- a timeout on the request head: a connection must send a complete head within `head_timeout` seconds of opening
  (or of its previous response), else it is closed. uvicorn closes an idle keep-alive connection after
  `timeout_keep_alive`, but one that never sends a byte, or sends a head one byte at a time (slowloris), is kept
  for ever: a thousand of them exhaust the file descriptors and every client waits;
- a cap on the head's size even when it arrives whole (h11 caps only a head still arriving: 431);
- a refusal of repeated Content-Length headers even when they agree (h11 merges them silently, and a proxy in front
  may have read the other one), and of head lines ended by a bare LF or folded onto the next (h11 takes them; a
  proxy may read them otherwise).

The body and the response have their timeouts in reasoner.serve._asgi.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["protocol"]

_LENGTH = re.compile(rb"^content-length[ \t]*:", re.IGNORECASE | re.MULTILINE)
_BARE_LF = re.compile(rb"(?<!\r)\n")
_FOLDED = re.compile(rb"\r\n[ \t]")


def protocol(head_timeout: float, max_head: int) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's `http=` setting: request heads within `head_timeout` seconds and `max_head`
    bytes."""

    class _Protocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_deadline: asyncio.TimerHandle | None = None
            self._head = b""
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE:  # reading a request head: look at it before h11 merges it
                self._head += data
                head = self._head.partition(b"\r\n\r\n")[0]
                if len(head) > max_head:
                    self._refuse(b"the request head is larger than %d bytes\n" % max_head, 431)
                    return
                if len(_LENGTH.findall(head)) > 1:
                    self._refuse(b"a request may carry one Content-Length header only\n")
                    return
                if _BARE_LF.search(head) or _FOLDED.search(head):
                    self._refuse(b"request head lines must end in CR LF and may not be folded\n")
                    return
            super().data_received(data)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            super().connection_lost(exc)

        def _refuse(self, message: bytes, status: int = 400) -> None:
            """Answer `status` and close, before h11 has read the head (so h11 cannot write the answer)."""
            reason = b"Bad Request" if status == 400 else b"Request Header Fields Too Large"
            head = b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n" % (
                status,
                reason,
            )
            self.transport.write(head + b"content-length: %d\r\n\r\n" % len(message) + message)
            self.transport.close()

        def _arm(self) -> None:
            self._head = b""
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            self._head_deadline = self.loop.call_later(head_timeout, self._expire, self.cycle)

        def _expire(self, armed: Any) -> None:
            """Close the connection if no new request head arrived since the deadline was set."""
            if self.cycle is armed and not self.transport.is_closing():
                self.transport.close()

    return _Protocol
