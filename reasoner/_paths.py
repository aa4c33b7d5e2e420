"""Where the guideline, shapes, queries and examples are: bundled in the wheel, or at the checkout's top level."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the directory `name` (ontology, shapes, queries, examples), installed copy first."""
    bundled = _PACKAGE / "_data" / name
    if bundled.is_dir():
        return bundled
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"reasoner data directory {name!r} not found next to {_PACKAGE}")
