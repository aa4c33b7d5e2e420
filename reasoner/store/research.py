"""The research queries (queries/research/*.rq): SPARQL over the cohort store, each with a header comment.

The header is the file's leading comment block, with three fields whose text may continue on indented comment
lines::

    # Question: the question the query answers
    # Parameters: ?name (optional|required) what to bind, ...
    # Row: what one row of the answer means

    from reasoner.store import cohort as store, research
    q = research.queries()["red-flag-prevalence"]
    rows = store.query(cohort, q.text, bindings={"version": URIRef(...)})
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rdflib import URIRef

from reasoner._paths import data_dir
from reasoner.errors import QueryError
from reasoner.knowledge.modules import bundled
from reasoner.knowledge.queries import header_fields
from reasoner.store.cohort import Rows, open_store, serialize_query
from reasoner.store.cohort import query as run

__all__ = ["ResearchQuery", "load_query", "parameter", "queries", "run_query"]

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
    fields = header_fields(text, ("Question", "Parameters", "Row"))
    missing = [f for f in ("Question", "Parameters", "Row") if not fields.get(f)]
    if missing:
        raise QueryError(f"{path}: the header comment lacks {', '.join(missing)}")
    return ResearchQuery(path.stem, path, text, fields["Question"], fields["Parameters"], fields["Row"])


@cache
def queries(root: Path | None = None) -> dict[str, ResearchQuery]:
    """Every research query by name (the file name without .rq), in name order: those under `root`, by default
    the core's (queries/research) and every bundled module's (research/). A name used twice is a QueryError."""
    folders = [root] if root is not None else [data_dir("queries") / "research", *(m.research for m in bundled()[1])]
    found: dict[str, ResearchQuery] = {}
    for path in sorted((p for folder in folders for p in folder.glob("*.rq")), key=lambda p: p.name):
        if path.stem in found:
            raise QueryError(f"{path}: a research query named {path.stem!r} exists already ({found[path.stem].path})")
        found[path.stem] = load_query(path)
    return found


def run_query(query: str, store_path: str | Path, *, fmt: str = "table", params: tuple[str, ...] = ()) -> str:
    """Run a research query by name, a .rq file or query text over the store at `store_path` (a directory, opened
    read-only, or a SPARQL server's URL: see reasoner.store.cohort.open_store).
    `params` are "name=value" strings: <...> binds an IRI, anything else a string literal. Returns the answer as a
    text table, or serialised by Oxigraph (csv, tsv, json, xml)."""
    known = queries()
    named = known.get(query)
    if named is not None:
        text = named.text
    elif query.endswith(".rq") and Path(query).is_file():
        text = Path(query).read_text(encoding="utf-8")
    else:
        text = query
    bindings = dict(parameter(p) for p in params)
    lacking = [n for n in (named.required if named else ()) if n not in bindings]
    if lacking:
        raise QueryError(f"query {query!r} needs --param for: {', '.join(lacking)}")
    with open_store(store_path, read_only=True) as store:
        if fmt != "table":
            return serialize_query(store, text, bindings=bindings, format=fmt).decode("utf-8")
        answer = run(store, text, bindings=bindings)
    if not isinstance(answer, Rows):
        return answer.serialize(format="turtle") if hasattr(answer, "serialize") else f"{answer}\n"
    return _table(answer)


def parameter(text: str) -> tuple[str, URIRef | str]:
    """A "NAME=VALUE" parameter as a binding: <...> binds an IRI, anything else a string literal."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise QueryError(f"parameter {text!r}: expected NAME=VALUE")
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        return name.strip().lstrip("?"), URIRef(value[1:-1])
    return name.strip().lstrip("?"), value


def _table(answer: Rows) -> str:
    cells = [list(answer.variables)] + [["" if t is None else str(t) for t in row] for row in answer.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(answer.variables))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n({len(answer.rows)} rows)\n"
