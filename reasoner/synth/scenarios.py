"""Clinical scenarios for synthetic patients: one encounter per patient, built from the guideline's own concepts.

Each scenario is a plausible presentation on one pathway of the low back pain module (no red flags, radiculopathy,
progressive motor deficit, cauda equina, cancer, infection, fracture risk, an NSAID contraindication, exposures past
their labelled limits, undocumented red flags). Concepts are looked up in the guideline graph: groups such as the
red-flag fields, the cauda equina features, the NSAID contraindications or the anticoagulants are read from it, so
they grow with the ontology; a concept a scenario names that the guideline does not define is a GuidelineError
naming the scenario. Everything random comes from the `random.Random` passed in, so a seed reproduces a patient.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from rdflib import URIRef
from rdflib.term import Node

from reasoner.errors import GuidelineError
from reasoner.input.builder import PatientBuilder
from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import RDF, RDFS

__all__ = ["SCENARIOS", "Concepts", "Encounter", "build"]

_YEAR = date(2026, 1, 1)


class Concepts:
    """The guideline's vocabulary, looked up on behalf of one scenario (so a missing concept names it)."""

    def __init__(self, guideline: Guideline, scenario: str) -> None:
        self.gl, self.scenario, self.vocab = guideline, scenario, Vocabulary.of(guideline)

    def _missing(self, kind: str, name: str) -> GuidelineError:
        return GuidelineError(
            f"synthetic scenario {self.scenario!r} needs the {kind} vocab:{name}, "
            f"which guideline version {self.gl.version} does not define"
        )

    def _named(self, terms: set[Node], kind: str, name: str) -> str:
        found = sorted(str(t) for t in terms if str(t).rsplit("#", 1)[-1] == name)
        if not found:
            raise self._missing(kind, name)
        return found[0]

    def finding(self, name: str) -> str:
        return self._named(self.vocab.findings, "finding class", name)

    def drug(self, name: str) -> str:
        return self._named(self.vocab.drugs, "drug", name)

    def therapy(self, name: str) -> str:
        return self._named(self.vocab.therapies, "therapy", name)

    def measurement(self, name: str) -> str:
        return self._named(self.vocab.measurements, "measurement class", name)

    def optional(self, name: str) -> str | None:
        """The finding class `name` when the guideline defines it: for details that enrich a scenario without
        defining it."""
        try:
            return self.finding(name)
        except GuidelineError:
            return None

    def group(self, name: str) -> list[str]:
        """The local names of the finding classes under the group `name`; none when the guideline lacks it."""
        return self.narrower(name) if self.optional(name) else []

    def narrower(self, name: str) -> list[str]:
        """The local names of the finding classes under `name` (not `name` itself), sorted."""
        root = URIRef(self.finding(name))
        under = set(self.gl.graph.transitive_subjects(RDFS.subClassOf, root)) - {root}
        return sorted(str(c).rsplit("#", 1)[-1] for c in under & self.vocab.findings)

    def members(self, name: str) -> list[str]:
        """The drugs that belong to the drug class `name` (directly or through a narrower class), sorted."""
        root = URIRef(
            self._named(
                {s for s in self.gl.graph.subjects(RDF.type, None) if isinstance(s, URIRef)}, "drug class", name
            )
        )
        if (root, RDF.type, None) not in self.gl.graph:
            raise self._missing("drug class", name)
        classes = set(self.gl.graph.transitive_subjects(RDFS.subClassOf, root))
        found = sorted(str(d) for d in self.vocab.drugs if any((d, RDF.type, c) in self.gl.graph for c in classes))
        if not found:
            raise self._missing("member of the drug class", name)
        return found

    def fields_of(self, concept: str) -> set[str]:
        """The red-flag fields that a present `concept` documents (itself or its broader red-flag classes)."""
        broader = set(self.gl.graph.transitive_objects(URIRef(concept), RDFS.subClassOf))
        return {str(f) for f in self.vocab.red_flag_fields & broader}

    def red_flags(self) -> list[str]:
        return sorted(str(f) for f in self.vocab.red_flag_fields)


