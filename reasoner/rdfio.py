"""Reading RDF without touching the network: Turtle, N-Triples and JSON-LD with local contexts only."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rdflib import Graph

from reasoner._paths import data_dir

__all__ = ["CONTEXT_IRI", "MAX_INPUT_BYTES", "ReadError", "detect_format", "parse_file", "parse_text"]


class ReadError(Exception):
    """Internal: `source` could not be read as RDF; callers turn it into their own public error."""

    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        self.detail = detail
        super().__init__(f"{source}: {detail}")


#: The project's JSON-LD context IRI; documents may name it, and it is served from the bundled copy.
CONTEXT_IRI = "https://w3id.org/guideline-reasoner/context.jsonld"
#: Patient inputs larger than this are refused before parsing.
MAX_INPUT_BYTES = 5 * 1024 * 1024

_FORMATS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".json": "json-ld"}


def detect_format(name: str, text: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    return "json-ld" if text.lstrip().startswith(("{", "[")) else "turtle"


def parse_file(graph: Graph, path: Path, *, fmt: str | None = None) -> None:
    """Parse `path` into `graph`; any problem is raised as ReadError naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReadError(str(path), f"cannot read: {exc.strerror}") from exc
    parse_text(graph, raw, source=str(path), fmt=fmt)


def parse_text(graph: Graph, raw: bytes | str, *, source: str, fmt: str | None = None) -> None:
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_INPUT_BYTES:
        raise ReadError(source, f"input is {len(data)} bytes, more than the {MAX_INPUT_BYTES}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadError(source, f"not valid UTF-8 at byte {exc.start}") from exc
    if "\x00" in text:
        raise ReadError(source, "contains a NUL character")
    fmt = fmt or detect_format(source, text)
    if fmt == "json-ld":
        document = _safe_json(text, source)
        text = json.dumps(_local_contexts(document, source))
    try:
        graph.parse(data=text, format=fmt, publicID=_public_id(source))
    except Exception as exc:  # rdflib raises many unrelated types for syntax errors
        raise ReadError(source, f"{_syntax_message(exc)}") from exc


def _public_id(source: str) -> str:
    # Relative IRIs resolve against a non-network base so nothing ever dereferences them.
    return "urn:guideline-reasoner:input:" + Path(source).name


def _syntax_message(exc: Exception) -> str:
    text = str(exc).strip().replace("\n", " ")
    return f"syntax error: {text[:500]}"


def _safe_json(text: str, source: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ReadError(source, f"duplicate JSON key {key!r}")
            out[key] = value
        return out

    def no_constant(name: str) -> float:
        raise ReadError(source, f"{name} is not a valid JSON number")

    try:
        document = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise ReadError(source, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    _check_numbers(document, source)
    return document


def _check_numbers(node: Any, source: str) -> None:
    if isinstance(node, float) and not math.isfinite(node):
        raise ReadError(source, "number out of range")
    if isinstance(node, dict):
        for value in node.values():
            _check_numbers(value, source)
    elif isinstance(node, list):
        for value in node:
            _check_numbers(value, source)


def _bundled_context() -> Any:
    return json.loads((data_dir("ontology") / "context.jsonld").read_text())["@context"]


def _local_contexts(node: Any, source: str) -> Any:
    """Replace the project's context IRI by its bundled copy; refuse every other remote or file context."""
    if isinstance(node, list):
        return [_local_contexts(item, source) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "@context":
            out[key] = _context_value(value, source)
        elif key == "@import":
            raise ReadError(source, "JSON-LD @import is not allowed (contexts must be inline)")
        else:
            out[key] = _local_contexts(value, source)
    return out


def _context_value(value: Any, source: str) -> Any:
    if isinstance(value, list):
        return [_context_value(item, source) for item in value]
    if isinstance(value, str):
        if value == CONTEXT_IRI:
            return _bundled_context()
        raise ReadError(
            source, f"remote JSON-LD context {value!r} is not allowed; use an inline context or {CONTEXT_IRI}"
        )
    if isinstance(value, dict):
        return _local_contexts(value, source)
    return value
