"""The cohort store: each patient's facts and derived recommendations (with provenance) in named graphs of an
Oxigraph store on disk or of a SPARQL 1.1 server, beside the guideline versions they were evaluated against.

Layout. Every graph name is computed from the data, so the same input always lands in the same graphs
(P and V percent-encoded in full, so distinct patients or versions can never share a graph)::

    <V>              the guideline's asserted triples, named by its owl:versionIRI V
    <V/closure>      the guideline's own OWL 2 RL consequences (Guideline.inferred)
    <{STORE}catalogue>                     per stored version: its module, closure graph and content hash
    <{STORE}facts?patient=P>               the patient's facts as given (P: the patient IRI)
    <{STORE}derived?patient=P&jurisdiction=J&asOf=D&guideline=V>
                                           one evaluation: Recommendations.to_graph(guideline_statements=False)
                                           for that patient under versions V (one `guideline=` per version
                                           applied), jurisdiction J, as of date D: the run, recommendations,
                                           suppressed, missing, PROV-O provenance, and the facts the feature rules
                                           derived (durations, implied unknowns); the evidence statements and
                                           sources are the version's own triples, in <V>, not copied per patient
    <{STORE}counts?version=V&jurisdiction=J&asOf=D>
                                           the cohort counts of those evaluations (reasoner.store.counts), kept by
                                           every write; until folded, each write's own graphs (`write=W&...`)

with STORE = https://w3id.org/guideline-reasoner/store/. Blank nodes never enter the store: a patient's are
replaced by IRIs derived from the patient and the canonical form of its graph (`skolemize`, before evaluation),
the guideline's by IRIs derived from its content hash and the node's label in the compile cache.

Writing is all-or-nothing per call of `write_patients` (the one write path; `batch` calls it once per chunk of
patients): each patient's facts graph and evaluation graph are replaced whole, so a rerun replaces exactly those
graphs (the patient's evaluations under other versions, jurisdictions or dates stay) and a run killed
at any point leaves each patient either wholly old or wholly new, never half-written. How each kind of store makes
that so is in reasoner.store.backends: a bulk load of the new patients (ingested at once) and one SPARQL update for
those already stored, in an embedded store; one SPARQL Update request, on a server.

The store is a directory (an embedded Oxigraph store) or the http(s) URL of a SPARQL 1.1 server, whose query and
update endpoints are URL/query and URL/update (Oxigraph server's layout, and Fuseki's for a dataset URL); a server
laid out otherwise is reached with RemoteStore(query_url, update_url).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.errors import InputError, QueryError, ReasonerError, StoreError
from reasoner.input.patient import Patient, skolemize
from reasoner.knowledge.guideline import Guideline, Module
from reasoner.namespaces import DCTERMS, OWL, RDF
from reasoner.output.result import Recommendations
from reasoner.rdf.bindings import Value, bind
from reasoner.rdf.oxi import from_ox, to_ox
from reasoner.rdf.sparql_guard import guard
from reasoner.store.backends import PREFIXES, Answer, CohortStore, EmbeddedStore, PatientGraphs, RemoteStore, latest
from reasoner.store.counts import contribution, count_graph, read_summaries, read_table
from reasoner.store.lock import acquire_writer_lock, refuse_if_written
from reasoner.store.summary import Key, Summary

__all__ = [
    "CATALOGUE",
    "PREFIXES",
    "STORE",
    "CohortStore",
    "EmbeddedStore",
    "PatientGraphs",
    "RemoteStore",
    "Rows",
    "answer",
    "closure_graph",
    "derived_graph",
    "facts_graph",
    "is_url",
    "open_store",
    "patient_graphs",
    "query",
    "serialize_query",
    "skolemize",
    "write_guideline",
    "write_patient",
    "write_patients",
]

STORE = "https://w3id.org/guideline-reasoner/store/"
CATALOGUE = STORE + "catalogue"
_ST = PREFIXES["st"]
_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}
_BULK_FILE = re.compile(r"bulk-[0-9]{1,39}\.sst")  # Oxigraph's name for a bulk load's file (a u128 in decimal)


def facts_graph(patient: str) -> str:
    """The name of the graph holding the facts of the patient with IRI `patient`."""
    return f"{STORE}facts?patient={quote(patient, safe='')}"


def derived_graph(patient: str, versions: str, jurisdiction: str, as_of: str) -> str:
    """The name of the graph holding one evaluation: what was derived for `patient` under the guideline versions
    applied (`versions`: their IRIs, space-separated, the first module's first; see Recommendations.versions_key),
    the `jurisdiction` applied and the evaluation date `as_of` (YYYY-MM-DD). Evaluations that differ in any of these
    are distinct graphs, so several jurisdictions and dates coexist and a rerun replaces only its own."""
    named = "".join(f"&guideline={quote(v, safe='')}" for v in versions.split())
    evaluation = f"jurisdiction={quote(jurisdiction, safe='')}&asOf={quote(as_of, safe='')}"
    return f"{STORE}derived?patient={quote(patient, safe='')}&{evaluation}{named}"


def closure_graph(version: str) -> str:
    return f"{version}/closure"


def is_url(location: str | Path) -> bool:
    """Whether `location` names a SPARQL server (http or https) rather than a directory."""
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))


def open_store(location: str | Path | None = None, *, read_only: bool = False, timeout: float = 300.0) -> CohortStore:
    """Open the cohort store at `location`: a directory (created if needed; an embedded Oxigraph store), the
    http(s) URL of a SPARQL 1.1 server (a query endpoint such as `reasoner serve`'s URL/sparql, or a base URL with
    queries to URL/query and updates to URL/update: RemoteStore.at; each request limited to `timeout` seconds), or
    nothing for a new store in memory. A read-only directory can be opened while no other process writes to it."""
    if location is not None and is_url(location):
        return RemoteStore.at(str(location), read_only=read_only, timeout=timeout)
    where = Path(location) if location is not None else None
    lock = acquire_writer_lock(where) if where is not None and not read_only else None  # one writer at a time
    try:
        if where is None:
            store = ox.Store()
        elif read_only:
            refuse_if_written(where)
            store = ox.Store.read_only(str(where))
        else:
            store = ox.Store(str(where))
            _remove_unfinished_loads(where)
    except OSError as exc:
        if lock is not None:
            lock.release()
        raise StoreError(f"cannot open the cohort store {where}: {exc}") from exc
    return EmbeddedStore(store, where, read_only=read_only, lock=lock)


def _remove_unfinished_loads(directory: Path) -> None:
    """Delete the sorted files of bulk loads that never finished (a batch killed mid-write): Oxigraph writes them in
    the store's directory as bulk-<random 128-bit number>.sst and deletes them once ingested, and RocksDB never
    reads a file of that name. Called with the store open for writing, so no bulk load can be running now (the
    writer lock and RocksDB's own lock exclude every other writer); nothing of any other name is touched."""
    for path in directory.glob("bulk-*.sst"):
        if _BULK_FILE.fullmatch(path.name):
            path.unlink(missing_ok=True)


# -- writing --------------------------------------------------------------------------------------------------


def write_guideline(store: CohortStore, guideline: Guideline) -> bool:
    """Store each guideline module's version: what it says (with the core and what it imports) and the closure, and
    its catalogue entry, one update per module, unless that version is already stored with the same content hash.
    Returns whether anything was written."""
    written = [_write_module(store, guideline, module) for module in guideline.guidelines]
    return any(written)


def _write_module(store: CohortStore, guideline: Guideline, module: Module) -> bool:
    version = module.version_iri
    stored = (
        f"ASK {{ GRAPH {_iri(CATALOGUE)} {{ {_iri(version)} st:contentHash {ox.Literal(guideline.content_hash)} }} }}"
    )
    if bool(store.execute(stored, {})):
        return False
    closure = closure_graph(version)

    def skolem(label: str) -> URIRef:
        return URIRef(f"{STORE}genid/{_digest(guideline.content_hash, label)}")

    entry = [
        (URIRef(version), RDF.type, URIRef(_ST + "GuidelineGraph")),
        (URIRef(version), DCTERMS.isVersionOf, URIRef(module.iri)),
        (URIRef(version), URIRef(_ST + "closure"), URIRef(closure)),
        (URIRef(version), URIRef(_ST + "contentHash"), Literal(guideline.content_hash)),
        (URIRef(version), OWL.versionInfo, Literal(module.version)),
    ]
    store.update(
        f"DROP SILENT GRAPH {_iri(version)} ;\nDROP SILENT GRAPH {_iri(closure)} ;\n"
        f"DELETE WHERE {{ GRAPH {_iri(CATALOGUE)} {{ {_iri(version)} ?p ?o }} }} ;\n"
        f"INSERT DATA {{\nGRAPH {_iri(version)} {{\n{_ntriples(guideline.module_graph(module.iri), skolem)}}}\n"
        f"GRAPH {_iri(closure)} {{\n{_ntriples(guideline.inferred, skolem)}}}\n"
        f"GRAPH {_iri(CATALOGUE)} {{\n{_ntriples(entry, skolem)}}}\n}}"
    )
    return True


def patient_graphs(patient: Patient, result: Recommendations) -> PatientGraphs:
    """`patient`'s facts graph and the result's evaluation graph (see derived_graph; `result.triples()`
    without the guideline's own statements), ready to write. Raises InputError for a patient that cannot be stored
    (blank nodes: skolemize it first; an IRI Oxigraph refuses)."""
    if result.patient != str(patient.iri):
        raise ReasonerError(f"the result is about {result.patient}, not about the patient {patient.iri}")

    def refuse(label: str) -> URIRef:
        raise InputError(f"{patient.source}: blank nodes cannot be stored; evaluate skolemize(patient) instead")

    facts = facts_graph(str(patient.iri))
    derived = derived_graph(str(patient.iri), result.versions_key, result.jurisdiction, result.as_of)
    try:
        body = f"GRAPH {_iri(facts)} {{\n{_ntriples(patient.graph, refuse)}}}\n"
        body += f"GRAPH {_iri(derived)} {{\n{_ntriples(result.triples(guideline_statements=False), refuse)}}}\n"
    except ValueError as exc:  # an IRI Oxigraph refuses (relative, or with forbidden characters)
        raise InputError(f"{patient.source}: cannot be stored: {exc}") from exc
    return PatientGraphs(str(patient.iri), (facts, derived), body, Summary.of(result))


def write_patients(store: CohortStore, records: Sequence[PatientGraphs]) -> None:
    """THE write path: replace these patients' graphs in one all-or-nothing step (the same patient twice: the last
    record wins), with what that changes in the cohort counts (reasoner.store.counts): what the new evaluations add
    minus what the evaluations they replace had added. Every write of patient data goes through here. The
    guideline versions the evaluations used must be stored first (write_guideline)."""
    if not records:
        return
    written = latest(records, store.location)
    summarised = [r for r in written if r.summary is not None]
    table = read_table(store) if summarised else None
    old = read_summaries(store, [r.graphs[-1] for r in summarised])
    deltas: dict[tuple[str, ...], Counter[Key]] = {}
    for record in summarised:
        assert record.summary is not None and table is not None
        unstored = sorted(record.summary.used - {record.patient} - table.defines.keys())
        if unstored:
            raise StoreError(
                f"cohort store {store.location}: patient {record.patient} was evaluated under guideline version "
                f"{unstored[0]}, which is not stored: write the guideline (write_guideline) before its patients"
            )
        delta = contribution(record.summary, table)
        replaced = old.get(record.graphs[-1])
        if replaced is not None:
            delta.subtract(contribution(replaced, table))
        deltas[record.graphs] = delta

    def counted(part: Sequence[PatientGraphs]) -> str:
        return count_graph(item for r in part for item in deltas.get(r.graphs, Counter()).items())

    store.replace(written, counted)


def write_patient(store: CohortStore, patient: Patient, result: Recommendations) -> None:
    """Replace one patient's facts graph and the result's evaluation graph (see derived_graph). `result` must be
    what recommend() returned for this patient: only valid patients have one."""
    write_patients(store, [patient_graphs(patient, result)])


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def _iri(value: str) -> str:
    return str(ox.NamedNode(value))


def _ntriples(triples: Iterable[tuple[Node, Node, Node]], blank: Callable[[str], URIRef]) -> str:
    """N-Triples for `triples` (valid inside INSERT DATA and a TriG graph block), blank nodes replaced by
    `blank(label)`."""
    out = []
    for triple in triples:
        s, p, o = (to_ox(blank(str(t)) if isinstance(t, BNode) else t) for t in triple)
        out.append(ox.Triple(s, p, o))  # type: ignore[arg-type]
    return (ox.serialize(out, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")


# -- querying -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """The answer to a SELECT query: its variables, in order, and one tuple of terms (None: unbound) per row."""

    variables: tuple[str, ...]
    rows: tuple[tuple[Node | None, ...], ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Node | None]]:
        return (dict(zip(self.variables, row, strict=True)) for row in self.rows)

    def column(self, name: str) -> list[Node | None]:
        index = self.variables.index(name)
        return [row[index] for row in self.rows]


def query(store: CohortStore, text: str, *, bindings: Mapping[str, Value] | None = None) -> Rows | bool | Graph:
    """Run a SPARQL query: SELECT gives Rows, ASK a bool, CONSTRUCT and DESCRIBE an rdflib Graph. Parameters are
    bound as typed RDF terms (reasoner.rdf.bindings), never pasted into the text; PREFIXES need no declaration."""
    result = answer(store, text, bindings=bindings)
    if isinstance(result, ox.QuerySolutions):
        names = tuple(v.value for v in result.variables)
        rows = tuple(tuple(None if s[n] is None else from_ox(s[n]) for n in names) for s in result)
        return Rows(names, rows)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    graph = Graph()
    for t in result:
        graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
    return graph


def serialize_query(
    store: CohortStore, text: str, *, bindings: Mapping[str, Value] | None = None, format: str = "json"
) -> bytes:
    """The answer serialised by Oxigraph (whatever the store): json, xml, csv or tsv for SELECT and ASK; turtle
    or ntriples for CONSTRUCT and DESCRIBE."""
    result = answer(store, text, bindings=bindings)
    try:
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            return result.serialize(format=_FORMATS[format]) or b""
        return ox.serialize(result, format=_GRAPH_FORMATS[format]) or b""
    except KeyError:
        kinds = _FORMATS if isinstance(result, ox.QuerySolutions | ox.QueryBoolean) else _GRAPH_FORMATS
        raise QueryError(f"format {format!r} does not fit this query; choose one of {', '.join(kinds)}") from None


def answer(store: CohortStore, text: str, *, bindings: Mapping[str, Value] | None = None) -> Answer:
    """The engine's own answer, unread (for callers that stream or cap it): the query is checked by
    reasoner.rdf.sparql_guard, then bound as `query` binds it."""
    guard(text)
    projected = _projected(text)
    bound = bind(text, bindings or {}, projected if store.substitutes else set())
    try:
        return store.execute(bound.text, bound.substitutions)
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"the query failed: {exc}") from exc


def _projected(text: str) -> set[str]:
    """Parse the query once on an empty store (a syntax error is reported before anything runs) and return the
    variables it projects."""
    try:
        probe = ox.Store().query(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    return {v.value for v in probe.variables} if isinstance(probe, ox.QuerySolutions) else set()