class Encounter:
    """One patient's encounter under construction: demographics, the episode, and documentation helpers."""

    def __init__(
        self, guideline: Guideline, rng: random.Random, iri: str, scenario: str, ages: tuple[int, int]
    ) -> None:
        self.rng, self.c = rng, Concepts(guideline, scenario)
        self.assessed = _YEAR + timedelta(days=rng.randrange(365))
        age = rng.randint(*ages)
        self.sex = rng.choice(("female", "male"))
        born = self.assessed - timedelta(days=age * 365 + rng.randrange(365))
        self.b = PatientBuilder(iri, birth_date=born, sex=self.sex, assessed_on=self.assessed)
        self.age = age
        self.documented: set[str] = set()  # red-flag fields documented (present, absent or unknown) so far
        self.onset = self.assessed

    def days_ago(self, low: int, high: int) -> date:
        return self.assessed - timedelta(days=self.rng.randint(low, high))

    def episode(self, low: int, high: int, *, concept: str = "LowBackPain", laterality: str | None = None) -> None:
        """The presenting pain, begun `low` to `high` days ago."""
        self.onset = self.days_ago(low, high)
        self.b.finding(self.c.finding(concept), onset=self.onset, laterality=laterality)

    def since_onset(self, at_least: int = 0) -> date:
        """A date between the episode's onset (plus `at_least` days) and the assessment."""
        span = max(0, (self.assessed - self.onset).days - at_least)
        return self.onset + timedelta(days=at_least + self.rng.randint(0, span))

    def between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def present(
        self,
        name: str,
        *,
        when: date | None = None,
        recorded_on: date | None = None,
        laterality: str | None = None,
        course: str | None = None,
        mrc_grade: float | None = None,
        site: str | None = None,
    ) -> None:
        concept = self.c.finding(name)
        self.b.finding(
            concept,
            onset=when or self.since_onset(),
            recorded_on=recorded_on,
            laterality=laterality,
            course=course,
            mrc_grade=mrc_grade,
            site=site,
        )
        self.documented |= self.c.fields_of(concept)

    def screen(self, *, documented: float = 1.0, unknown: float = 0.0) -> None:
        """Ask about every red-flag field not yet documented: absent with probability `documented`, else recorded
        unknown with probability `unknown`, else left undocumented (the reasoner then treats it as unknown)."""
        for field in self.c.red_flags():
            if field in self.documented:
                continue
            roll = self.rng.random()
            if roll < documented:
                self.b.finding(field, status="absent")
            elif roll < documented + unknown:
                self.b.finding(field, status="unknown")
            else:
                continue
            self.documented.add(field)

    def course(self, drug: str, *, low: int, high: int, route: str = "oral", response: str | None = None) -> None:
        """A finished or ongoing course of `drug` (a name or an IRI) started since the onset, of `low` to `high`
        days."""
        start = self.since_onset()
        days = self.rng.randint(low, high)
        ongoing = start + timedelta(days=days - 1) >= self.assessed
        self.b.medication(
            drug if ":" in drug else self.c.drug(drug),
            start=start,
            days=None if ongoing else days,
            ongoing=ongoing,
            route=route,
            response=response or self.rng.choice(("benefit", "partial", "transient", "none", "not-documented")),
        )

    def usual_care(self) -> None:
        """What a patient has often tried before the visit: an NSAID, acetaminophen, heat, physical therapy."""
        rng = self.rng
        if rng.random() < 0.4:
            self.course(rng.choice(self.c.members("OralNSAID")), low=2, high=14, route="oral")
        if rng.random() < 0.2:
            self.course("acetaminophen", low=2, high=10, route="oral")
        if rng.random() < 0.15:
            self.course("cyclobenzaprine", low=2, high=10, route="oral")
        if rng.random() < 0.25:
            start = self.since_onset()
            self.b.therapy(self.c.therapy("NonDrugFirstLineCare"), start=start, ongoing=True, response="partial")
        if rng.random() < 0.15 and (self.assessed - self.onset).days > 10:
            self.b.therapy(
                self.c.therapy("PhysicalTherapy"), start=self.since_onset(), ongoing=True, response="partial"
            )

    def kidney_function(self, low: float = 60.0, high: float = 120.0) -> None:
        self.b.measurement(
            self.c.measurement("EGFR"), round(self.rng.uniform(low, high)), recorded_on=self.days_ago(0, 60)
        )


