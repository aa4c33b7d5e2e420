"""What stands between the pipeline and an engine: patients evaluated together share no node, and each patient is
held to the reasoning budget; a patient too large or too slow gets CannotEvaluateError (an InputError: nothing is
derived for it, the other patients go on), never partial advice. A patient inconsistent with the guideline
(InconsistentPatientError) is refused alone in the same way.

Isolation. An engine evaluates a chunk of patients in one graph, which is sound only if they share no node but the
guideline's. Two inputs that reuse a patient IRI or a record IRI would be merged there (one patient's findings read
as the other's), so a chunk is split into groups whose patients share no subject, each evaluated on its own.

Budget::

    MAX_DERIVED   100,000  triples the feature rules may derive for one patient
    MAX_SECONDS   60       wall-clock seconds of reasoning (feature rules, OWL 2 RL closure, recommendation rules)
                           per patient; owlrl, the slow reference engine, takes seconds per patient

and the patient graph itself may hold no more than reasoner.rdf.limits.MAX_TRIPLES triples (a Patient built in
Python is held to the size of a file). They are module constants read at call time; change one by assignment
(`reasoner.engine.safeguards.MAX_SECONDS = 120`).

Time is measured per group: a group that takes longer than MAX_SECONDS per patient in it is evaluated again one
patient at a time, and each patient over MAX_SECONDS is refused. Oxigraph and owlrl cannot be interrupted mid-query,
so the budget decides what is reported, not when work stops; the input limits bound what one patient can make the
engine do.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import date

from rdflib import URIRef
from rdflib.term import Node

from reasoner.engine.engines import Engine, Evaluation
from reasoner.errors import CannotEvaluateError, InconsistentPatientError, InputError
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline
from reasoner.rdf import limits as input_limits

__all__ = ["MAX_DERIVED", "MAX_SECONDS", "evaluate_guarded", "isolated_groups"]

MAX_DERIVED = 100_000
MAX_SECONDS = 60.0


def evaluate_guarded(
    engine: Engine, gl: Guideline, patients: Sequence[Patient], *, as_of: date, min_rank: int, jurisdiction: URIRef
) -> list[Evaluation | InputError]:
    """`engine.evaluate_many` for `patients` (in input order), in groups that share no node, with each patient over
    the budget replaced by CannotEvaluateError."""
    out: list[Evaluation | InputError | None] = [None] * len(patients)
    for group in isolated_groups(patients):
        found = _within_budget(
            engine, gl, [patients[i] for i in group], as_of=as_of, min_rank=min_rank, jurisdiction=jurisdiction
        )
        for i, outcome in zip(group, found, strict=True):
            out[i] = outcome
    return [o for o in out if o is not None]


def isolated_groups(patients: Sequence[Patient]) -> list[list[int]]:
    """Indices of `patients` in groups (first fit, in order) such that no patient's subject is a node of another
    patient in its group: a reused patient or record IRI never puts two patients in one graph."""
    groups: list[tuple[list[int], set[Node], set[Node]]] = []  # members, their subjects, all their nodes
    for index, patient in enumerate(patients):
        subjects = set(patient.graph.subjects())
        nodes = subjects | set(patient.graph.objects())
        for members, taken, seen in groups:
            if not (subjects & seen or nodes & taken):
                members.append(index)
                taken |= subjects
                seen |= nodes
                break
        else:
            groups.append(([index], set(subjects), set(nodes)))
    return [members for members, _, _ in groups]


def _within_budget(
    engine: Engine, gl: Guideline, patients: Sequence[Patient], *, as_of: date, min_rank: int, jurisdiction: URIRef
) -> list[Evaluation | InputError]:
    limit = input_limits.MAX_TRIPLES
    out: list[Evaluation | InputError] = [
        CannotEvaluateError(
            p.source, f"the patient graph holds {len(p.graph)} triples, more than {limit} (MAX_TRIPLES)"
        )
        for p in patients
    ]
    ready = [i for i, p in enumerate(patients) if len(p.graph) <= limit]

    def run(indices: list[int]) -> tuple[list[Evaluation], float]:
        started = time.perf_counter()
        found = engine.evaluate_many(
            gl, [patients[i] for i in indices], as_of=as_of, min_rank=min_rank, jurisdiction=jurisdiction
        )
        return found, time.perf_counter() - started

    if not ready:
        return out
    try:
        found, elapsed = run(ready)
    except InconsistentPatientError:  # refuses the whole group: find the patients at fault
        found, elapsed = [], math.inf
    if elapsed <= MAX_SECONDS * len(ready):
        timed = [(i, evaluation, elapsed / len(ready)) for i, evaluation in zip(ready, found, strict=True)]
    else:  # find the patients at fault
        timed = []
        for i in ready:
            try:
                (evaluation,), alone = run([i])
            except InconsistentPatientError as exc:
                out[i] = exc
                continue
            timed.append((i, evaluation, alone))
    for i, evaluation, seconds in timed:
        source = patients[i].source
        if seconds > MAX_SECONDS:
            out[i] = CannotEvaluateError(source, f"reasoning took {seconds:.1f} s, more than {MAX_SECONDS:g} s")
        elif len(evaluation.derived) > MAX_DERIVED:
            out[i] = CannotEvaluateError(
                source, f"reasoning derived {len(evaluation.derived)} triples, more than {MAX_DERIVED} (MAX_DERIVED)"
            )
        else:
            out[i] = evaluation
    return out
