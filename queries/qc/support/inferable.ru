# One round of the inferable-class fixpoint used by uninferable-class.rq (reasoner/qc.py repeats it until nothing
# is added). A class expression is inferable when some patient can be a member of it: see that query's header.
# The seeds (classes patient data can state, classes named by feature rules) are inserted by reasoner/qc.py.
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX qc: <urn:guideline-reasoner:qc:>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT { GRAPH qc:inferable { ?c a qc:Inferable } }
WHERE {
  {
    ?sub rdfs:subClassOf ?c .
    GRAPH qc:inferable { ?sub a qc:Inferable }
  } UNION {
    ?c owl:equivalentClass|^owl:equivalentClass ?e .
    GRAPH qc:inferable { ?e a qc:Inferable }
  } UNION {
    ?c owl:someValuesFrom ?filler .
    GRAPH qc:inferable { ?filler a qc:Inferable }
  } UNION {
    ?c owl:hasValue ?value .
  } UNION {
    ?c owl:unionOf/rdf:rest*/rdf:first ?member .
    GRAPH qc:inferable { ?member a qc:Inferable }
  } UNION {
    ?c owl:intersectionOf ?list .
    FILTER NOT EXISTS {
      ?list rdf:rest*/rdf:first ?member .
      FILTER NOT EXISTS { GRAPH qc:inferable { ?member a qc:Inferable } }
    }
  }
  FILTER NOT EXISTS { GRAPH qc:inferable { ?c a qc:Inferable } }
}
