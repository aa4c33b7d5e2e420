"""Limits on patient input, checked before and while a file is parsed, so that a hostile or broken file is refused
in about a second and in bounded memory, with a message naming the file and the limit.

    MAX_INPUT_BYTES     5 MiB    the whole file, before decoding
    MAX_FHIR_BYTES      64 MiB   a FHIR Bundle, counted as compact JSON after parsing (a real record is large and
                                 its whitespace is not counted); the file itself may hold twice that
    MAX_TRIPLES         20,000   triples one file may produce (counted as the parser streams them)
    MAX_LITERAL_CHARS   100,000  characters in one literal, JSON string or JSON key
    MAX_IRI_CHARS       4,096    characters in one IRI
    MAX_NESTING         32       JSON nesting depth, and blank nodes nested in blank nodes
    MAX_NUMBER_CHARS    64       characters in one JSON number or numeric literal ("1e400" is refused as well:
                                 a number must fit a finite double)

Each is a module constant read when a check runs: a deployment that needs more sets it once before loading, for
example `reasoner.rdf.limits.MAX_TRIPLES = 100_000` (docs/SECURITY.md says what each one guards).

`read_json` is the one JSON reader for patient input (JSON-LD here, FHIR in reasoner.input.fhir): nesting is measured
before Python's json module recurses, and duplicate keys, NaN/Infinity, oversized numbers and lone surrogates are
refused rather than silently resolved. Everything raises ReadError(source, detail); callers turn it into their own
public error (PatientParseError for patients, GuidelineError for guideline files).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode
from rdflib.term import Node

__all__ = [
    "MAX_FHIR_BYTES",
    "MAX_INPUT_BYTES",
    "MAX_IRI_CHARS",
    "MAX_LITERAL_CHARS",
    "MAX_NESTING",
    "MAX_NUMBER_CHARS",
    "MAX_TRIPLES",
    "ReadError",
    "blank_node_parents",
    "check_iri",
    "check_literal",
    "check_triple_count",
    "decode",
    "fhir_file_cap",
    "read_file",
    "read_json",
]

MAX_INPUT_BYTES = 5 * 1024 * 1024
MAX_FHIR_BYTES = 64 * 1024 * 1024
MAX_TRIPLES = 20_000
MAX_LITERAL_CHARS = 100_000
MAX_IRI_CHARS = 4_096
MAX_NESTING = 32
MAX_NUMBER_CHARS = 64


class ReadError(Exception):
    """Internal: `source` could not be read as RDF; callers turn it into their own public error."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


