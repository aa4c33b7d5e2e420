"""Synthetic patients: random but valid patient graphs drawn from a guideline's own vocabulary, reproducible from
a seed. They feed the engine differential test, the property-based safety tests and the benchmarks; they are not
clinically realistic cohorts, only varied (every finding class, status, drug, therapy and measurement can occur,
with dates and grades spread across the guideline's thresholds)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from rdflib import URIRef

from reasoner.builder import PatientBuilder
from reasoner.guideline import Guideline
from reasoner.namespaces import LBP
from reasoner.patient import Patient
from reasoner.validate import Vocabulary

__all__ = ["synthetic_patient", "synthetic_patients"]

_STATUSES = ("present", "present", "absent", "absent", "unknown")
_RESPONSES = ("benefit", "partial", "transient", "none", "not-documented", "adverse")
_ROUTES = ("oral", "oral", "intramuscular", "intravenous")


def synthetic_patients(
    guideline: Guideline, count: int, *, seed: int = 0, prefix: str = "synthetic"
) -> Iterator[Patient]:
    """`count` patients, the same ones for the same seed and guideline."""
    for index in range(count):
        yield synthetic_patient(
            guideline, random.Random(f"{seed}-{index}"), iri=f"https://example.org/{prefix}/{seed}/{index}"
        )


def synthetic_patient(guideline: Guideline, rng: random.Random, *, iri: str) -> Patient:
    vocab = Vocabulary.of(guideline)
    findings = sorted(str(f) for f in vocab.findings if isinstance(f, URIRef))
    assessed = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
    b = PatientBuilder(
        iri,
        birth_date=assessed - timedelta(days=rng.randrange(16 * 365, 95 * 365)),
        sex=rng.choice(("female", "male", "other")),
        assessed_on=assessed,
    )
    onset = assessed - timedelta(
        days=rng.choice((rng.randrange(0, 40), rng.randrange(20, 120), rng.randrange(80, 400)))
    )
    if rng.random() < 0.3:  # red flags asked about and documented absent, so reassurance advice can apply
        b.absent(*sorted(str(f) for f in vocab.red_flag_fields))
    if rng.random() < 0.85:  # most patients present with back or leg pain
        b.finding(
            str(rng.choice((LBP.LowBackPain, LBP.Sciatica, LBP.RadicularLegPain))),
            onset=onset,
            laterality=rng.choice((None, "left", "right", "bilateral")),
        )
    for concept in rng.sample(findings, k=rng.randrange(0, min(12, len(findings)))):
        status = rng.choice(_STATUSES)
        when = onset + timedelta(days=rng.randrange(0, max(1, (assessed - onset).days + 1)))
        grade = (
            rng.choice((None, None, 5.0, 4.0, 3.5, 3.0, 2.0)) if "Weakness" in concept or "Drop" in concept else None
        )
        b.finding(
            concept,
            status=status,
            onset=when if status == "present" else None,
            course=rng.choice((None, "new", "worsening", "stable", "improving")) if status == "present" else None,
            mrc_grade=grade,
        )
        if grade is not None and status == "present" and rng.random() < 0.5:  # a later, serial examination
            later = min(assessed, when + timedelta(days=rng.randrange(1, 10)))
            b.finding(concept, recorded_on=later, mrc_grade=max(0.0, grade - rng.choice((0.0, 0.5, 1.0))))
    for drug in rng.sample(sorted(str(d) for d in vocab.drugs), k=rng.randrange(0, 4)):
        start = onset + timedelta(days=rng.randrange(0, max(1, (assessed - onset).days + 1)))
        ending = rng.randrange(3)
        b.medication(
            drug,
            start=start,
            days=rng.randrange(1, 30) if ending == 0 else None,
            end=min(assessed, start + timedelta(days=rng.randrange(0, 20))) if ending == 1 else None,
            ongoing=ending == 2,
            route=rng.choice(_ROUTES),
            response=rng.choice(_RESPONSES),
        )
    for therapy in rng.sample(sorted(str(t) for t in vocab.therapies), k=rng.randrange(0, 2)):
        b.therapy(
            therapy, start=onset + timedelta(days=rng.randrange(0, 14)), ongoing=True, response=rng.choice(_RESPONSES)
        )
    for kind in sorted(str(m) for m in vocab.measurements):
        if rng.random() < 0.3:
            low, high = vocab.ranges[URIRef(kind)]
            value = round(rng.uniform(max(low, 0.0), min(high, 400.0)), 1)
            b.measurement(kind, value, recorded_on=assessed - timedelta(days=rng.randrange(0, 30)))
    return b.build()
