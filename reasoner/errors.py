"""Exceptions raised by the reasoner.

The tree::

    ReasonerError                  anything the reasoner refuses to do, with a message fit for a user
    ├── InputError                 the patient input is at fault (CLI exit code 1); nothing was derived
    │   ├── PatientParseError      the file or string cannot be read as RDF (names the source and the line)
    │   ├── InvalidPatientError    the facts parse but break the patient shapes (lists every violation)
    │   │   └── InconsistentPatientError  the facts contradict the guideline under OWL 2 RL (names the facts
    │   │                          and the rule whose conclusion is false)
    │   ├── CannotEvaluateError    the patient is valid but over the reasoning budget (reasoner.engine.safeguards): too
    │   │                          large or too slow to evaluate; no advice at all rather than partial advice
    │   └── CaseError              a guideline test case file is malformed: names the file, the field and what
    │                              was expected (reasoner.authoring.cases; `reasoner test` and `coverage` exit 2)
    ├── GuidelineError             the guideline files are broken or use an unsupported construct; also a
    │                              file `reasoner fmt` cannot rewrite without changing its triples, an unusable QC
    │                              profile or query (reasoner.authoring.qc), a git revision `reasoner diff` cannot read
    ├── QueryError                 a research query is malformed, is refused by the query guard (an update,
    │                              SERVICE, FROM, too long or deep: reasoner.rdf.sparql_guard), or a parameter
    │                              cannot be bound (reasoner.store.cohort, reasoner.rdf.bindings)
    │   └── QueryLimitError        the query ran past its time or memory limit and was stopped
    │                              (reasoner.store.limited; `reasoner query` exits 2 like any refused query)
    └── StoreError                 the cohort store cannot be opened, read or written: a local directory, or a
                                   SPARQL server that cannot be reached or answers an error (CLI exit code 4)

Library code raises these; only the CLI turns them into exit codes and friendly text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CannotEvaluateError",
    "CaseError",
    "GuidelineError",
    "InconsistentPatientError",
    "InputError",
    "InvalidPatientError",
    "PatientParseError",
    "QueryError",
    "QueryLimitError",
    "ReasonerError",
    "StoreError",
    "Violation",
]


class ReasonerError(Exception):
    """Base class of every error the reasoner raises on purpose."""


class InputError(ReasonerError):
    """The patient input is at fault; nothing was derived from it."""


class PatientParseError(InputError):
    """The patient source cannot be parsed."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: cannot read patient data: {detail}")


@dataclass(frozen=True)
class Violation:
    """One broken rule of the patient shapes: the node at fault, the property, and what was expected."""

    focus: str
    path: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.focus} {self.path}" if self.path else self.focus
        return f"{where}: {self.message}"


class InvalidPatientError(InputError):
    """The patient facts break the patient shapes; carries every violation found."""

    def __init__(self, source: str, violations: list[Violation]) -> None:
        self.source = source
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{source}: invalid patient data ({len(violations)} problem(s)):\n{lines}")


class CannotEvaluateError(InputError):
    """The patient cannot be evaluated within the reasoning budget (reasoner.engine.safeguards); nothing was derived."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: cannot evaluate: {detail}; no advice was derived")


class CaseError(InputError):
    """A guideline test case (reasoner.authoring.cases) cannot be used: names the case file, the field and what
    was expected."""

    def __init__(self, path: str, field: str | None, problem: str) -> None:
        self.path = path
        self.field = field
        self.problem = problem
        super().__init__(f"{path}: {field}: {problem}" if field else f"{path}: {problem}")


class GuidelineError(ReasonerError):
    """The guideline content cannot be used as it is."""


class QueryError(ReasonerError):
    """A query for the cohort store cannot be run: bad syntax, a refused feature (SERVICE), or a parameter that
    cannot be bound (reasoner.store.cohort)."""


class QueryLimitError(QueryError):
    """The query was stopped at a limit it was given: `limit` is "timeout" or "memory", `value` the limit (seconds or
    bytes)."""

    def __init__(self, limit: str, value: float, message: str) -> None:
        self.limit, self.value = limit, value
        super().__init__(message)


class StoreError(ReasonerError):
    """The cohort store cannot be opened, read or written: names the directory or the server's URL."""


class InconsistentPatientError(InvalidPatientError):
    """The patient facts, closed with the guideline under OWL 2 RL, are inconsistent: a rule whose conclusion is
    `false` fired (owl:Nothing, disjoint classes or properties, a negative property assertion, an ill-typed
    literal, ...). Each violation names the conflicting facts and the rule; nothing was derived."""

    def __init__(self, source: str, conflicts: list[Violation]) -> None:
        super().__init__(source, conflicts)
        lines = "\n".join(f"  - {v}" for v in conflicts)
        self.args = (
            f"{source}: patient data inconsistent with the guideline ({len(conflicts)} conflict(s)):\n{lines}",
        )
