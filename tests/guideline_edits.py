"""Planting changes in a copy of the guideline: one statement rewritten, whatever the file's layout."""

from __future__ import annotations

import re
from pathlib import Path

from reasoner.authoring.turtle_scan import scan


def edit(root: Path, file: str, subject: str, pattern: str, replacement: str) -> None:
    """Rewrite, in the first statement about `subject`, the one match of `pattern` (whatever the layout)."""
    path = root / file
    text = path.read_text()
    statement = next(st for st in scan(text).statements if st.subject == subject)
    changed, count = re.subn(pattern, replacement, statement.text, count=1)
    assert count == 1, f"{pattern!r} not in the statement about {subject}"
    path.write_text(text.replace(statement.text, changed, 1))
