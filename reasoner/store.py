"""The cohort store: each patient's facts and derived recommendations (with provenance) in named graphs of an
on-disk Oxigraph store, beside the guideline versions they were evaluated against.

Layout. Every graph name is computed from the data, so the same input always lands in the same graphs
(P and V percent-encoded in full, so distinct patients or versions can never share a graph)::

    <V>              the guideline's asserted triples, named by its owl:versionIRI V
    <V/closure>      the guideline's own OWL 2 RL consequences (Guideline.inferred)
    <{STORE}catalogue>                     per stored version: its module, closure graph and content hash
    <{STORE}facts?patient=P>               the patient's facts as given (P: the patient IRI)
    <{STORE}derived?patient=P&guideline=V> Recommendations.to_graph() for that patient under version V:
                                           the run, recommendations, suppressed, missing, PROV-O provenance,
                                           and the facts the feature rules derived (durations, implied unknowns)

with STORE = https://w3id.org/guideline-reasoner/store/. Blank nodes never enter the store: a patient's are
replaced by IRIs derived from the patient and the canonical form of its graph (`skolemize`, before evaluation),
the guideline's by IRIs derived from its content hash and the node's label in the compile cache.

Writing a patient is ONE SPARQL update: DROP SILENT both of its graphs (the derived one for this version only),
then INSERT DATA both. Oxigraph runs an update request in one transaction ("either the full operation succeeds, or
nothing is written"; Store.update_opt wraps evaluate_update in storage.transaction), so a rerun replaces exactly
those graphs and a run killed at any point leaves each patient either wholly old or wholly new. A remote SPARQL 1.1
store can take the same update text (`patient_update`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.bindings import Bound, Substitution, Value, bind, refuse_service
from reasoner.errors import InputError, QueryError, ReasonerError
from reasoner.guideline import Guideline
from reasoner.namespaces import DCTERMS, GR, LBP, OWL, PROV, RDF, RDFS, SKOS, XSD
from reasoner.oxi import from_ox, to_ox
from reasoner.patient import Patient, skolemize
from reasoner.result import Recommendations

__all__ = [
    "CATALOGUE",
    "PREFIXES",
    "STORE",
    "CohortStore",
    "Rows",
    "closure_graph",
    "derived_graph",
    "facts_graph",
    "open_store",
    "patient_update",
    "query",
    "serialize_query",
    "skolemize",
    "write_guideline",
    "write_patient",
]

STORE = "https://w3id.org/guideline-reasoner/store/"
CATALOGUE = STORE + "catalogue"
_ST = "https://w3id.org/guideline-reasoner/store#"
#: Prefixes every query may use without declaring them.
PREFIXES = {
    "gr": str(GR),
    "lbp": str(LBP),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "st": _ST,
}
_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_GRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}


def facts_graph(patient: str) -> str:
    """The name of the graph holding the facts of the patient with IRI `patient`."""
    return f"{STORE}facts?patient={quote(patient, safe='')}"


def derived_graph(patient: str, version: str) -> str:
    """The name of the graph holding what was derived for `patient` under guideline version IRI `version`."""
    return f"{STORE}derived?patient={quote(patient, safe='')}&guideline={quote(version, safe='')}"


def closure_graph(version: str) -> str:
    return f"{version}/closure"


class CohortStore:
    """An open cohort store: an Oxigraph store on disk (or in memory, opened without a path)."""

    def __init__(self, store: ox.Store, path: Path | None, *, read_only: bool = False) -> None:
        self._store: ox.Store | None = store
        self.path, self.read_only = path, read_only

    @property
    def oxigraph(self) -> ox.Store:
        if self._store is None:
            raise ReasonerError(f"the cohort store {self.path or '(in memory)'} is closed")
        return self._store

    def execute(
        self, text: str, substitutions: dict[ox.Variable, Substitution]
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a query whose parameters are already bound (see `query`). A store behind the SPARQL protocol would
        implement this, `update`, `graphs` and `close`, binding every parameter by VALUES."""
        return self.oxigraph.query(text, prefixes=PREFIXES, substitutions=substitutions)

    def update(self, text: str) -> None:
        """Apply one SPARQL update in one transaction."""
        try:
            self.oxigraph.update(text)
        except (OSError, RuntimeError, SyntaxError, ValueError) as exc:
            raise ReasonerError(f"cohort store {self.path or '(in memory)'}: update failed: {exc}") from exc

    def optimize(self) -> None:
        """Compact the store on disk (worth doing after a batch)."""
        try:
            self.oxigraph.optimize()
        except OSError as exc:
            raise ReasonerError(f"cohort store {self.path}: cannot compact: {exc}") from exc

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self.oxigraph.named_graphs() if isinstance(g, ox.NamedNode))

    def close(self) -> None:
        """Flush and release the store (its directory lock is released once no query result holds it)."""
        if self._store is not None and self.path is not None and not self.read_only:
            self._store.flush()
        self._store = None

    def __enter__(self) -> CohortStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_store(path: str | Path | None = None, *, read_only: bool = False) -> CohortStore:
    """Open (creating it if needed) the cohort store at `path`; no path opens a new store in memory.
    A read-only store can be opened while no other process writes to it."""
    where = Path(path) if path is not None else None
    try:
        if where is None:
            store = ox.Store()
        elif read_only:
            store = ox.Store.read_only(str(where))
        else:
            store = ox.Store(str(where))
    except OSError as exc:
        raise ReasonerError(f"cannot open the cohort store {where}: {exc}") from exc
    return CohortStore(store, where, read_only=read_only)


