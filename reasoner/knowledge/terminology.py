"""Code lookups for patient input: which concepts of the loaded guideline a (system, code) names, built once per
guideline version from its Turtle and cached with it.

The codes live in Turtle only (`gr:coding [ gr:system ; gr:code ]` on a concept, the value sets under
ontology/vocabulary/). A code names every concept that carries it: a drug product (an RxNorm clinical drug) is a
coding of each ingredient it contains, so it names all of them. A guideline ontology's own code system (system = the
owl:Ontology IRI, code = a term's local name) names that term, or the term of that name another loaded ontology
defines (terms moved from a module to the shared vocabulary keep their codes). A coding marked gr:unverified is never
used; it is kept apart so that the reader can say why a code was not used.
"""

from __future__ import annotations

from functools import cache

from rdflib import Literal, URIRef

from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import GR, OWL, RDF, RDFS

__all__ = ["Terminology"]

Code = tuple[str, str]


class Terminology:
    """The guideline's code mappings and term kinds, indexed once per guideline version (Terminology.of)."""

    def __init__(self, gl: Guideline) -> None:
        g = self.graph = gl.graph
        self.vocab = Vocabulary.of(gl)
        verified: dict[Code, set[URIRef]] = {}
        unverified: dict[Code, set[URIRef]] = {}
        for term, coding in g.subject_objects(GR.coding):
            system, code = g.value(coding, GR.system), g.value(coding, GR.code)
            if isinstance(term, URIRef) and system is not None and code is not None:
                table = unverified if g.value(coding, GR.unverified) is not None else verified
                table.setdefault((str(system), str(code).strip()), set()).add(term)
        self._verified = {k: frozenset(v) for k, v in verified.items()}
        self._unverified = {k: frozenset(v) for k, v in unverified.items()}
        self._systems = frozenset(str(o) for o in g.subjects(RDF.type, OWL.Ontology))
        self._historical = frozenset(
            f
            for f in self.vocab.findings
            if any(g.value(c, GR.historical) == Literal(True) for c in g.transitive_objects(f, RDFS.subClassOf))
        )

    @staticmethod
    @cache
    def of(gl: Guideline) -> Terminology:
        return Terminology(gl)

    def concepts(self, system: str, code: str) -> frozenset[URIRef]:
        """Every concept a verified coding (or the guideline's own code system) gives this code."""
        if system in self._systems:  # a term moved to the shared vocabulary keeps its local name
            terms = (URIRef(f"{s}#{code}") for s in sorted(self._systems, key=lambda s: s != system))
            return next((frozenset({t}) for t in terms if (t, RDF.type, None) in self.graph), frozenset())
        return self._verified.get((system, code.strip()), frozenset())

    def unverified(self, system: str, code: str) -> frozenset[URIRef]:
        """The concepts that carry this code only as an unverified coding (never used)."""
        return self._unverified.get((system, code.strip()), frozenset())

    def ingredients(self, system: str, code: str) -> list[URIRef]:
        """The drugs a product or ingredient code names, in a stable order (one exposure each)."""
        return sorted(t for t in self.concepts(system, code) if t in self.vocab.drugs)

    def is_a(self, term: URIRef, kind: URIRef) -> bool:
        return (term, RDF.type, kind) in self.graph

    def historical(self, finding: URIRef) -> bool:
        return finding in self._historical

    def label(self, term: URIRef) -> str:
        return str(self.graph.value(term, RDFS.label) or term)
