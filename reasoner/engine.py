"""OWL 2 RL closure engines. `owlrl` is the reference semantics: the full closure of guideline plus patient."""

from __future__ import annotations

from typing import Protocol

import owlrl
from rdflib import Graph

__all__ = ["ENGINES", "Engine", "OwlrlEngine"]


class Engine(Protocol):
    name: str

    def close(self, graph: Graph) -> None:
        """Add to `graph` (guideline + patient + features) every OWL 2 RL consequence the rules read."""


class OwlrlEngine:
    """Reference engine: owlrl's OWL 2 RL closure over the whole working graph."""

    name = "owlrl"

    def close(self, graph: Graph) -> None:
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(graph)


ENGINES: dict[str, Engine] = {"owlrl": OwlrlEngine()}
