"""Query answers written out under a cap: SPARQL results (JSON, XML, CSV, TSV) for SELECT, RDF for CONSTRUCT.

Oxigraph serialises a whole answer only, so a capped one is written here, row by row: at most `max_rows` rows (or
triples) and about `max_bytes` bytes. An answer is never cut: one that would pass a cap is refused whole (TooLarge,
which names the cap and says how to page), so a client never mistakes part of an answer for all of it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

__all__ = [
    "MEDIA_TYPES",
    "RDF_FORMATS",
    "RESULT_FORMATS",
    "TooLarge",
    "Written",
    "write_boolean",
    "write_solutions",
    "write_triples",
]

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RESULT_FORMATS = ("json", "xml", "csv", "tsv")
RDF_FORMATS = ("turtle", "ntriples", "rdfxml")
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
_RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML}
_BOOLEAN = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass(frozen=True)
class Written:
    """An answer written out whole: the body, its media type and how many rows (or triples) it holds."""

    body: bytes
    media_type: str
    rows: int


class TooLarge(Exception):
    """The answer has more rows (or bytes) than the cap allows: it is refused, never cut."""

    def __init__(self, cap: int, unit: str) -> None:
        page = min(cap, 1000)
        super().__init__(
            f"the answer has more than {cap:,} {unit}, this endpoint's cap for one answer: it was refused rather than "
            f"cut. Page through it with ORDER BY and LIMIT/OFFSET (ORDER BY ?x LIMIT {page} OFFSET 0, then OFFSET "
            f"{page}, ...), or aggregate (COUNT, GROUP BY)"
        )


def _capped(items: Iterable[bytes], max_rows: int, max_bytes: int, noun: str) -> list[bytes]:
    chunks: list[bytes] = []
    size = 0
    for item in items:
        if len(chunks) == max_rows:
            raise TooLarge(max_rows, noun)
        size += len(item)
        if size > max_bytes:
            raise TooLarge(max_bytes, "bytes")
        chunks.append(item)
    return chunks


def write_solutions(solutions: ox.QuerySolutions, fmt: str, *, max_rows: int, max_bytes: int) -> Written:
    """SELECT solutions as SPARQL JSON, XML, CSV or TSV."""
    names = [v.value for v in solutions.variables]
    rows = ([s[n] for n in names] for s in solutions)
    chunks = _capped(_ROW_WRITERS[fmt](names, rows), max_rows, max_bytes, "rows")
    if fmt == "json":
        body = b'{"head":%s,"results":{"bindings":[%s]}}\n' % (json.dumps({"vars": names}).encode(), b",".join(chunks))
    elif fmt == "xml":
        variables = "".join(f"<variable name={quoteattr(n)}/>" for n in names)
        head = f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>{variables}</head>'
        body = (head + "<results>\n").encode() + b"".join(chunks) + b"</results></sparql>\n"
    elif fmt == "csv":
        body = _csv_line(names).encode() + b"".join(chunks)
    else:
        body = ("\t".join(f"?{n}" for n in names) + "\n").encode() + b"".join(chunks)
    return Written(body, MEDIA_TYPES[fmt], len(chunks))


def write_boolean(answer: ox.QueryBoolean, fmt: str) -> Written:
    """An ASK answer, serialised by Oxigraph."""
    return Written(answer.serialize(format=_BOOLEAN[fmt]) or b"", MEDIA_TYPES[fmt], 1)


def write_triples(triples: Iterable[ox.Triple], fmt: str, *, max_rows: int, max_bytes: int) -> Written:
    """CONSTRUCT or DESCRIBE triples as Turtle, N-Triples or RDF/XML."""
    kept: list[ox.Triple] = []
    size = 0
    for triple in triples:
        if len(kept) == max_rows:
            raise TooLarge(max_rows, "triples")
        size += len(str(triple))
        if size > max_bytes:
            raise TooLarge(max_bytes, "bytes")
        kept.append(triple)
    return Written(ox.serialize(kept, format=_RDF[fmt]) or b"", MEDIA_TYPES[fmt], len(kept))


# -- one row at a time ----------------------------------------------------------------------------------------

Row = list[Term | None]


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {k: _json_term(v) for k, v in parts.items()}}
    out: dict[str, object] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def _json_rows(names: list[str], rows: Iterable[Row]) -> Iterator[bytes]:
    for row in rows:
        binding = {n: _json_term(t) for n, t in zip(names, row, strict=True) if t is not None}
        yield json.dumps(binding, ensure_ascii=False).encode("utf-8")


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        parts = (("subject", term.subject), ("predicate", term.predicate), ("object", term.object))
        return "<triple>" + "".join(f"<{k}>{_xml_term(v)}</{k}>" for k, v in parts) + "</triple>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value not in (_XSD_STRING, _RDF_LANG_STRING):
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _xml_rows(names: list[str], rows: Iterable[Row]) -> Iterator[bytes]:
    for row in rows:
        cells = "".join(
            f"<binding name={quoteattr(n)}>{_xml_term(t)}</binding>"
            for n, t in zip(names, row, strict=True)
            if t is not None
        )
        yield f"<result>{cells}</result>\n".encode()


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def _csv_cell(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term) if isinstance(term, ox.Triple) else term.value


def _csv_rows(names: list[str], rows: Iterable[Row]) -> Iterator[bytes]:
    for row in rows:
        yield _csv_line([_csv_cell(t) for t in row]).encode()


def _tsv_rows(names: list[str], rows: Iterable[Row]) -> Iterator[bytes]:
    for row in rows:  # N-Triples syntax: tabs and newlines inside literals are escaped
        yield ("\t".join("" if t is None else str(t) for t in row) + "\n").encode()


_ROW_WRITERS = {"json": _json_rows, "xml": _xml_rows, "csv": _csv_rows, "tsv": _tsv_rows}
