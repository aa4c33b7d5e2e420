"""Synthetic patients: valid patient graphs drawn from a guideline's own vocabulary, reproducible from a seed.

Most patients are clinically plausible encounters on one pathway of the guideline (reasoner.synth.scenarios: no red
flags, radiculopathy, progressive deficit, cauda equina, cancer, infection, fracture risk, NSAID contraindications,
exposures past their limits, undocumented red flags). A quarter are fully random, drawn from every finding class,
status, drug, therapy and measurement with dates and grades spread across the guideline's thresholds: the engine
differential test and the property tests rely on that variety.

Scenarios are dealt in blocks of `BLOCK` patients holding each scenario exactly as often as its weight (`WEIGHTS`),
shuffled by the seed, so any cohort of at least `BLOCK` patients spans every pathway. Patient `index` of seed `seed`
is drawn from `random.Random(f"{seed}-{index}")` alone: the same seed and guideline give the same patients, and a
patient does not change when the cohort grows. They feed the tests, the benchmarks and `write_cohort`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from rdflib import URIRef

from reasoner._files import write_atomically
from reasoner.input.builder import PatientBuilder
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import LBP
from reasoner.rdf.rdfio import serialize
from reasoner.synth.scenarios import SCENARIOS, build

__all__ = ["BLOCK", "WEIGHTS", "scenario_of", "synthetic_patient", "synthetic_patients", "write_cohort"]

_STATUSES = ("present", "present", "absent", "absent", "unknown")
_RESPONSES = ("benefit", "partial", "transient", "none", "not-documented", "adverse")
_ROUTES = ("oral", "oral", "intramuscular", "intravenous")

#: How often each scenario is dealt, per block; "random" is the fully random generator.
WEIGHTS: dict[str, int] = {"random": 5, **{name: weight for name, (_, _, weight) in SCENARIOS.items()}}
BLOCK = sum(WEIGHTS.values())


def scenario_of(seed: int, index: int) -> str:
    """The scenario of patient `index` in the cohort of `seed`."""
    block, offset = divmod(index, BLOCK)
    deck = [name for name, weight in WEIGHTS.items() for _ in range(weight)]
    random.Random(f"{seed}-block-{block}").shuffle(deck)
    return deck[offset]


def synthetic_patients(
    guideline: Guideline, count: int, *, seed: int = 0, prefix: str = "synthetic"
) -> Iterator[Patient]:
    """`count` patients, the same ones for the same seed and guideline."""
    for index in range(count):
        yield synthetic_patient(
            guideline,
            random.Random(f"{seed}-{index}"),
            iri=f"https://example.org/{prefix}/{seed}/{index}",
            scenario=scenario_of(seed, index),
        )


def synthetic_patient(guideline: Guideline, rng: random.Random, *, iri: str, scenario: str | None = None) -> Patient:
    """One patient of `scenario` (a key of WEIGHTS), or of a scenario drawn from `rng` with the WEIGHTS."""
    name = scenario or rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if name == "random":
        return _random_patient(guideline, rng, iri)
    return build(guideline, rng, iri, name).build()


def write_cohort(
    guideline: Guideline, count: int, out_dir: Path, *, seed: int, prefix: str = "synthetic"
) -> list[Path]:
    """Write `count` synthetic patients to `out_dir` as Turtle, one file each (`<prefix>-<seed>-<index>.ttl`),
    each written to a temporary name and renamed into place, so a reader never sees a partial file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, patient in enumerate(synthetic_patients(guideline, count, seed=seed, prefix=prefix)):
        path = out_dir / f"{prefix}-{seed}-{index:06d}.ttl"
        write_atomically(path, serialize(patient.graph, "turtle").encode("utf-8"))  # literals exactly as built
        paths.append(path)
    return paths


def _random_patient(guideline: Guideline, rng: random.Random, iri: str) -> Patient:
    """Fully random, but valid: any finding, status, drug, therapy and measurement the guideline knows."""
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
    documented: dict[str, str] = {}  # a finding documented once keeps its status: never present and absent at once
    if rng.random() < 0.3:  # red flags asked about and documented absent, so reassurance advice can apply
        documented |= dict.fromkeys(sorted(str(f) for f in vocab.red_flag_fields), "absent")
        b.absent(*documented)
    if rng.random() < 0.85:  # most patients present with back or leg pain
        pain = str(rng.choice((LBP.LowBackPain, LBP.Sciatica, LBP.RadicularLegPain)))
        documented[pain] = "present"
        b.finding(pain, onset=onset, laterality=rng.choice((None, "left", "right", "bilateral")))
    for concept in rng.sample(findings, k=rng.randrange(0, min(12, len(findings)))):
        status = documented.get(concept, rng.choice(_STATUSES))  # drawn either way: the rest stays as it was
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
            therapy,
            start=min(assessed, onset + timedelta(days=rng.randrange(0, 14))),  # never after the assessment
            ongoing=True,
            response=rng.choice(_RESPONSES),
        )
    for kind in sorted(str(m) for m in vocab.measurements):
        if rng.random() < 0.3:
            low, high = vocab.ranges[URIRef(kind)]
            value = round(rng.uniform(max(low, 0.0), min(high, 400.0)), 1)
            b.measurement(kind, value, recorded_on=assessed - timedelta(days=rng.randrange(0, 30)))
    return b.build()
