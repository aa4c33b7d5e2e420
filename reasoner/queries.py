"""The query files the engines run: feature rules (queries/features/*.rq, run in file-name order, turning numbers
and dates evaluated at `as_of` into classes the OWL axioms use; each sees what earlier ones derived) and the
generic recommendation rules (queries/rules/*.rq)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from reasoner._paths import data_dir

__all__ = ["RuleQuery", "feature_rules", "rule_query"]


@dataclass(frozen=True)
class RuleQuery:
    name: str
    path: Path
    text: str

    @cached_property
    def prepared(self) -> Query:
        """The query parsed by rdflib (the reference engine); parsed on first use only."""
        return prepareQuery(self.text)


def _read(path: Path) -> RuleQuery:
    return RuleQuery(name=path.stem, path=path, text=path.read_text(encoding="utf-8"))


@cache
def feature_rules() -> tuple[RuleQuery, ...]:
    return tuple(_read(p) for p in sorted((data_dir("queries") / "features").glob("*.rq")))


@cache
def rule_query(name: str) -> RuleQuery:
    return _read(data_dir("queries") / "rules" / f"{name}.rq")