def _acute_or_subacute(e: Encounter) -> tuple[int, int]:
    return e.rng.choice(((1, 27), (1, 27), (28, 84)))


def _no_red_flags(e: Encounter) -> None:
    e.episode(*e.rng.choice(((1, 27), (1, 27), (28, 84), (90, 360))))
    if e.rng.random() < 0.3:
        e.present("SeverePain")
    if e.rng.random() < 0.5:
        e.usual_care()
    if e.age > 60 and e.rng.random() < 0.5:
        e.kidney_function(45, 90)
    e.screen()


def _radiculopathy(e: Encounter) -> None:
    side = e.rng.choice(("left", "right"))
    kind = e.rng.choice(("acute", "acute-severe", "persistent", "stenosis"))
    if kind in ("acute", "acute-severe"):
        e.episode(3, 27, concept="Sciatica", laterality=side)
    else:
        e.episode(45, 150, concept="Sciatica", laterality=side)
    e.present("PositiveStraightLegRaise", laterality=side)
    if kind == "acute-severe":
        e.present("SeverePain")
    candidate, claudication = e.c.optional("InterventionCandidate"), e.c.optional("NeurogenicClaudication")
    if kind == "persistent" and candidate:  # wants to consider surgery or an injection after 6 weeks
        e.b.finding(candidate, recorded_on=e.assessed)
    if kind == "stenosis" and claudication and e.age > 55:
        e.b.finding(claudication, onset=e.since_onset())
    if e.rng.random() < 0.4:  # a mild, stable deficit: weekly reassessment, no urgent imaging
        e.present("MotorWeakness", laterality=side, course=e.rng.choice(("stable", "improving")), mrc_grade=4.0)
    if e.rng.random() < 0.3:
        e.course(e.rng.choice(e.c.members("SystemicCorticosteroid")), low=5, high=6, route="oral")
    e.usual_care()
    e.screen(documented=e.rng.choice((1.0, 1.0, 0.7)))


def _progressive_deficit(e: Encounter) -> None:
    side = e.rng.choice(("left", "right"))
    e.episode(5, 60, concept="Sciatica", laterality=side)
    kind = e.rng.choice(("worsening", "serial", "severe", "foot-drop", "multi-root"))
    first = e.since_onset()
    if kind == "worsening":
        e.present("MotorWeakness", when=first, laterality=side, course="worsening", mrc_grade=4.0)
    elif kind == "serial":  # graded lower than at an earlier examination of the same muscle
        site = e.rng.choice(("ankle dorsiflexion (L5)", "great toe extension (L5)", "plantar flexion (S1)"))
        later = min(e.assessed, first + timedelta(days=e.rng.randint(2, 10)))
        e.present("MotorWeakness", when=first, recorded_on=first, laterality=side, mrc_grade=4.0, site=site)
        e.present("MotorWeakness", when=first, recorded_on=later, laterality=side, mrc_grade=3.7, site=site)
    elif kind == "severe":
        e.present("MotorWeakness", when=first, laterality=side, mrc_grade=float(e.rng.choice((1, 2, 3))))
    elif kind == "foot-drop":
        e.present("FootDrop", when=first, laterality=side, course="new", mrc_grade=float(e.rng.choice((0, 1, 2))))
    else:
        e.present("MultiRootWeakness", when=first, laterality=side, course="new", mrc_grade=4.0)
    if e.rng.random() < 0.5:
        e.b.therapy(e.c.therapy("PhysicalTherapy"), start=e.since_onset(), ongoing=True, response="none")
    if e.rng.random() < 0.3:
        e.b.medication(e.c.drug("ketorolac"), start=e.since_onset(), days=1, route="intramuscular", dose_mg=30)
    e.usual_care()
    e.screen(documented=e.rng.choice((1.0, 0.8, 0.5)))


