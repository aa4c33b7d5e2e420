"""Numbers compare by value, in both engines alike (reasoner/rdf/numbers.py; docs/design.md, "Numbers").

Oxigraph holds 18 fractional digits of an xsd:decimal and treats a longer one as invalid, so every threshold on it
was silently false in the compiled engine. Every numeric threshold of queries/features/*.rq is tried here just
below, at and just above, in several lexical forms (long decimals, leading zeros, signs, xsd:integer, xsd:double
and xsd:float exponents), and both engines must derive the same features; the slow tests compare whole results of
reasoner.recommend(engine="compiled") and engine="owlrl".

The thresholds, by rule:
    20-exposure-timing   current while the last day is before ?asOf; recent while ?asOf - last day <= 30
    30-episode-duration  acute 0-27, subacute 28-84, chronic >= 85, persistent >= 42 days since onset
    40-ketorolac-limit   limit reached at >= 5 days in total, exceeded at >= 6
    41-cyclobenzaprine   a current course of >= 14 days
    42-maoi-window       an MAOI taken within the last 14 days
    50-motor-deficit     MRC grade <= 3; a grade lower than an earlier one of the same site
    60-measurements      eGFR < 30; post-void residual > 200; gestational weeks at ?asOf from 20 to 42
    61-age               bands at 50/51, 65/66, 70/71, 75/76 whole years
(10-age, 43, 51 and 90 compare no number.)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

import reasoner
from reasoner import namespaces as ns
from reasoner.engine.engines import CompiledEngine, OwlrlEngine
from reasoner.input.patient import Patient
from reasoner.rdf.numbers import DECIMAL_PLACES, canonical

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed-case.ttl").read_text()
AS_OF = date(2026, 3, 22)
LBP = "https://w3id.org/guideline-reasoner/lbp#"
HEAD = """@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix lbp: <https://w3id.org/guideline-reasoner/lbp#> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
RDFLIB_DECIMAL_2_9 = "2.899999999999999911182158029987476766109466552734375"  # what rdflib writes for Decimal(2.9)


def _ids(result: reasoner.Recommendations) -> set[str]:
    return {r.identifier for r in result.recommendations}


# -- the reported cases ------------------------------------------------------------------------------------------


def test_a_long_decimal_mrc_grade_keeps_the_urgent_mri_and_referral() -> None:
    long = reasoner.recommend(SEED.replace("gr:mrcGrade 3.7", f"gr:mrcGrade {RDFLIB_DECIMAL_2_9}"))
    short = reasoner.recommend(SEED.replace("gr:mrcGrade 3.7", "gr:mrcGrade 2.9"))
    assert {"LBP-IMG-04", "LBP-REF-01"} <= _ids(long)
    assert _ids(long) == _ids(short)


def test_an_egfr_a_hair_above_20_still_avoids_nsaids() -> None:
    long = reasoner.recommend(SEED.replace("gr:value 95.0", "gr:value 20.0000000000000000001"))
    short = reasoner.recommend(SEED.replace("gr:value 95.0", "gr:value 20.0"))
    assert "LBP-MED-01" not in _ids(long)  # the oral NSAID
    assert _ids(long) == _ids(short)
    assert any(o == URIRef(LBP + "LowEGFR") for _, p, o in long.derived if p == ns.RDF.type)


# -- the normalisation rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lexical", "datatype", "expected"),
    [
        (RDFLIB_DECIMAL_2_9, "decimal", ("2.9", "decimal")),
        ("20.0000000000000000001", "decimal", ("20.0", "decimal")),
        ("29.9999999999999999999", "decimal", ("30.0", "decimal")),
        ("3.0000000000005", "decimal", ("3.0", "decimal")),  # half to even at the 12th digit
        ("3.0000000000015", "decimal", ("3.000000000002", "decimal")),
        ("-0.0000000000001", "decimal", ("0.0", "decimal")),
        ("99999999999999999999", "integer", ("1e+20", "double")),
        ("1000000000000000000.5", "decimal", ("1e+18", "double")),
        ("29.9999999", "float", ("30.0", "float")),
    ],
)
def test_numbers_the_engines_would_read_differently_are_rewritten(
    lexical: str, datatype: str, expected: tuple[str, str]
) -> None:
    term = canonical(Literal(lexical, datatype=ns.XSD[datatype]))
    assert isinstance(term, Literal)
    assert (str(term), str(term.datatype)) == (expected[0], str(ns.XSD[expected[1]]))