# -- writing --------------------------------------------------------------------------------------------------


def write_guideline(store: CohortStore, guideline: Guideline) -> bool:
    """Store the guideline's two graphs and its catalogue entry, in one update, unless this version is already
    stored with the same content hash. Returns whether anything was written."""
    version = guideline.version_iri
    catalogue, node = ox.NamedNode(CATALOGUE), ox.NamedNode(version)
    stored = store.oxigraph.quads_for_pattern(node, ox.NamedNode(_ST + "contentHash"), None, catalogue)
    if any(isinstance(q.object, ox.Literal) and q.object.value == guideline.content_hash for q in stored):
        return False
    closure = closure_graph(version)

    def skolem(label: str) -> URIRef:
        return URIRef(f"{STORE}genid/{_digest(guideline.content_hash, label)}")

    entry = [
        (URIRef(version), RDF.type, URIRef(_ST + "GuidelineGraph")),
        (URIRef(version), DCTERMS.isVersionOf, URIRef(guideline.iri)),
        (URIRef(version), URIRef(_ST + "closure"), URIRef(closure)),
        (URIRef(version), URIRef(_ST + "contentHash"), Literal(guideline.content_hash)),
        (URIRef(version), OWL.versionInfo, Literal(guideline.version)),
    ]
    store.update(
        f"DROP SILENT GRAPH {_iri(version)} ;\nDROP SILENT GRAPH {_iri(closure)} ;\n"
        f"DELETE WHERE {{ GRAPH {_iri(CATALOGUE)} {{ {_iri(version)} ?p ?o }} }} ;\n"
        f"INSERT DATA {{\nGRAPH {_iri(version)} {{\n{_ntriples(guideline.graph, skolem)}}}\n"
        f"GRAPH {_iri(closure)} {{\n{_ntriples(guideline.inferred, skolem)}}}\n"
        f"GRAPH {_iri(CATALOGUE)} {{\n{_ntriples(entry, skolem)}}}\n}}"
    )
    return True


def patient_update(patient: Patient, result: Recommendations) -> str:
    """The SPARQL update that replaces `patient`'s facts graph and its derived graph for the result's guideline
    version with these facts and `result.to_graph()`: one request, applied atomically by the store."""
    if result.patient != str(patient.iri):
        raise ReasonerError(f"the result is about {result.patient}, not about the patient {patient.iri}")

    def refuse(label: str) -> URIRef:
        raise InputError(f"{patient.source}: blank nodes cannot be stored; evaluate skolemize(patient) instead")

    facts = facts_graph(str(patient.iri))
    derived = derived_graph(str(patient.iri), result.guideline.version_iri)
    try:
        body = f"GRAPH {_iri(facts)} {{\n{_ntriples(patient.graph, refuse)}}}\n"
        body += f"GRAPH {_iri(derived)} {{\n{_ntriples(result.to_graph(), refuse)}}}\n"
    except ValueError as exc:  # an IRI Oxigraph refuses (relative, or with forbidden characters)
        raise InputError(f"{patient.source}: cannot be stored: {exc}") from exc
    return f"DROP SILENT GRAPH {_iri(facts)} ;\nDROP SILENT GRAPH {_iri(derived)} ;\nINSERT DATA {{\n{body}}}"


def write_patient(store: CohortStore, patient: Patient, result: Recommendations) -> None:
    """Replace the patient's facts graph and derived graph (for the result's guideline version) in one atomic
    update. `result` must be what recommend() returned for this patient: only valid patients have one."""
    store.update(patient_update(patient, result))


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def _iri(value: str) -> str:
    return str(ox.NamedNode(value))


def _ntriples(triples: Iterable[tuple[Node, Node, Node]], blank: Callable[[str], URIRef]) -> str:
    """N-Triples for `triples` (valid inside INSERT DATA), blank nodes replaced by `blank(label)`."""
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
    bound as typed RDF terms (reasoner.bindings), never pasted into the text; PREFIXES need no declaration."""
    result = _run(store, text, bindings or {})
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
    """The answer serialised by Oxigraph: json, xml, csv or tsv for SELECT and ASK; turtle or ntriples for
    CONSTRUCT and DESCRIBE."""
    result = _run(store, text, bindings or {})
    try:
        if isinstance(result, ox.QueryTriples):
            return result.serialize(format=_GRAPH_FORMATS[format]) or b""
        return result.serialize(format=_FORMATS[format]) or b""
    except KeyError:
        kinds = _GRAPH_FORMATS if isinstance(result, ox.QueryTriples) else _FORMATS
        raise QueryError(f"format {format!r} does not fit this query; choose one of {', '.join(kinds)}") from None


def _run(
    store: CohortStore, text: str, bindings: Mapping[str, Value]
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    refuse_service(text)
    bound = _prepare(text, bindings)
    try:
        return store.execute(bound.text, bound.substitutions)
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"the query failed: {exc}") from exc


def _prepare(text: str, bindings: Mapping[str, Value]) -> Bound:
    """Parse the query once on an empty store to learn its form and projected variables, then bind."""
    try:
        probe = ox.Store().query(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    projected = {v.value for v in probe.variables} if isinstance(probe, ox.QuerySolutions) else set()
    return bind(text, bindings, projected)
