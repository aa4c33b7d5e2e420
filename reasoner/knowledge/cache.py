"""The on-disk compile cache: a guideline's parsed triples (one graph per file group: the core, then each module)
and its OWL 2 RL closure, keyed by content hash.

One N-Quads file per key holds all the graphs, so the blank nodes of the asserted axioms and of the inferred ones
stay the same nodes. Files are written to a temporary name and renamed into place, so a reader sees a whole
file or none; a file that fails to parse or lacks its closing line is ignored and rebuilt.

Location: $REASONER_CACHE_DIR, else $XDG_CACHE_HOME/guideline-reasoner, else ~/.cache/guideline-reasoner.
A cache directory that cannot be written is not an error: the guideline is compiled in memory. A cache file is
trusted only if the current user owns it and its directory is writable by nobody else (as ssh treats its keys):
whoever can write the cache decides what the reasoner believes the guideline says.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from reasoner._files import write_atomically
from reasoner.rdf.oxi import from_ox, to_quads

__all__ = ["cache_dir", "read", "write"]

FORMAT = "4"  # bump when what is cached, or how, changes
_ASSERTED = "urn:guideline-reasoner:asserted:"
_INFERRED = ox.NamedNode("urn:guideline-reasoner:inferred")
_END = "# end of compiled guideline\n"


def cache_dir() -> Path:
    explicit = os.environ.get("REASONER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "guideline-reasoner"


def _path(key: str, root: Path | None) -> Path:
    return (root or cache_dir()) / f"compiled-{FORMAT}-{key}.nq"


def read(key: str, *, root: Path | None = None) -> tuple[list[Graph], Graph] | None:
    """The asserted graphs (in the order written) and the inferred graph cached under `key`, or None when absent or
    unusable."""
    path = _path(key, root)
    try:
        if not (_trusted(path) and _trusted(path.parent)):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if not data.endswith(_END.encode()):
        return None
    asserted: dict[int, Graph] = {}
    inferred = Graph()
    try:
        for quad in ox.parse(data, format=ox.RdfFormat.N_QUADS):
            triple = (from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object))
            name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
            if name.startswith(_ASSERTED):
                asserted.setdefault(int(name.removeprefix(_ASSERTED)), Graph()).add(triple)
            else:
                inferred.add(triple)
    except (SyntaxError, ValueError, TypeError):
        return None
    return [asserted.get(i, Graph()) for i in range(max(asserted, default=-1) + 1)], inferred


def _trusted(path: Path) -> bool:
    info = path.stat()
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def write(key: str, asserted: Sequence[Graph], inferred: Graph, *, root: Path | None = None) -> Path | None:
    """Cache the graphs under `key` atomically; return the file, or None when the cache is not writable."""
    path = _path(key, root)
    quads = [q for i, g in enumerate(asserted) for q in to_quads(g, ox.NamedNode(f"{_ASSERTED}{i}"))]
    quads += to_quads(inferred, _INFERRED)
    data = (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"") + _END.encode()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(path, data)
    except OSError:
        return None
    return path