@pytest.mark.parametrize(
    ("lexical", "datatype"),
    [("003.50", "decimal"), ("+3.", "decimal"), ("3.000000000001", "decimal"), ("+007", "integer"),
     ("2.9E0", "double"), ("1e300", "double"), ("2.5", "float"), ("-0.000", "decimal")],
)  # fmt: skip
def test_numbers_both_engines_read_alike_are_left_as_written(lexical: str, datatype: str) -> None:
    term = Literal(lexical, datatype=ns.XSD[datatype])
    assert canonical(term) is term


# -- every threshold, below / at / above, in several lexical forms ---------------------------------------------


@dataclass(frozen=True)
class Variant:
    rule: str
    body: str  # Turtle about <P> and its records <P/x>, `P` standing for the patient IRI
    feature: str  # the lbp: or gr: class expected on a record when `holds`
    holds: bool


def _days_before(days: int) -> str:
    return f'"{(AS_OF - timedelta(days=days)).isoformat()}"^^xsd:date'


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-DECIMAL_PLACES))


def _mrc(lexical: str, datatype: str = "decimal") -> Variant:
    values = {
        "float": lambda: struct.unpack("f", struct.pack("f", float(lexical)))[0],  # what an xsd:float holds
        "double": lambda: float(lexical),
    }
    holds = (values[datatype]() if datatype in values else _q(Decimal(lexical))) <= 3
    body = (
        f"<P> gr:hasFinding <P/w> . <P/w> a gr:FindingRecord, vocab:MotorWeakness ; gr:status gr:Present ; "
        f'gr:recordedOn {_days_before(0)} ; gr:mrcGrade "{lexical}"^^xsd:{datatype} .'
    )
    return Variant("50 MRC <= 3", body, "lbp:SevereMotorWeakness", holds)


def _serial(lexical: str) -> Variant:
    body = (
        "<P> gr:hasFinding <P/a>, <P/b> . "
        f"<P/a> a gr:FindingRecord, vocab:MotorWeakness ; gr:status gr:Present ; gr:recordedOn {_days_before(5)} ; "
        'gr:mrcGrade "4.0"^^xsd:decimal . '
        f"<P/b> a gr:FindingRecord, vocab:MotorWeakness ; gr:status gr:Present ; gr:recordedOn {_days_before(0)} ; "
        f'gr:mrcGrade "{lexical}"^^xsd:decimal .'
    )
    return Variant("50 grade below an earlier 4", body, "lbp:WorseningOnSerialExam", _q(Decimal(lexical)) < 4)


def _measure(kind: str, lexical: str, datatype: str, feature: str, holds: bool, ago: int = 0) -> Variant:
    body = (
        f"<P> gr:hasMeasurement <P/m> . <P/m> a gr:Measurement, vocab:{kind} ; gr:recordedOn {_days_before(ago)} ; "
        f'gr:value "{lexical}"^^xsd:{datatype} .'
    )
    return Variant(f"60 {kind}", body, feature, holds)


def _egfr(lexical: str, datatype: str = "decimal") -> Variant:
    value = Decimal(str(float(lexical))) if datatype == "double" else _q(Decimal(lexical))
    return _measure("EGFR", lexical, datatype, "lbp:LowEGFR", value < 30)


def _pvr(lexical: str, datatype: str = "decimal") -> Variant:
    value = Decimal(str(float(lexical))) if datatype == "double" else _q(Decimal(lexical))
    return _measure("PostVoidResidual", lexical, datatype, "lbp:HighPostVoidResidual", value > 200)


def _gestation(lexical: str, ago: int) -> Variant:
    weeks = _q(Decimal(lexical)) + Decimal(ago) / 7
    holds = 20 <= weeks <= 42
    return _measure("GestationalAge", lexical, "decimal", "lbp:GestationAtLeast20Weeks", holds, ago)


def _exposure(drug: str, start_ago: int, days: str, feature: str, holds: bool, rule: str) -> Variant:
    body = (
        f"<P> gr:hasExposure <P/e> . <P/e> a gr:MedicationExposure ; gr:drug vocab:{drug} ; gr:route gr:Oral ; "
        f'gr:start {_days_before(start_ago)} ; gr:days "{days}"^^xsd:integer ; gr:response gr:ResponseNotDocumented .'
    )
    return Variant(rule, body, feature, holds)


