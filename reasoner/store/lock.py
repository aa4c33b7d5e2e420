"""One writer at a time for a cohort store on disk: an advisory lock file that names its holder.

Oxigraph (RocksDB) already refuses a second read-write opening of a directory, with "IO error: While lock file:
.../LOCK: Resource temporarily unavailable". This lock is taken first and says who holds it. It is an flock(2) on
`<store>/reasoner-writer.lock`: the kernel releases it when its holder exits, even by kill -9, so it never goes
stale. A read-only opening checks it too, and is refused while another process writes: Oxigraph calls reading a
store that another process writes "undefined behaviour" (its read-only mode is a RocksDB secondary view whose files a
writer's compaction may delete). Readers never hold it, so a reader that opened first does not block a writer.

A server (`reasoner serve`) reads for a long time, so it is different: it holds `<store>/reasoner-served.lock`
(a shared flock, `hold_serve_lock`) while it serves, and a writer is refused while any server holds it. Each side
takes its own lock before checking the other's, so a writer and a server starting together cannot both go ahead.
"""

from __future__ import annotations

import fcntl
import os
import sys
from datetime import datetime
from pathlib import Path

from reasoner.errors import StoreError

__all__ = ["LOCK_NAME", "SERVE_LOCK_NAME", "WriterLock", "acquire_writer_lock", "hold_serve_lock", "refuse_if_written"]

LOCK_NAME = "reasoner-writer.lock"
SERVE_LOCK_NAME = "reasoner-served.lock"


class WriterLock:
    """The held lock; `release` it when the store is closed (the kernel does if the process dies first)."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def acquire_writer_lock(directory: Path) -> WriterLock:
    """Take the writer lock of the store at `directory` (created if needed), or raise StoreError at once naming the
    process that holds it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the cohort store {directory}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = _holder(fd)
        raise StoreError(
            f"the cohort store {directory} is being written by {holder}; one writer at a time: wait for it to "
            f"finish (or stop it), then run again"
        ) from None
    served = _served_by(directory)
    if served is not None:
        os.close(fd)
        raise StoreError(
            f"the cohort store {directory} is being served by {served}: a served store is not written (its readers "
            "would see it change under them); stop the server, write, then serve again"
        )
    os.ftruncate(fd, 0)
    os.pwrite(fd, _note(), 0)
    return WriterLock(fd, path)


def hold_serve_lock(directory: Path) -> WriterLock:
    """Hold the store at `directory` against writers while it is served (several servers may hold it at once);
    StoreError if a writer holds it now. `release` it when the server stops."""
    try:
        fd = os.open(directory / SERVE_LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot open the cohort store {directory}: {exc.strerror or exc}") from exc
    fcntl.flock(fd, fcntl.LOCK_SH)  # only ever contended for an instant, by a writer's check
    try:
        refuse_if_written(directory)
    except StoreError:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, _note(), 0)
    return WriterLock(fd, directory / SERVE_LOCK_NAME)


def _served_by(directory: Path) -> str | None:
    """Who serves the store at `directory` now (as the server wrote it), or None."""
    try:
        fd = os.open(directory / SERVE_LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return _holder(fd)
    os.close(fd)  # nobody serves it; closing releases the lock just taken
    return None


def _note() -> bytes:
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:3]))
    return f"process {os.getpid()} ({command}) since {datetime.now().isoformat(timespec='seconds')}\n".encode()


def refuse_if_written(directory: Path) -> None:
    """Raise StoreError if another process holds the writer lock of the store at `directory` (checked once, now)."""
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot open the cohort store {directory}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        raise StoreError(
            f"the cohort store {directory} is being written by {_holder(fd)}; read it when the write has finished "
            "(Oxigraph cannot read a store another process is writing)"
        ) from None
    os.close(fd)


def _holder(fd: int) -> str:
    """Who holds the lock, as the holder wrote it; closes `fd`."""
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
    finally:
        os.close(fd)
