"""Cohort counts kept as the store is written, so that aggregate research queries read a few hundred rows instead
of joining every recommendation of every evaluation (docs/research.md, "Counts").

Each evaluation's run carries its summary (Recommendations._summary: gr:gaveAdvice, gr:withheldAdvice and its
reason kinds, gr:redFlagPresent/Unknown/Absent, gr:findingMissing; the missing findings' gr:neededFor; the advice
given's gr:factKind). What an evaluation adds to the counts is computed from that summary and the stored guideline
versions (`contribution`);
each write adds, in the same all-or-nothing step, count graphs holding what its evaluations add minus what the
evaluations they replace had added: one graph per version V, jurisdiction J and date D, which says so of itself, a
row a triple (a pair of items, a node of its own). Rows of one key in several count graphs add up; `fold` merges
each write's graphs into one per V, J and D (the batch does it at the end)::

    GRAPH <COUNTS?[write=W&]version=V&jurisdiction=J&asOf=D> {
        <COUNTS?...> st:version <V> ; st:jurisdiction "J" ; st:asOf "D"^^xsd:date .
        <item> st:KIND n .                                              # the simple kinds
        <COUNTS?...&row=H> st:KIND <item> ; st:detail <R> ; st:count n .  # neededFor and triggered
    }

KIND: given, withheld, excluded, superseded, yielded (item: a recommendation of version V); evaluated (item: V
itself); redFlagPresent, redFlagUnknown, redFlagAbsent, missing (item: a field, for every version the evaluation
used: a query keeps the fields that are red flags of V); neededFor (item: a missing field, detail: a recommendation
whose outcome depended on it); triggered (item: a recommendation given, detail: the kind of a fact it rested on,
gr:factKind); citing (a source), graded (the primary evidence's quality grade, st:noGrade when
it has none), imaged (an imaging modality of an order's target): one per evaluation in which some advice of V
given had it. A write's count graphs have a random part (two writes never share one, whatever they write); folded
ones are named by V, J and D alone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox

from reasoner.errors import StoreError
from reasoner.namespaces import GR
from reasoner.store.backends import CohortStore
from reasoner.store.summary import Key, Summary

__all__ = ["COUNTS", "Key", "Summary", "Table", "contribution", "count_graph", "fold", "read_summaries", "read_table"]

COUNTS = "https://w3id.org/guideline-reasoner/store/counts"
_ST = "https://w3id.org/guideline-reasoner/store#"
NO_GRADE = _ST + "noGrade"
_XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_TYPES = {"date": _XSD_DATE, "integer": _XSD_INTEGER}

_WITHHELD = {
    str(GR.withheldAdvice): "withheld",
    str(GR.withheldAsExcluded): "excluded",
    str(GR.withheldAsSuperseded): "superseded",
    str(GR.withheldAsYielded): "yielded",
}
_RED_FLAG = {str(GR.redFlagPresent): "present", str(GR.redFlagUnknown): "unknown", str(GR.redFlagAbsent): "absent"}
_RED_FLAG_KIND = {"present": "redFlagPresent", "unknown": "redFlagUnknown", "absent": "redFlagAbsent"}
_PAIRS = ("neededFor", "triggered")  # the kinds whose key has a detail
_KINDS = [
    "given",
    "withheld",
    "excluded",
    "superseded",
    "yielded",
    "evaluated",
    "redFlagPresent",
    "redFlagUnknown",
    "redFlagAbsent",
    "missing",
    "neededFor",
    "triggered",
    "citing",
    "graded",
    "imaged",
]


@dataclass(frozen=True)
class Table:
    """What the counts need of the stored guideline versions: which recommendations each defines, and the sources,
    primary quality grades and imaging modalities of each (version, recommendation)."""

    defines: Mapping[str, frozenset[str]]
    facets: Mapping[tuple[str, str], frozenset[tuple[str, str]]]  # (version, rec) -> {(kind, value)}


def read_table(store: CohortStore) -> Table:
    """The Table of every guideline version stored (reasoner.store.cohort.write_guideline writes them)."""
    defines: dict[str, set[str]] = {}
    facets: dict[tuple[str, str], set[tuple[str, str]]] = {}
    head = "SELECT ?version ?rec ?value WHERE { GRAPH ?version { ?module owl:versionIRI ?version . "
    for row in _rows(store, head + "?rec a gr:Recommendation } }"):
        defines.setdefault(row[0], set()).add(row[1])
    queries = {
        "citing": head + "?rec gr:evidence ?statement . ?statement gr:source ?value } }",
        "graded": head
        + "?rec gr:evidence ?primary . ?primary gr:order 1 . OPTIONAL { ?primary gr:quality ?value } } }",
        "imaged": head + "?rec gr:action gr:Order ; gr:target ?target . ?target gr:modality ?value } }",
    }
    for kind, text in queries.items():
        for version, rec, value in _rows(store, text):
            facets.setdefault((version, rec), set()).add((kind, value or NO_GRADE))
    return Table({v: frozenset(r) for v, r in defines.items()}, {k: frozenset(f) for k, f in facets.items()})


def contribution(summary: Summary, table: Table) -> Counter[Key]:
    """What one evaluation adds to the counts."""
    versions = sorted(v for v in summary.used if v in table.defines)
    j, d = summary.jurisdiction, summary.as_of
    out: Counter[Key] = Counter()

    def version_of(rec: str) -> list[str]:
        return [v for v in versions if rec in table.defines[v]]

    facets: set[tuple[str, str, str]] = set()
    for rec in summary.given:
        for v in version_of(rec):
            out["given", v, j, d, rec, ""] += 1
            facets |= {(kind, v, value) for kind, value in table.facets.get((v, rec), ())}
    for kind, v, value in facets:  # once per evaluation, however many of its advice share it
        out[kind, v, j, d, value, ""] += 1
    for rec, kind in summary.triggered:
        for v in version_of(rec):
            out["triggered", v, j, d, rec, kind] += 1
    for kind, rec in summary.withheld:
        for v in version_of(rec):
            out[kind, v, j, d, rec, ""] += 1
    for v in versions:
        out["evaluated", v, j, d, v, ""] += 1
        for field, status in summary.red_flags:
            out[_RED_FLAG_KIND[status], v, j, d, field, ""] += 1
        for field in summary.missing:
            out["missing", v, j, d, field, ""] += 1
        for field, rec in summary.needed:
            out["neededFor", v, j, d, field, rec] += 1
    return out


def read_summaries(store: CohortStore, graphs: Sequence[str]) -> dict[str, Summary]:
    """The stored summary of each evaluation graph of `graphs` that exists, by graph name. Each graph is read by
    name (a union of one branch per graph): a join from a VALUES block would scan every evaluation in the store."""
    held = sorted(store.existing(graphs))
    if not held:
        return {}

    def each(pattern: str, width: int) -> list[tuple[str, ...]]:
        branches = " UNION ".join(
            f"{{ GRAPH {ox.NamedNode(g)} {{ {pattern} }} BIND({ox.NamedNode(g)} AS ?g) }}" for g in held
        )
        return _rows(store, f"SELECT ?g ?a ?b WHERE {{ {branches} }}", width=width)

    found: dict[str, dict[str, set[str]]] = {}
    for g, p, o in each("?run a gr:ReasoningRun ; ?a ?b", 3):
        found.setdefault(g, {}).setdefault(p, set()).add(o)
    needed: dict[str, set[tuple[str, str]]] = {}
    for g, field, rec in each("?missing a gr:MissingFinding ; gr:finding ?a ; gr:neededFor ?b", 3):
        needed.setdefault(g, set()).add((field, rec))
    triggered: dict[str, set[tuple[str, str]]] = {}
    for g, rec, kind in each("?given a gr:PatientRecommendation ; gr:recommendation ?a ; gr:factKind ?b", 3):
        triggered.setdefault(g, set()).add((rec, kind))
    out = {}
    for g, run in found.items():

        def objects(predicate: str, run: dict[str, set[str]] = run) -> set[str]:
            return run.get(predicate, set())

        out[g] = Summary(
            jurisdiction=min(objects(str(GR.jurisdictionApplied)), default=""),
            as_of=min(objects(str(GR.asOf)), default=""),
            used=frozenset(objects("http://www.w3.org/ns/prov#used")),
            given=frozenset(objects(str(GR.gaveAdvice))),
            withheld=frozenset((kind, rec) for p, kind in _WITHHELD.items() for rec in objects(p)),
            red_flags=frozenset((field, status) for p, status in _RED_FLAG.items() for field in objects(p)),
            missing=frozenset(objects(str(GR.findingMissing))),
            needed=frozenset(needed.get(g, ())),
            triggered=frozenset(triggered.get(g, ())),
        )
    return out


def count_graph(counts: Iterable[tuple[Key, int]], *, folded: bool = False) -> str:
    """The count graphs of these rows (those that are not zero): one per version, jurisdiction and date, as TriG
    `GRAPH <g> { ... }` blocks, valid too in an INSERT DATA; empty when there is nothing to count. A write's graphs
    have a random part, so that no two writes share one whatever they write; folded ones are named by version,
    jurisdiction and date alone, so that the same counts always give the same quads."""
    total: Counter[Key] = Counter()
    for key, n in counts:
        total[key] += n
    groups: dict[tuple[str, str, str], list[tuple[str, str, str, int]]] = {}
    for (kind, version, jurisdiction, as_of, item, detail), n in sorted(total.items()):
        if n:
            groups.setdefault((version, jurisdiction, as_of), []).append((kind, item, detail, n))
    write = "" if folded else f"write={uuid.uuid4().hex}&"
    # N-Triples written directly, each distinct term serialised once by Oxigraph (a write's rows number thousands)
    terms: dict[tuple[str, str], str] = {}

    def term(kind: str, value: str) -> str:
        found = terms.get((kind, value))
        if found is None:
            made = ox.NamedNode(value) if kind == "iri" else ox.Literal(value, datatype=_TYPES.get(kind))
            found = terms[kind, value] = str(made)
        return found

    blocks = []
    for (version, jurisdiction, as_of), rows in groups.items():
        named = "&".join(f"{k}={quote(v, safe='')}" for k, v in (("version", version), ("jurisdiction", jurisdiction)))
        name = f"{COUNTS}?{write}{named}&asOf={quote(as_of, safe='')}"
        graph = term("iri", name)
        lines = [
            f"{graph} <{_ST}version> {term('iri', version)} .\n"
            f"{graph} <{_ST}jurisdiction> {term('plain', jurisdiction)} .\n"
            f"{graph} <{_ST}asOf> {term('date', as_of)} .\n"
        ]
        for kind, item, detail, n in rows:
            if detail:  # a pair: a node of its own, named by the pair
                digest = hashlib.sha256(f"{kind}|{item}|{detail}".encode()).hexdigest()[:32]
                row = f"<{name}&row={digest}>"
                lines.append(
                    f"{row} <{_ST}{kind}> {term('iri', item)} .\n{row} <{_ST}detail> {term('iri', detail)} .\n"
                    f"{row} <{_ST}count> {term('integer', str(n))} .\n"
                )
            else:
                lines.append(f"{term('iri', item)} <{_ST}{kind}> {term('integer', str(n))} .\n")
        blocks.append(f"GRAPH {graph} {{\n{''.join(lines)}}}\n")
    return "".join(blocks)


def fold(store: CohortStore) -> None:
    """Merge the count graphs of every write into one graph per version, jurisdiction and date (rows of one key
    summed, zero rows dropped), in one update. Reads are correct either way; fewer rows make them faster, and the
    folded store is the same whatever chunks wrote it."""
    found = _rows(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?g st:version ?v } }", width=1)
    graphs = [g for (g,) in found if g.startswith(COUNTS + "?")]
    if not any(g.startswith(COUNTS + "?write=") for g in graphs):
        return
    head = "GRAPH ?g { ?g st:version ?version ; st:jurisdiction ?jurisdiction ; st:asOf ?asOf . "
    simple = " ".join(f"st:{k}" for k in _KINDS if k not in _PAIRS)
    pairs = " ".join(f"st:{k}" for k in _PAIRS)
    rows = [
        ((kind.removeprefix(_ST), version, jurisdiction, as_of, item, ""), int(n))
        for kind, version, jurisdiction, as_of, item, n in _rows(
            store,
            f"SELECT ?kind ?version ?jurisdiction ?asOf ?item ?n WHERE {{ VALUES ?kind {{ {simple} }} {head} "
            "?item ?kind ?n } }",
            width=6,
        )
    ]
    rows += [
        ((kind.removeprefix(_ST), version, jurisdiction, as_of, item, detail), int(n))
        for kind, version, jurisdiction, as_of, item, detail, n in _rows(
            store,
            f"SELECT ?kind ?version ?jurisdiction ?asOf ?item ?detail ?n WHERE {{ VALUES ?kind {{ {pairs} }} {head} "
            "?row ?kind ?item ; st:detail ?detail ; st:count ?n } }",
            width=7,
        )
    ]
    drops = "".join(f"DROP SILENT GRAPH {ox.NamedNode(g)} ;\n" for g in graphs)
    store.update(drops + "INSERT DATA {\n" + count_graph(rows, folded=True) + "}")


def _rows(store: CohortStore, text: str, *, width: int = 3) -> list[tuple[str, ...]]:
    """Each solution's values as strings (an unbound one as ""), in variable order."""
    answer = store.execute(text, {})
    if not isinstance(answer, ox.QuerySolutions):
        raise StoreError(f"a count query gave no solutions: {text[:80]}")
    out = []
    for solution in answer:
        values = tuple(solution[i] for i in range(width))
        out.append(tuple("" if v is None else v.value for v in values))
    return out
