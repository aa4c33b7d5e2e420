"""Where a cohort store lives: an embedded Oxigraph store (a directory, or memory), or a SPARQL 1.1 server reached
over HTTP (Oxigraph server, Fuseki, GraphDB...). Both answer the same three requests — run a query, apply an
update, replace some patients' graphs — so reasoner.store.cohort and reasoner.store.batch never ask which one they hold.

Replacing patients (`CohortStore.replace`) is the one write path, and each call is all-or-nothing:

- embedded: patients none of whose graphs exist yet are bulk-loaded as one TriG document (Store.bulk_load: Oxigraph
  0.5 writes sorted files and ingests them into every index at once at the end, RocksDB IngestExternalFiles, so a
  parse error or a crash before then leaves nothing); patients already stored go through one SPARQL update that
  drops and re-inserts their graphs (one transaction: Store.update wraps the request in storage.transaction);
- remote: one SPARQL Update request that drops and re-inserts every graph of the chunk; Oxigraph server, Fuseki
  (TDB2) and GraphDB apply an update request in one transaction.

Only the standard library talks HTTP (urllib), with a timeout; a server that cannot be reached or answers an error
is a StoreError naming the URL.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeAlias

import pyoxigraph as ox

from reasoner.errors import QueryError, StoreError
from reasoner.knowledge.modules import bundled_prefixes
from reasoner.namespaces import DCTERMS, GR, OWL, PROV, RDF, RDFS, SKOS, XSD
from reasoner.rdf.bindings import Substitution
from reasoner.store.lock import WriterLock
from reasoner.store.summary import Summary

__all__ = [
    "PREFIXES",
    "Answer",
    "CohortStore",
    "Counted",
    "EmbeddedStore",
    "PatientGraphs",
    "RemoteStore",
    "latest",
    "replace_update",
]

#: Prefixes every query may use without declaring them.
PREFIXES = bundled_prefixes() | {
    "gr": str(GR),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "st": "https://w3id.org/guideline-reasoner/store#",
}
#: What a query gives: solutions, a boolean, or the triples of a CONSTRUCT or DESCRIBE (read lazily when embedded).
Answer: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | Iterable[ox.Triple]

_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"


@dataclass(frozen=True)
class PatientGraphs:
    """One patient ready to store: the names of the graphs it replaces and their content, as `GRAPH <g> { ... }`
    blocks of N-Triples: valid both as a TriG document and as the body of a SPARQL INSERT DATA. `summary`: what the
    evaluation adds to the cohort counts (reasoner.store.counts); None when it adds nothing."""

    patient: str
    graphs: tuple[str, ...]
    body: str
    summary: Summary | None = None


#: Given the records one step of `replace` writes, the count graph block that goes with them ("" for none).
Counted: TypeAlias = Callable[[Sequence[PatientGraphs]], str]


def _uncounted(records: Sequence[PatientGraphs]) -> str:
    return ""


def replace_update(records: Sequence[PatientGraphs], counted: Counted = _uncounted) -> str:
    """One SPARQL update replacing exactly these patients' graphs with their new content (and adding their
    count graph)."""
    drops = "".join(f"DROP SILENT GRAPH <{g}> ;\n" for r in records for g in r.graphs)
    return drops + "INSERT DATA {\n" + "".join(r.body for r in records) + counted(records) + "}"


def latest(records: Sequence[PatientGraphs], location: str) -> list[PatientGraphs]:
    """The records to write: the last one of each patient (the same graphs twice), in order."""
    last = list({r.graphs: r for r in records}.values())
    names = [g for r in last for g in r.graphs]
    if len(set(names)) != len(names):
        raise StoreError(f"cohort store {location}: two records in one write share a graph but not all their graphs")
    return last


class CohortStore(ABC):
    """An open cohort store. `substitutes`: whether `execute` takes Oxigraph substitutions (SEP-0007); a store that
    does not gets every parameter bound by a VALUES block instead."""

    substitutes = False

    def __init__(self, location: str, *, read_only: bool) -> None:
        self.location, self.read_only = location, read_only

    @abstractmethod
    def execute(self, text: str, substitutions: dict[ox.Variable, Substitution]) -> Answer:
        """Run a query whose parameters are already bound (reasoner.store.cohort.query binds them)."""

    @abstractmethod
    def update(self, text: str) -> None:
        """Apply one SPARQL update, all or nothing."""

    @abstractmethod
    def replace(self, records: Sequence[PatientGraphs], counted: Counted = _uncounted) -> None:
        """Replace these patients' graphs with their new content, all or nothing (see the module docstring), with
        `counted(part)` written in the same step as each part it is written for."""

    def existing(self, graphs: Sequence[str]) -> set[str]:
        """Which of `graphs` the store holds (each looked up by name)."""
        if not graphs:
            return set()
        values = " ".join(str(ox.NamedNode(g)) for g in graphs)
        answer = self.execute(
            f"SELECT ?g WHERE {{ VALUES ?g {{ {values} }} FILTER EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }}", {}
        )
        assert isinstance(answer, ox.QuerySolutions)
        return {s["g"].value for s in answer if isinstance(s["g"], ox.NamedNode)}

    def graphs(self) -> list[str]:
        """The names of the store's named graphs, sorted."""
        answer = self.execute("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", {})
        assert isinstance(answer, ox.QuerySolutions)
        return sorted(s["g"].value for s in answer if isinstance(s["g"], ox.NamedNode))

    def optimize(self) -> None:  # noqa: B027 - a server compacts its own storage
        """Compact the store's storage after many writes (its reads get faster)."""

    def close(self) -> None:  # noqa: B027 - nothing to release for a store reached over HTTP
        """Release the store."""

    def __enter__(self) -> CohortStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class EmbeddedStore(CohortStore):
    """An Oxigraph store on disk, or in memory when opened without a path."""

    substitutes = True

    def __init__(
        self, store: ox.Store, path: Path | None, *, read_only: bool = False, lock: WriterLock | None = None
    ) -> None:
        super().__init__(str(path) if path is not None else "(in memory)", read_only=read_only)
        self._store: ox.Store | None = store
        self.path = path
        self._lock = lock  # reasoner.store.lock: held while open for writing

    @property
    def oxigraph(self) -> ox.Store:
        if self._store is None:
            raise StoreError(f"the cohort store {self.location} is closed")
        return self._store

    def execute(self, text: str, substitutions: dict[ox.Variable, Substitution]) -> Answer:
        return self.oxigraph.query(text, prefixes=PREFIXES, substitutions=substitutions)

    def existing(self, graphs: Sequence[str]) -> set[str]:
        return {g for g in graphs if self.oxigraph.contains_named_graph(ox.NamedNode(g))}

    def update(self, text: str) -> None:
        try:
            self.oxigraph.update(text)
        except (OSError, RuntimeError, SyntaxError, ValueError) as exc:
            raise StoreError(f"cohort store {self.location}: update failed: {exc}") from exc

    def replace(self, records: Sequence[PatientGraphs], counted: Counted = _uncounted) -> None:
        store = self.oxigraph
        written = latest(records, self.location)
        held = self.existing([g for r in written for g in r.graphs])
        stored = [any(g in held for g in r.graphs) for r in written]
        fresh = [r for r, old in zip(written, stored, strict=True) if not old]
        try:
            if fresh:
                body = "".join(r.body for r in fresh) + counted(fresh)
                store.bulk_load(body.encode("utf-8"), format=ox.RdfFormat.TRIG, lenient=True)
        except (OSError, SyntaxError, ValueError) as exc:
            raise StoreError(f"cohort store {self.location}: write failed: {exc}") from exc
        if any(stored):
            self.update(replace_update([r for r, old in zip(written, stored, strict=True) if old], counted))

    def optimize(self) -> None:
        """Compact the store on disk: bulk loads leave overlapping files that every read must merge (research
        queries ran 1.6 times slower on 1,000 patients loaded in four chunks until it was compacted)."""
        try:
            self.oxigraph.optimize()
        except OSError as exc:
            raise StoreError(f"cohort store {self.location}: cannot compact: {exc}") from exc

    def close(self) -> None:
        """Flush and release the store (its directory lock is released once no query result holds it)."""
        try:
            if self._store is not None and self.path is not None and not self.read_only:
                self._store.flush()
        except OSError as exc:  # e.g. the disk is full: what was committed before stays readable
            raise StoreError(f"cohort store {self.location}: cannot flush to disk: {exc}") from exc
        finally:
            self._store = None
            if self._lock is not None:
                self._lock.release()