def _cauda_equina(e: Encounter) -> None:
    bilateral = e.rng.random() < 0.4
    side = "bilateral" if bilateral else e.rng.choice(("left", "right"))
    e.episode(1, 40, concept="Sciatica", laterality=side)
    if bilateral:
        e.documented |= e.c.fields_of(e.c.finding("BilateralSciatica"))
    for name in e.rng.sample(e.c.narrower("CaudaEquinaFeature"), k=e.rng.randint(1, 2)):
        e.present(name, when=e.days_ago(0, 3), course="new")
    if e.rng.random() < 0.6:  # bladder scan
        volume = e.rng.choice((e.rng.randint(250, 900), e.rng.randint(20, 150)))
        e.b.measurement(e.c.measurement("PostVoidResidual"), volume, recorded_on=e.assessed)
    if e.rng.random() < 0.3:
        e.b.therapy(e.c.therapy("PhysicalTherapy"), start=e.since_onset(), ongoing=True, response="none")
    e.usual_care()
    e.screen(documented=0.9)


def _cancer(e: Encounter) -> None:
    e.episode(*e.rng.choice(((14, 84), (85, 240))))
    e.present("HistoryOfCancer", when=e.days_ago(400, 3000))
    others = [n for n in e.c.group("CancerRiskFactor") or ["UnexplainedWeightLoss"] if n != "HistoryOfCancer"]
    for name in e.rng.sample(others, k=e.rng.randint(0, min(2, len(others)))):
        e.present(name, when=e.since_onset())
    if e.rng.random() < 0.3:
        e.present("SeverePain")
    e.usual_care()
    e.screen()


def _infection(e: Encounter) -> None:
    e.episode(*_acute_or_subacute(e))
    e.present("Fever", when=e.days_ago(0, 7))
    if e.age < 50 and e.rng.random() < 0.6:
        e.present("IntravenousDrugUse", when=e.days_ago(200, 2000))
    else:
        e.present("Immunosuppression", when=e.days_ago(100, 2000))
    sources = [n for n in e.c.group("InfectionRedFlag") if n not in ("Fever", "IntravenousDrugUse")]
    if sources and e.rng.random() < 0.4:  # a recent infection or spinal procedure that could have seeded the spine
        e.present(e.rng.choice(sources), when=e.days_ago(7, 40))
    e.usual_care()
    e.screen()


def _fracture_risk(e: Encounter) -> None:
    e.episode(1, 30)
    trauma = e.rng.random() < 0.7
    if trauma:
        injuries = ["SignificantTrauma", *e.c.group("SignificantTrauma")]
        e.present(e.rng.choice(injuries), when=e.onset)
    if e.c.optional("Osteoporosis") and e.rng.random() < 0.4:
        e.present("Osteoporosis", when=e.days_ago(365, 3000))
    if e.rng.random() < 0.6 or not trauma:
        e.present("LongTermSteroidUse", when=e.days_ago(365, 3000))
        e.b.medication(e.c.drug("prednisone"), start=e.days_ago(365, 3000), ongoing=True, route="oral")
    e.usual_care()
    e.kidney_function(35, 90)
    e.screen()


