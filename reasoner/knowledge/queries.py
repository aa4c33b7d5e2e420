"""The query files the engines run: feature rules (queries/features/*.rq, run in file-name order, turning numbers
and dates evaluated at `as_of` into classes the OWL axioms use; each sees what earlier ones derived) and the
generic recommendation rules (queries/rules/*.rq)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from reasoner._paths import data_dir
from reasoner.errors import GuidelineError, QueryError
from reasoner.rdf.oxi import Bindable
from reasoner.rdf.sparql_guard import guard

__all__ = ["RuleQuery", "core_feature_files", "header_fields", "read_query", "rule_query"]


@dataclass(frozen=True)
class RuleQuery:
    name: str
    path: Path
    text: str

    @cached_property
    def prepared(self) -> Query:
        """The query parsed by rdflib (the reference engine); parsed on first use only."""
        return prepareQuery(self.text)

    @cached_property
    def at_date(self) -> Bindable:
        """The query with ?asOf to bind (the compiled engine's Oxigraph queries take it as a value)."""
        return Bindable(self.text, "asOf")


def read_query(path: Path) -> RuleQuery:
    """The query file, refused (GuidelineError naming it) when it does what no query may, such as SERVICE."""
    text = path.read_text(encoding="utf-8")
    try:
        guard(text)
    except QueryError as exc:
        raise GuidelineError(f"{path}: {exc}") from exc
    return RuleQuery(name=path.stem, path=path, text=text)


def core_feature_files() -> tuple[Path, ...]:
    """The feature rules every module shares (queries/features/*.rq); a module adds its own (features/*.rq)."""
    return tuple(sorted((data_dir("queries") / "features").glob("*.rq")))


@cache
def rule_query(name: str) -> RuleQuery:
    return read_query(data_dir("queries") / "rules" / f"{name}.rq")


_FIELD = re.compile(r"^#\s*([A-Z][a-z]+):\s*(.*)$")
_MORE = re.compile(r"^#\s{2,}(\S.*)$")


def header_fields(text: str, names: Iterable[str]) -> dict[str, str]:
    """The `# Name: value` fields of a query file's leading comment (a line indented two spaces or more continues
    the field above), for the fields in `names`; one left out or empty is absent from the result."""
    wanted, fields, current = set(names), dict[str, str](), ""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        found, more = _FIELD.match(line), _MORE.match(line)
        if found:
            current = found[1]
            fields[current] = found[2].strip()
        elif more and current:
            fields[current] += " " + more[1].strip()
    return {k: v for k, v in fields.items() if k in wanted and v}