class RemoteStore(CohortStore):
    """A SPARQL 1.1 server: queries POSTed to `query_url`, updates to `update_url` (SPARQL 1.1 Protocol), each
    request with a timeout of `timeout` seconds. Every query declares the PREFIXES it may use (a standard endpoint
    refuses undeclared ones) and asks for SPARQL JSON results or N-Triples by Accept."""

    @classmethod
    def at(cls, url: str, *, read_only: bool = False, timeout: float = 300.0) -> RemoteStore:
        """The server at `url`: a query endpoint itself when its last path segment is `sparql` or `query` (`reasoner
        serve`'s http://host:port/sparql, Oxigraph's http://host:7878/query), updates then going to the sibling
        `update`; else a base URL whose query and update endpoints are URL/query and URL/update (Oxigraph server's
        layout, and Fuseki's for a dataset URL)."""
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        head, _, last = parts.path.rpartition("/")
        if last in ("sparql", "query"):
            update = urllib.parse.urlunsplit(parts._replace(path=f"{head}/update", query="", fragment=""))
            return cls(url.rstrip("/"), update, read_only=read_only, timeout=timeout, location=url.rstrip("/"))
        base = url.rstrip("/")
        return cls(f"{base}/query", f"{base}/update", read_only=read_only, timeout=timeout, location=base)

    def __init__(
        self, query_url: str, update_url: str, *, read_only: bool = False, timeout: float = 300.0, location: str = ""
    ) -> None:
        super().__init__(location or query_url, read_only=read_only)
        self.query_url, self.update_url, self.timeout = query_url, update_url, timeout
        self._prologue = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())

    def execute(self, text: str, substitutions: dict[ox.Variable, Substitution]) -> Answer:
        if substitutions:
            raise QueryError(f"{self.query_url}: bind parameters by VALUES, not by substitution")
        body, kind = self._post(self.query_url, self._prologue + text, "query", f"{_RESULTS_JSON}, {_NTRIPLES};q=0.9")
        try:
            if kind == _RESULTS_JSON:
                return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            if kind == _NTRIPLES:
                return [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"SPARQL server {self.query_url}: unreadable answer: {exc}") from exc
        raise StoreError(f"SPARQL server {self.query_url}: answered {kind or 'no content type'}, not {_RESULTS_JSON}")

    def update(self, text: str) -> None:
        if self.read_only:
            raise StoreError(f"the cohort store {self.location} was opened read-only")
        self._post(self.update_url, text, "update", "*/*")

    def replace(self, records: Sequence[PatientGraphs], counted: Counted = _uncounted) -> None:
        self.update(replace_update(latest(records, self.location), counted))

    def _post(self, url: str, text: str, kind: str, accept: str) -> tuple[bytes, str]:
        request = urllib.request.Request(
            url,
            data=text.encode("utf-8"),
            method="POST",
            headers={"Content-Type": f"application/sparql-{kind}; charset=utf-8", "Accept": accept},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read(), response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace").strip()
            error = QueryError if kind == "query" and exc.code == 400 else StoreError
            raise error(f"SPARQL server {url} refused the {kind}: HTTP {exc.code} {exc.reason}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise StoreError(f"cannot reach the SPARQL server {url}: {reason}") from exc
