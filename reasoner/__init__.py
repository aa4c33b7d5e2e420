"""Guideline reasoner: clinical practice guidelines as an OWL 2 RL + SHACL knowledge graph.

Typical use::

    import reasoner
    result = reasoner.recommend("examples/seed-case.ttl")
    print(result.headline)
    print(result.to_markdown())
"""

from reasoner.engine.validate import check, validate
from reasoner.errors import (
    CannotEvaluateError,
    CaseError,
    GuidelineError,
    InputError,
    InvalidPatientError,
    PatientParseError,
    ReasonerError,
    Violation,
)
from reasoner.input.builder import PatientBuilder
from reasoner.input.load import load
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.output.result import Recommendations
from reasoner.pipeline import recommend, recommend_many

__all__ = [
    "CannotEvaluateError",
    "CaseError",
    "Guideline",
    "GuidelineError",
    "InputError",
    "InvalidPatientError",
    "Patient",
    "PatientBuilder",
    "PatientParseError",
    "ReasonerError",
    "Recommendations",
    "Violation",
    "check",
    "load",
    "load_guideline",
    "recommend",
    "recommend_many",
    "validate",
]
