"""Synthetic cohorts drawn from the loaded modules' own test cases, reproducible from a seed.

Every case is a plausible presentation written by its module's authors, and together the cases cover every
recommendation and pathway; a synthetic patient is one case under fresh IRIs, with its dates moved together
(reasoner.synth.variant). Cases are dealt in decks holding each case once, shuffled by the seed, so any cohort of at
least as many patients as there are cases draws every case. The first deck keeps each presentation as written; in
later decks a patient may also lose one red-flag finding documented absent (`UNKNOWN_RATE`), which leaves it unknown.

Patient `index` of seed `seed` is `https://example.org/<prefix>/<seed>/<index>`, drawn from
`random.Random(f"{seed}-{index}")` alone: the same seed and guideline give the same patients, and a patient does
not change when the cohort grows.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from reasoner._files import write_atomically
from reasoner.authoring.cases import Case, load_cases
from reasoner.errors import GuidelineError
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import GR
from reasoner.rdf.rdfio import serialize
from reasoner.synth.variant import Synthetic, variant

__all__ = ["UNKNOWN_RATE", "cases_of", "synthesize", "synthetic_patient", "synthetic_patients", "write_cohort"]

#: The share of patients after the first deck that lose one red-flag finding documented absent.
UNKNOWN_RATE = 0.2


@cache
def cases_of(guideline: Guideline) -> tuple[Case, ...]:
    """The test cases of every loaded module, the patients synthetic cohorts are drawn from."""
    cases = tuple(load_cases(guideline=guideline))
    if not cases:
        modules = ", ".join(str(m.directory) for m in guideline.modules)
        raise GuidelineError(f"no test cases to draw synthetic patients from: no cases/*.yaml in {modules}")
    return cases


def synthesize(guideline: Guideline, count: int, *, seed: int = 0, prefix: str = "synth") -> Iterator[Synthetic]:
    """`count` synthetic patients with the cases they were drawn from, the same ones for the same seed and
    guideline."""
    cases = cases_of(guideline)
    red_flags = guideline.members(str(GR.RedFlag))
    for index in range(count):
        deck, position = divmod(index, len(cases))
        order = list(range(len(cases)))
        random.Random(f"{seed}-deck-{deck}").shuffle(order)
        rng = random.Random(f"{seed}-{index}")
        unknown = deck > 0 and rng.random() < UNKNOWN_RATE
        iri = f"https://example.org/{prefix}/{seed}/{index}"
        yield variant(cases[order[position]], rng, iri, red_flags=red_flags, unknown=unknown)


def synthetic_patients(guideline: Guideline, count: int, *, seed: int = 0, prefix: str = "synth") -> Iterator[Patient]:
    """The patients of `synthesize`."""
    return (s.patient for s in synthesize(guideline, count, seed=seed, prefix=prefix))


def synthetic_patient(guideline: Guideline, rng: random.Random, *, iri: str) -> Patient:
    """One patient from a case drawn by `rng`, which may lose a red-flag finding documented absent (for property
    tests that draw patients one at a time)."""
    case = rng.choice(cases_of(guideline))
    unknown = rng.random() < UNKNOWN_RATE
    return variant(case, rng, iri, red_flags=guideline.members(str(GR.RedFlag)), unknown=unknown).patient


def write_cohort(guideline: Guideline, count: int, out_dir: Path, *, seed: int, prefix: str = "synth") -> list[Path]:
    """Write `count` synthetic patients to `out_dir` as Turtle, one file each (`<prefix>-<seed>-<index>.ttl`),
    each written to a temporary name and renamed into place, so a reader never sees a partial file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, patient in enumerate(synthetic_patients(guideline, count, seed=seed, prefix=prefix)):
        path = out_dir / f"{prefix}-{seed}-{index:06d}.ttl"
        write_atomically(path, serialize(patient.graph, "turtle").encode("utf-8"))
        paths.append(path)
    return paths
