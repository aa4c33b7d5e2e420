"""owlrl's OWL 2 RL closure: the reference semantics, and how a guideline's own closure is compiled."""

from __future__ import annotations

import owlrl
from owlrl.Namespaces import ERRNS
from rdflib import RDF, Graph, Literal

__all__ = ["expand_with_owlrl", "owl_rl_closure", "owlrl_errors"]


def expand_with_owlrl(graph: Graph) -> None:
    """Add owlrl's full OWL 2 RL closure to `graph` in place: the reference semantics everything is checked against."""
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(graph)


def owl_rl_closure(asserted: Graph) -> Graph:
    """What owlrl's OWL 2 RL closure adds to the guideline (statements about literals dropped: nothing reads them)."""
    closed = Graph()
    closed += asserted
    expand_with_owlrl(closed)
    inferred = Graph()
    for triple in closed:
        if triple not in asserted and not isinstance(triple[0], Literal):
            inferred.add(triple)
    return inferred


def owlrl_errors(closed: Graph) -> list[str]:
    """The inconsistencies owlrl found while closing `closed`: it adds each as a node of type err:ErrorMessage."""
    return sorted(str(m) for e in closed.subjects(RDF.type, ERRNS.ErrorMessage) for m in closed.objects(e, ERRNS.error))
