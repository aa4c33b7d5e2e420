"""The research queries (queries/research/*.rq): SPARQL over the cohort store, each with a header comment.

The header is the file's leading comment block, with three fields whose text may continue on indented comment
lines::

    # Question: the question the query answers
    # Parameters: ?name (optional|required) what to bind, ...
    # Row: what one row of the answer means

    from reasoner import research, store
    q = research.queries()["red-flag-prevalence"]
    rows = store.query(cohort, q.text, bindings={"version": URIRef(...)})
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reasoner._paths import data_dir
from reasoner.errors import QueryError

__all__ = ["ResearchQuery", "load_query", "queries"]

_FIELD = re.compile(r"^#\s*(Question|Parameters|Row):\s*(.*)$")
_MORE = re.compile(r"^#\s{2,}(\S.*)$")
_PARAMETER = re.compile(r"\?(\w+)\s*(?:and\s*\?(\w+)\s*)?\((optional|required)\)")


@dataclass(frozen=True)
class ResearchQuery:
    name: str
    path: Path
    text: str
    question: str
    parameters: str
    row: str

    @property
    def required(self) -> tuple[str, ...]:
        """The parameters the header marks as required."""
        return tuple(n for m in _PARAMETER.finditer(self.parameters) if m[3] == "required" for n in m.groups()[:2] if n)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(n for m in _PARAMETER.finditer(self.parameters) if m[3] == "optional" for n in m.groups()[:2] if n)


def load_query(path: Path) -> ResearchQuery:
    """Read one query file and its header; a header without its three fields is a QueryError naming the file."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        found, more = _FIELD.match(line), _MORE.match(line)
        if found:
            current = found[1]
            fields[current] = found[2].strip()
        elif more and current:
            fields[current] += " " + more[1].strip()
    missing = [f for f in ("Question", "Parameters", "Row") if not fields.get(f)]
    if missing:
        raise QueryError(f"{path}: the header comment lacks {', '.join(missing)}")
    return ResearchQuery(path.stem, path, text, fields["Question"], fields["Parameters"], fields["Row"])


@cache
def queries(root: Path | None = None) -> dict[str, ResearchQuery]:
    """Every research query by name (the file name without .rq), in name order."""
    base = root or data_dir("queries") / "research"
    return {p.stem: load_query(p) for p in sorted(base.glob("*.rq"))}
