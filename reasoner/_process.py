"""Child processes that run work the parent must be able to stop: the endpoint's workers (reasoner.serve._pool),
`reasoner query`'s query process (reasoner.store.limited) and `reasoner batch`'s workers (reasoner.store.batch).

pyoxigraph can abort or segfault its process, or run for ever in native code that no Python timeout interrupts, so
the parent runs such work in a child it kills at a deadline; the child caps its own address space (a request that
asks for more memory fails there, not on the machine) and ends when its parent is gone, so a parent killed with
SIGKILL leaves no orphan working on.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

__all__ = ["Child", "die_with_parent", "limit_memory", "spawn", "watch_parent"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(eq=False)
class Child:
    """A child process and the parent's end of the socket pair it talks over."""

    process: subprocess.Popen[bytes]
    conn: Connection

    def kill(self) -> None:
        """Kill the process (if still running), reap it and close the connection."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.conn.close()

    def death(self) -> str:
        """How the process ended, for an error message (waits up to a second for it to end)."""
        try:
            code = self.process.wait(1.0)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        if code >= 0:
            return f"exit code {code}"
        name = signal.Signals(-code).name
        return f"{name}; it may have run out of its memory limit" if name == "SIGABRT" else name


def spawn(module: str, *args: str) -> Child:
    """Run `module`.main() in a fresh interpreter (not a fork of a threaded parent, and no re-import of the caller's
    main module), talking over a socket pair: the child's end is its first argument (a file descriptor; wrap it in
    multiprocessing.connection.Connection), `args` follow."""
    ours, theirs = socket.socketpair()
    with theirs:
        fd = theirs.fileno()
        process = subprocess.Popen(
            [sys.executable, "-c", f"from {module} import main; main()", str(fd), *args],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_BACKTRACE": "0"},  # one line, not a page, when a query aborts the child
        )
    return Child(process, Connection(ours.detach()))


def limit_memory(memory: int) -> None:
    """Cap this process's address space at `memory` bytes (an allocation past it fails here: a MemoryError, or
    Oxigraph aborts the process) and forbid core dumps (a dump of a process that held patient data)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def die_with_parent(parent: int) -> None:
    """End this process as soon as its parent (process `parent`, as the parent gave it) ends, even by SIGKILL: on
    Linux the kernel sends SIGKILL (PR_SET_PDEATHSIG), elsewhere `watch_parent` notices within a second. Only for a
    child started by a thread that lives as long as the parent (the kernel signals when that thread ends)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    watch_parent(parent)


def watch_parent(parent: int) -> None:
    """End this process (exit code 1) once it is no longer the child of process `parent`, even in the middle of work
    that would never return: a daemon thread checks every second. A parent that died before the call is noticed
    too."""
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