def _onset(days_ago: int, feature: str, holds: bool) -> Variant:
    body = (
        "<P> gr:hasFinding <P/p> . <P/p> a gr:FindingRecord, vocab:LowBackPain ; gr:status gr:Present ; "
        f"gr:onset {_days_before(days_ago)} ."
    )
    return Variant("30 episode duration", body, feature, holds)


def _age(cut: int, years: int, days: int) -> Variant:
    """Born `years` years before ?asOf, moved `days` later: whole years at ?asOf are `years`, one fewer if days > 0."""
    born = AS_OF.replace(year=AS_OF.year - years) + timedelta(days=days)
    age = years - (days > 0)
    feature, holds = (f"lbp:AgeOver{cut}Patient", age > cut) if cut != 0 else ("lbp:AgeAtMost50Patient", age <= 50)
    return Variant("61 age bands", f'<P> gr:birthDate "{born.isoformat()}"^^xsd:date .', feature, holds)


# Grades and values are xsd:decimal (their rdfs:range): a double or float there is refused as inconsistent by both
# engines (OWL 2 RL dt-not-type, reasoner/engine/consistency.py) and by the patient shapes, so none is compared here.
VARIANTS: list[Variant] = [
    *(_mrc(v) for v in ("2.999999", "3", "3.0", "03.000", "+3.0", "3.000001", "2.9999999999999999999")),
    *(_mrc(v) for v in ("3.0000000000000000001", "3.0000000000005", "3.0000000000015", RDFLIB_DECIMAL_2_9)),
    *(_mrc(v, "integer") for v in ("3", "003", "+4")),
    *(_serial(v) for v in ("3.999999", "4", "4.0", "3.9999999999999999999", "4.0000000000001", "039.9E-1")),
    *(_egfr(v) for v in ("29.999999", "30", "30.0", "030.00", "29.9999999999999999999", "30.000000000000000001")),
    *(_egfr(v) for v in ("20.0000000000000000001", "29.9999999999994", "29.9999999999996")),
    *(_pvr(v) for v in ("199.9999", "200", "200.0", "0200.000000000000000001", "200.000001", "+200.0000000000006")),
    *(_gestation(v, 0) for v in ("19.999999999999", "20", "20.000", "42", "42.000000000001", "41.9999999999999999")),
    *(_gestation(v, 4) for v in ("19.428571428571", "19.428571428572", "19.42857142857142857143")),
    *(_gestation(v, 4) for v in ("41.428571428571", "41.428571428572")),
    *(_gestation(v, 7) for v in ("19", "18.999999999999", "41", "41.000000000001")),
    *(_exposure("ketorolac", 20, d, "lbp:KetorolacLimitReached", int(d) >= 5, "40 ketorolac >= 5 days") for d in
      ("4", "5", "05", "+5", "6")),
    *(_exposure("ketorolac", 20, d, "lbp:KetorolacLimitExceeded", int(d) >= 6, "40 ketorolac >= 6 days") for d in
      ("5", "6", "006")),
    *(_exposure("cyclobenzaprine", int(d) - 1, d, "lbp:CyclobenzaprineBeyondTwoWeeks", int(d) >= 14,
                "41 cyclobenzaprine >= 14 days") for d in ("13", "14", "014", "15")),
    *(_exposure("phenelzine", 30, d, "lbp:RecentMAOIExposure", int(d) >= 17, "42 MAOI within 14 days") for d in
      ("16", "17", "0017", "18")),
    *(_exposure("acetaminophen", 40, d, "gr:RecentExposure", int(d) >= 11, "20 ended within 30 days") for d in
      ("10", "11", "+11", "12")),
    *(_exposure("acetaminophen", 40, d, "gr:CurrentExposure", int(d) >= 41, "20 current") for d in
      ("40", "41", "042")),
    *(_onset(d, "lbp:AcuteEpisode", d <= 27) for d in (26, 27, 28)),
    *(_onset(d, "lbp:SubacuteEpisode", 28 <= d <= 84) for d in (27, 28, 84, 85)),
    *(_onset(d, "lbp:ChronicEpisode", d >= 85) for d in (84, 85, 86)),
    *(_onset(d, "lbp:SixWeeksOrLongerEpisode", d >= 42) for d in (41, 42, 43)),
    *(_age(cut, y, d) for cut in (50, 65, 70, 75) for y, d in ((cut, 0), (cut + 1, 1), (cut + 1, 0))),
    *(_age(0, y, d) for y, d in ((50, 0), (51, 1), (51, 0))),  # 0: the "50 or under" band
]  # fmt: skip


