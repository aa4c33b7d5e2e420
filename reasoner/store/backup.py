"""Backing up and restoring a cohort store on disk.

A backup is one N-Quads file (every quad of the store, portable to any RDF store) that ends with a line counting
its quads and giving the SHA-256 of the lines before it::

    # guideline-reasoner backup: 123456 quads, sha256 9f86d0...

It is written to a temporary file beside the target, flushed to disk and renamed, so a backup interrupted (or
starved of disk space) leaves no file that looks complete; `restore` checks the line and refuses a truncated or
altered backup. A restore loads into a new directory beside the target and renames it into place, so a failed
restore leaves nothing behind and never touches an existing store.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from pathlib import Path

import pyoxigraph as ox

from reasoner.errors import StoreError
from reasoner.store.cohort import EmbeddedStore, open_store

__all__ = ["backup", "restore"]

_TRAILER = re.compile(rb"# guideline-reasoner backup: (\d+) quads, sha256 ([0-9a-f]{64})\n")
_CHUNK = 1 << 20


def backup(store: str | Path, target: str | Path) -> int:
    """Write every quad of the store directory `store` to the file `target` (replaced whole, or not at all);
    return the number of quads. The store is opened read-only, so this is refused while a batch writes to it."""
    target = Path(target)
    with contextlib.closing(open_store(Path(store), read_only=True)) as opened:
        if not isinstance(opened, EmbeddedStore):
            raise StoreError(f"{store}: only a store directory can be backed up here; use the server's own backup")
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            opened.oxigraph.dump(str(temporary), format=ox.RdfFormat.N_QUADS)
            count, digest = _count_and_digest(temporary, end=temporary.stat().st_size)
            with temporary.open("ab") as out:
                out.write(f"# guideline-reasoner backup: {count} quads, sha256 {digest}\n".encode())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            raise StoreError(f"cannot write the backup {target}: {exc.strerror or exc}") from exc
        finally:
            temporary.unlink(missing_ok=True)
    return count


def restore(source: str | Path, store: str | Path) -> int:
    """Load the backup file `source` into a new store directory `store` (which must not exist or be empty) and
    return the number of quads; a truncated or altered backup is refused before anything is written."""
    source, store = Path(source), Path(store)
    if store.exists() and (not store.is_dir() or any(store.iterdir())):
        raise StoreError(f"{store} already exists and is not empty: restore into a new directory")
    count = _verified(source)
    staging = store.with_name(f".{store.name}.restoring-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with contextlib.closing(open_store(staging)) as opened:
            assert isinstance(opened, EmbeddedStore)
            opened.oxigraph.bulk_load(path=str(source), format=ox.RdfFormat.N_QUADS)
            loaded = len(opened.oxigraph)
        if loaded != count:
            raise StoreError(f"{source}: the backup holds {count} quads but {loaded} were loaded")
        if store.exists():
            store.rmdir()
        os.replace(staging, store)
    except (OSError, SyntaxError) as exc:
        raise StoreError(f"cannot restore {source} into {store}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _verified(source: Path) -> int:
    """The quad count the backup's last line states, after checking the count and digest of the lines before it."""
    try:
        size = source.stat().st_size
        with source.open("rb") as handle:
            handle.seek(max(0, size - 200))
            tail = handle.read()
    except OSError as exc:
        raise StoreError(f"cannot read the backup {source}: {exc.strerror or exc}") from exc
    start = tail.rfind(b"\n", 0, len(tail) - 1) + 1
    found = _TRAILER.fullmatch(tail[start:])
    if found is None:
        raise StoreError(f"{source} is not a complete backup: its last line is not the backup trailer (truncated?)")
    stated, digest = int(found.group(1)), found.group(2).decode()
    end = size - (len(tail) - start)
    count, actual = _count_and_digest(source, end=end)
    if (count, actual) != (stated, digest):
        raise StoreError(
            f"{source} is damaged: {count} quads with sha256 {actual}, its trailer says {stated}, {digest}"
        )
    return count


def _count_and_digest(path: Path, *, end: int) -> tuple[int, str]:
    """The number of lines and the SHA-256 of the first `end` bytes of `path` (N-Quads: one quad per line)."""
    digest, lines, left = hashlib.sha256(), 0, end
    with path.open("rb") as handle:
        while left > 0:
            chunk = handle.read(min(_CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            lines += chunk.count(b"\n")
            left -= len(chunk)
    return lines, digest.hexdigest()