def _nsaid_contraindication(e: Encounter) -> None:
    pregnancy = ["pregnancy"] * 3 if e.sex == "female" and e.age <= 44 else []
    kinds = ["kidney", "gi-bleed", "anticoagulant", "other", *pregnancy]
    kind = e.rng.choice(kinds)
    e.episode(*_acute_or_subacute(e))
    if kind == "kidney":
        e.kidney_function(8, 29)
        if e.rng.random() < 0.5:
            e.present("AdvancedKidneyDisease", when=e.days_ago(200, 2000))
    elif kind == "gi-bleed":
        e.present("GIBleedOrUlcerHistory", when=e.days_ago(100, 3000))
    elif kind == "anticoagulant":
        drug = e.rng.choice(e.c.members("Anticoagulant"))
        e.b.medication(drug, start=e.days_ago(60, 2000), ongoing=True, route="oral", response="benefit")
    elif kind == "pregnancy":  # weeks on the day of the scan; the feature rule advances them to the visit
        e.b.measurement(e.c.measurement("GestationalAge"), e.rng.randint(20, 36), recorded_on=e.days_ago(0, 10))
    else:
        names = e.c.narrower("NSAIDContraindication")
        others = [n for n in names if n not in ("GIBleedOrUlcerHistory", "AdvancedKidneyDisease")]
        e.present(e.rng.choice(others or names), when=e.days_ago(30, 2000))
    if e.rng.random() < 0.4:
        e.present("SeverePain")
    if e.rng.random() < 0.3:  # an NSAID started elsewhere despite the contraindication
        e.course(e.rng.choice(e.c.members("OralNSAID")), low=2, high=10, route="oral")
    if e.rng.random() < 0.3:
        e.course("acetaminophen", low=3, high=10, route="oral", response="none")
    e.screen()


def _exposure_limits(e: Encounter) -> None:
    e.episode(30, 70)
    kind = e.rng.choice(("ketorolac", "cyclobenzaprine", "both"))
    if kind in ("ketorolac", "both"):  # one injection, then tablets: more than 5 days in all by the visit
        start = e.between(e.onset, e.assessed - timedelta(days=12))
        e.b.medication(e.c.drug("ketorolac"), start=start, days=1, route="intramuscular", dose_mg=60)
        tablets = min(e.assessed, start + timedelta(days=1))
        e.b.medication(e.c.drug("ketorolac"), start=tablets, days=e.rng.randint(5, 9), route="oral", dose_mg=10)
    if kind in ("cyclobenzaprine", "both"):  # past 3 weeks, benefit not documented
        e.b.medication(
            e.c.drug("cyclobenzaprine"),
            start=e.days_ago(22, min(45, (e.assessed - e.onset).days)),
            ongoing=True,
            route="oral",
            response=e.rng.choice(("partial", "none", "not-documented", "transient")),
        )
    e.screen(documented=0.9)


def _unknown_findings(e: Encounter) -> None:
    concept = e.rng.choice(("LowBackPain", "Sciatica"))
    e.episode(*_acute_or_subacute(e), concept=concept, laterality="right" if concept == "Sciatica" else None)
    e.usual_care()
    e.screen(documented=e.rng.uniform(0.0, 0.4), unknown=0.3)


Scenario = Callable[[Encounter], None]

#: name -> (builder, age range, weight in a block of synthetic patients)
SCENARIOS: dict[str, tuple[Scenario, tuple[int, int], int]] = {
    "no-red-flags": (_no_red_flags, (18, 70), 2),
    "radiculopathy": (_radiculopathy, (20, 70), 2),
    "progressive-deficit": (_progressive_deficit, (25, 75), 2),
    "cauda-equina": (_cauda_equina, (25, 75), 2),
    "cancer": (_cancer, (50, 88), 1),
    "infection": (_infection, (20, 80), 1),
    "fracture-risk": (_fracture_risk, (60, 92), 1),
    "nsaid-contraindication": (_nsaid_contraindication, (20, 85), 2),
    "exposure-limits": (_exposure_limits, (20, 70), 1),
    "unknown-findings": (_unknown_findings, (18, 80), 1),
}


def build(guideline: Guideline, rng: random.Random, iri: str, scenario: str) -> PatientBuilder:
    """Draw one patient of `scenario` and return its builder."""
    try:
        make, ages, _ = SCENARIOS[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}") from None
    encounter = Encounter(guideline, rng, iri, scenario, ages)
    make(encounter)
    return encounter.b
