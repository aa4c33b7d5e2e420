"""Loading one patient's facts from Turtle, N-Triples, JSON-LD or a FHIR R4 Bundle (a file, a string or a graph)."""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import Graph, URIRef

from reasoner.errors import InvalidPatientError, PatientParseError, Violation
from reasoner.input.patient import Patient, blank_node_parents_of
from reasoner.namespaces import GR, RDF
from reasoner.rdf import limits
from reasoner.rdf.limits import read_file
from reasoner.rdf.rdfio import ReadError, add_checked, parse_text

__all__ = ["load"]


def load(source: str | bytes | Path | Graph, *, format: str | None = None, name: str | None = None) -> Patient:
    """Load a patient from a file path, a Turtle/JSON-LD/FHIR string, or an rdflib Graph.

    A `str` that names an existing file is read as that file; any other `str`, and `bytes`, are parsed as data
    (services pass bytes, so that no input can name a file). Every input is held to reasoner.rdf.limits.
    `format` is "turtle", "nt", "json-ld" or "fhir" (default: from the file suffix or the content; a JSON object
    with a "resourceType" is FHIR).
    """
    graph = Graph()
    if isinstance(source, Graph):
        label = name or "<graph>"
        try:
            add_checked(graph, source, source=label)
        except ReadError as exc:
            raise PatientParseError(label, exc.detail) from exc
    else:
        raw: bytes | str
        if isinstance(source, Path) or (isinstance(source, str) and _names_a_file(source)):
            label = name or str(source)
            try:
                raw = _read(Path(source), label, format)
            except ReadError as exc:
                raise PatientParseError(label, exc.detail) from exc
        else:
            label, raw = name or "<string>", source
        if format == "fhir" or (format is None and _is_fhir(raw)):
            from reasoner.input.fhir import read_bundle  # fhir.resources takes half a second to import: only if needed

            return read_bundle(raw, source=label)
        try:
            parse_text(graph, raw, source=label, fmt=format)
        except ReadError as exc:
            raise PatientParseError(label, exc.detail) from exc
    blank_node_parents_of(graph, label)
    patients = sorted(s for s in graph.subjects(RDF.type, GR.Patient) if isinstance(s, URIRef))
    if len(patients) != 1:
        found = ", ".join(str(p) for p in patients) or "none"
        raise InvalidPatientError(
            label,
            [Violation(label, None, f"expected exactly one gr:Patient with an IRI, found {len(patients)}: {found}")],
        )
    return Patient(graph=graph, iri=patients[0], source=label)


def _read(path: Path, label: str, format: str | None) -> bytes:
    """The file's bytes: within MAX_INPUT_BYTES, or, for a FHIR Bundle (a real record is large), within the FHIR
    file cap; the Bundle's own size is checked after parsing (reasoner.input.fhir). A file over MAX_INPUT_BYTES
    that does not start as FHIR is refused without being read further."""
    if format not in (None, "fhir"):
        return read_file(path, source=label)
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.MAX_INPUT_BYTES + 1)
            if len(data) > limits.MAX_INPUT_BYTES and (format == "fhir" or _is_fhir(data[:4096])):
                cap = limits.fhir_file_cap()
                data += handle.read(cap + 1 - len(data))
                if len(data) > cap:
                    raise ReadError(label, f"the file is larger than the limit of {cap} bytes (2 x MAX_FHIR_BYTES)")
    except OSError as exc:
        raise ReadError(label, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limits.MAX_INPUT_BYTES and not (format == "fhir" or _is_fhir(data[:4096])):
        raise ReadError(label, f"the file is larger than the limit of {limits.MAX_INPUT_BYTES} bytes (MAX_INPUT_BYTES)")
    return data


def _is_fhir(raw: bytes | str) -> bool:
    """FHIR JSON is an object with a "resourceType"; JSON-LD never has one."""
    data = raw.encode() if isinstance(raw, str) else raw
    return data.lstrip()[:1] == b"{" and re.search(rb'"resourceType"\s*:', data) is not None


def _names_a_file(text: str) -> bool:
    """A string is a path only if it cannot be RDF data and an existing file has that name."""
    if "\n" in text or text.lstrip().startswith(("{", "[", "@", "<", "#")):
        return False
    try:
        return Path(text).is_file()
    except OSError:  # e.g. a name longer than the file system allows
        return False