def _iri(i: int) -> str:
    return f"https://example.org/patient/numbers/{i}"


def _patients() -> list[Patient]:
    patients = []
    for i, variant in enumerate(VARIANTS):
        text = f"<P> a gr:Patient ; gr:assessedOn {_days_before(0)} .\n{variant.body}"
        graph = Graph().parse(data=HEAD + text.replace("<P", "<" + _iri(i)), format="turtle")
        patients.append(Patient(graph, URIRef(_iri(i)), f"variant {i}"))
    return patients


@pytest.fixture(scope="module")
def features() -> tuple[Graph, Graph]:
    """The feature triples of every variant by both engines. The variants share no node and every rule is written per
    patient, so owlrl's rules run once over all of them together (as tests/test_engine_differential.py does)."""
    patients = _patients()
    gl = reasoner.load_guideline()
    together = Graph()
    for patient in patients:
        together += patient.graph
    _, owlrl = OwlrlEngine.features(gl, Patient(together, patients[0].iri, "variants"), as_of=AS_OF)
    compiled = Graph()
    for found in CompiledEngine().evaluate_many(gl, patients, as_of=AS_OF, min_rank=3, jurisdiction=ns.GR.US):
        compiled += found.derived
    return owlrl, compiled


def _has(derived: Graph, i: int, feature: str) -> bool:
    prefix, name = feature.split(":")
    cls = URIRef((LBP if prefix == "lbp" else str(ns.GR)) + name)
    return any(_owned(s, i) for s in derived.subjects(ns.RDF.type, cls))


def _owned(node: object, i: int) -> bool:
    return str(node) == _iri(i) or str(node).startswith(_iri(i) + "/")


@pytest.mark.parametrize("index", range(len(VARIANTS)), ids=[f"{v.rule}: {v.body[-60:]}" for v in VARIANTS])
def test_both_engines_derive_the_same_feature_at_every_threshold(features: tuple[Graph, Graph], index: int) -> None:
    owlrl, compiled = features
    variant = VARIANTS[index]

    def own(g: Graph) -> set[tuple[str, str, str]]:
        return {(str(s), str(p), o.n3()) for s, p, o in g if _owned(s, index)}

    assert own(compiled) == own(owlrl)
    assert _has(compiled, index, variant.feature) is variant.holds, variant.body


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        SEED.replace("gr:mrcGrade 3.7", f"gr:mrcGrade {RDFLIB_DECIMAL_2_9}"),
        SEED.replace("gr:value 95.0", "gr:value 20.0000000000000000001"),
        SEED.replace("gr:value 95.0", "gr:value 29.9999999999999999999"),
        SEED.replace("gr:mrcGrade 3.7", "gr:mrcGrade 3.0000000000000000001"),
    ],
    ids=["mrc-rdflib-2.9", "egfr-20+1e-19", "egfr-30-1e-19", "mrc-3+1e-19"],
)
def test_recommend_gives_the_same_result_with_either_engine(text: str) -> None:
    fast = reasoner.recommend(text).to_json()
    slow = reasoner.recommend(text, engine="owlrl").to_json()
    assert fast.pop("engine") == "compiled" and slow.pop("engine") == "owlrl"
    assert fast == slow


@pytest.mark.parametrize("value", ['"3E0"^^xsd:double', '"3"^^xsd:integer', '"2.9"^^xsd:float'])
def test_a_grade_that_is_not_an_xsd_decimal_is_refused_by_both_engines(value: str) -> None:
    text = SEED.replace("gr:mrcGrade 3.7", f"gr:mrcGrade {value}")
    errors = []
    for engine in ("compiled", "owlrl"):
        with pytest.raises(reasoner.InvalidPatientError) as caught:
            reasoner.recommend(text, engine=engine)
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "xsd:decimal" in errors[0]
