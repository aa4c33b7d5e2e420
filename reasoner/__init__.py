"""Guideline reasoner: clinical practice guidelines as an OWL 2 RL + SHACL knowledge graph.

Typical use::

    import reasoner
    result = reasoner.recommend("examples/seed-case.ttl")
    print(result.headline)
    print(result.to_markdown())
"""

from reasoner.builder import PatientBuilder
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
from reasoner.guideline import Guideline, load_guideline
from reasoner.patient import Patient, load
from reasoner.pipeline import recommend, recommend_many
from reasoner.result import Recommendations
from reasoner.validate import check, validate

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
