"""RDF namespaces used throughout the package."""

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

GR = Namespace("https://w3id.org/guideline-reasoner/core#")
VOCAB = Namespace("https://w3id.org/guideline-reasoner/vocab#")  # the shared clinical vocabulary
DERIVED = Namespace("https://w3id.org/guideline-reasoner/derived/")
SH = Namespace("http://www.w3.org/ns/shacl#")

__all__ = ["DCTERMS", "DERIVED", "GR", "OWL", "PROV", "RDF", "RDFS", "SH", "SKOS", "VOCAB", "XSD"]