def read_file(path: Path, *, source: str, limit: int | None = None, name: str = "MAX_INPUT_BYTES") -> bytes:
    """The bytes of `path`, reading no more than `limit` (default MAX_INPUT_BYTES) + 1 of them (a huge file or
    /dev/zero is refused without being read whole); `name` is the limit's name in the message."""
    cap = MAX_INPUT_BYTES if limit is None else limit
    try:
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise ReadError(source, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > cap:
        raise ReadError(source, f"the file is larger than the limit of {cap} bytes ({name})")
    return data


def fhir_file_cap() -> int:
    """How many bytes a FHIR file may hold before parsing: twice MAX_FHIR_BYTES, for its whitespace."""
    return 2 * MAX_FHIR_BYTES


def decode(raw: bytes | str, *, source: str, limit: int | None = None, name: str = "MAX_INPUT_BYTES") -> str:
    """The text of `raw`: refused when larger than `limit` (default MAX_INPUT_BYTES, named `name` in the message),
    not UTF-8, or holding a NUL character."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    cap = MAX_INPUT_BYTES if limit is None else limit
    if len(data) > cap:
        raise ReadError(source, f"input is {len(data)} bytes, more than the limit of {cap} ({name})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(source, f"not valid UTF-8 at byte {exc.start}") from exc
    if "\x00" in text:
        raise ReadError(source, f"contains a NUL character at offset {text.index(chr(0))}")
    return text.removeprefix("\ufeff")


def check_triple_count(count: int, *, source: str) -> None:
    if count > MAX_TRIPLES:
        raise ReadError(source, f"more than {MAX_TRIPLES} triples (MAX_TRIPLES); a patient file holds one patient")


def check_iri(iri: str, *, source: str) -> None:
    """Refuse an IRI that is too long, relative or otherwise invalid (RFC 3987, as Oxigraph checks it)."""
    if len(iri) > MAX_IRI_CHARS:
        raise ReadError(source, f"an IRI of {len(iri)} characters is longer than {MAX_IRI_CHARS} (MAX_IRI_CHARS)")
    try:
        ox.NamedNode(iri)
    except ValueError as exc:
        raise ReadError(source, f"invalid IRI {_clip(iri)!r}: {exc}") from exc


_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_INTEGER_TYPES = [
    "integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger", "long", "int",
    "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
]  # fmt: skip
_NUMERIC = {_XSD + "decimal": _DECIMAL, _XSD + "double": _DOUBLE, _XSD + "float": _DOUBLE} | dict.fromkeys(
    (_XSD + t for t in _INTEGER_TYPES), _INTEGER
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_literal(lexical: str, datatype: str | None, *, source: str) -> None:
    """Refuse a literal that is too long or holds NUL or a lone surrogate, and a number whose lexical form is not
    valid for its XSD type, is NaN or infinite, or is longer than MAX_NUMBER_CHARS. (rdflib reads "NaN" as an
    xsd:decimal, compares NaN < 200 as true, and spends minutes on a literal of a few megabytes.)"""
    if len(lexical) > MAX_LITERAL_CHARS:
        raise ReadError(
            source, f"a literal of {len(lexical)} characters is longer than {MAX_LITERAL_CHARS} (MAX_LITERAL_CHARS)"
        )
    if "\x00" in lexical or _SURROGATE.search(lexical):
        raise ReadError(source, f"the literal {_clip(lexical)!r} holds a NUL character or a lone surrogate")
    pattern = _NUMERIC.get(datatype or "")
    if pattern is None:
        return
    kind = (datatype or "").removeprefix(_XSD)
    if len(lexical) > MAX_NUMBER_CHARS:
        raise ReadError(source, f"an xsd:{kind} of {len(lexical)} characters is longer than {MAX_NUMBER_CHARS}")
    if not pattern.fullmatch(lexical):
        raise ReadError(source, f"{_clip(lexical)!r} is not a valid xsd:{kind} (NaN and INF are not accepted)")
    if not math.isfinite(float(lexical)):
        raise ReadError(source, f"{lexical!r} is out of range: numbers must fit a finite double")


def read_json(raw: bytes | str, *, source: str, limit: int | None = None, name: str = "MAX_INPUT_BYTES") -> Any:
    """Parse JSON patient input within the limits: refuses input over `limit` bytes (default MAX_INPUT_BYTES),
    nesting deeper than MAX_NESTING (measured before parsing), duplicate keys (Python's json would keep the last),
    NaN and Infinity, numbers longer than MAX_NUMBER_CHARS, out of a double's range or with more digits than a double
    keeps, and strings or keys longer than MAX_LITERAL_CHARS or holding NUL or a lone surrogate."""
    text = decode(raw, source=source, limit=limit, name=name)
    _check_json_nesting(text, source)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ReadError(source, f"duplicate JSON key {_clip(key)!r}")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise ReadError(source, f"{name} is not a valid JSON number")

    def number(text: str) -> str:
        if len(text) > MAX_NUMBER_CHARS:
            raise ReadError(source, f"a JSON number of {len(text)} characters is longer than {MAX_NUMBER_CHARS}")
        if not math.isfinite(float(text)):
            raise ReadError(source, f"the JSON number {text} is out of range (numbers must fit a finite double)")
        return text

    def fraction(text: str) -> float:
        value = float(number(text))
        if Decimal(text) != Decimal(repr(value)):  # json would round it to a double without a word
            raise ReadError(
                source, f"the JSON number {text} has more digits than a double keeps; give it as a string literal"
            )
        return value

    try:
        document = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_int=lambda t: int(number(t)),
            parse_float=fraction,
        )
    except json.JSONDecodeError as exc:
        raise ReadError(source, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    _check_strings(document, source)
    return document


# A JSON string (an unterminated one runs to the end, so its contents are never taken for brackets) or a bracket.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)


def _check_json_nesting(text: str, source: str) -> None:
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                raise ReadError(source, f"JSON nested deeper than {MAX_NESTING} levels (MAX_NESTING) at line {line}")
        elif token in ("]", "}"):
            depth -= 1


def _check_strings(document: Any, source: str) -> None:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                check_literal(key, None, source=source)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            check_literal(node, None, source=source)


def blank_node_parents(
    graph: Iterable[tuple[Node, Node, Node]], *, source: str
) -> dict[BNode, tuple[Node, Node] | None]:
    """Each blank node -> (subject, predicate) of the one statement pointing at it, or None if none does.

    Refuses a blank node that two statements point at, a cycle of blank nodes, and blank nodes nested deeper than
    MAX_NESTING: a patient's blank nodes form trees hanging from IRIs (which Turtle `[...]` and nested JSON-LD
    objects always give), so skolemizing stays linear where rdflib's canonical labelling takes minutes on a few
    dozen identical blank nodes.
    """
    parents: dict[BNode, tuple[Node, Node] | None] = {}
    for s, p, o in graph:
        if isinstance(s, BNode):
            parents.setdefault(s, None)
        if isinstance(o, BNode):
            first = parents.get(o)
            if first is not None:
                raise ReadError(
                    source,
                    f"a blank node is the object of two statements ({_node(first[0])} {_node(first[1])} and "
                    f"{_node(s)} {_node(p)}); give it an IRI (a blank node can hang from one place only)",
                )
            parents[o] = (s, p)
    for node in parents:
        depth, edge = 0, parents[node]
        while edge is not None and isinstance(edge[0], BNode):
            depth += 1
            if depth > MAX_NESTING:
                raise ReadError(
                    source, f"blank nodes nested deeper than {MAX_NESTING} levels (MAX_NESTING) or in a cycle"
                )
            edge = parents[edge[0]]
    return parents


def _node(term: Node) -> str:
    return "a blank node" if isinstance(term, BNode) else _clip(term.n3())


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[:width] + "..."
