"""Reading RDF without touching the network, within the limits of reasoner.rdf.limits.

Turtle and N-Triples are parsed by Oxigraph (streaming, strict IRIs, linear on huge literals where rdflib takes
minutes); JSON-LD by rdflib with the bundled context only (an inline context may repeat its entries, never define
or redefine a term) and a strict parser that refuses what rdflib would drop silently (a node whose @id is not an IRI,
a key the context does not define, a value it cannot convert). RDF/XML is refused: XML parsers expand entities
(billion laughs, external entities), and nothing needs it.

Writing goes through Oxigraph too (`serialize`): every literal keeps its lexical form, where rdflib's Turtle writer
prints an xsd:double with seven significant digits.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.parsers import jsonld
from rdflib.plugins.shared.jsonld.context import Context, Term
from rdflib.term import IdentifiedNode, Node

from reasoner._paths import data_dir
from reasoner.rdf.limits import (
    ReadError,
    check_iri,
    check_literal,
    check_triple_count,
    decode,
    read_file,
    read_json,
)
from reasoner.rdf.oxi import from_ox, to_ox

__all__ = [
    "CONTEXT_IRI",
    "FORMATS",
    "ReadError",
    "add_checked",
    "detect_format",
    "parse_file",
    "parse_text",
    "serialize",
]


#: The project's JSON-LD context IRI; documents may name it, and it is served from the bundled copy.
CONTEXT_IRI = "https://w3id.org/guideline-reasoner/context.jsonld"
#: The formats accepted for patient data and guideline files.
FORMATS = ("turtle", "nt", "json-ld")

_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".json": "json-ld"}
_XML = re.compile(r"\s*<(\?xml|!DOCTYPE|rdf:RDF)\b")
_XML_SUFFIXES = (".rdf", ".owl", ".xml")
_OXIGRAPH = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}


def detect_format(name: str, text: str) -> str:
    """The format by the file suffix, else by the content; "rdf/xml" for XML, which parse_text refuses."""
    suffix = Path(name).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    if suffix in _XML_SUFFIXES or _XML.match(text):
        return "rdf/xml"
    return "json-ld" if text.lstrip().startswith(("{", "[")) else "turtle"


def parse_file(graph: Graph, path: Path, *, fmt: str | None = None) -> None:
    """Parse `path` into `graph`; any problem is raised as ReadError naming the file."""
    parse_text(graph, read_file(path, source=str(path)), source=str(path), fmt=fmt)


def add_checked(graph: Graph, triples: Iterable[tuple[Node, Node, Node]], *, source: str) -> None:
    """Add `triples` (an rdflib Graph given as patient input) to `graph` under the same limits as a parsed file."""
    sink = _Sink(graph, source)
    for triple in triples:
        sink.add(triple)


def parse_text(graph: Graph, raw: bytes | str, *, source: str, fmt: str | None = None) -> None:
    """Parse `raw` (Turtle, N-Triples or JSON-LD) into `graph` within the input limits. Relative IRIs are refused:
    nothing is resolved against a base, and nothing is fetched."""
    text = decode(raw, source=source)
    fmt = fmt or detect_format(source, text)
    if fmt == "json-ld":
        _parse_json_ld(graph, text, source)
    elif fmt in _OXIGRAPH:
        _parse_oxigraph(graph, text, source, _OXIGRAPH[fmt])
    elif fmt == "rdf/xml":
        raise ReadError(
            source,
            "RDF/XML is not accepted (XML entities and DTDs are refused as a matter of course); "
            "convert the file to Turtle, N-Triples or JSON-LD",
        )
    else:
        raise ReadError(source, f"format {fmt!r} is not accepted; use one of {', '.join(FORMATS)}")


_WRITERS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD}
_PREFIXES = {
    "gr": "https://w3id.org/guideline-reasoner/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def serialize(triples: Iterable[tuple[Node, Node, Node]], fmt: str) -> str:
    """Turtle, N-Triples or JSON-LD (expanded, indented) for `triples`, sorted, each literal in its lexical form."""
    if fmt not in _WRITERS:
        raise ValueError(f"cannot write {fmt!r}; choose one of {', '.join(_WRITERS)}")
    out = [ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in sorted(triples)]  # type: ignore[arg-type]
    prefixes = _PREFIXES if fmt == "turtle" else None
    text = (ox.serialize(out, format=_WRITERS[fmt], prefixes=prefixes) or b"").decode("utf-8")
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n" if fmt == "json-ld" else text


def _parse_oxigraph(graph: Graph, text: str, source: str, fmt: ox.RdfFormat) -> None:
    count = 0
    try:
        for quad in ox.parse(text.encode("utf-8"), format=fmt, rename_blank_nodes=True):
            count += 1
            check_triple_count(count, source=source)
            terms = (quad.subject, quad.predicate, quad.object)
            for term in terms:
                if isinstance(term, ox.NamedNode):
                    check_iri(term.value, source=source)
                elif isinstance(term, ox.Literal):
                    check_literal(term.value, term.datatype.value, source=source)
                elif isinstance(term, ox.Triple):
                    raise ReadError(source, "quoted triples (RDF-star) are not accepted in patient data")
            graph.add((from_ox(terms[0]), from_ox(terms[1]), from_ox(terms[2])))
    except SyntaxError as exc:
        raise ReadError(source, f"syntax error: {_one_line(exc)}") from exc


def _one_line(exc: Exception) -> str:
    return str(exc).strip().replace("\n", " ")[:500]


# -- JSON-LD --------------------------------------------------------------------------------------------------


def _parse_json_ld(graph: Graph, text: str, source: str) -> None:
    document = _local_contexts(read_json(text, source=source), source)
    if not isinstance(document, dict | list):
        raise ReadError(source, f"a JSON-LD document is an object or an array, not {_show(document)}")
    try:
        _StrictJsonLd(source).parse(document, Context(base=None, version=1.1), _Sink(graph, source))
    except ReadError:
        raise
    except Exception as exc:  # rdflib raises many unrelated types for malformed JSON-LD
        raise ReadError(source, f"invalid JSON-LD: {type(exc).__name__}: {_one_line(exc)}") from exc


G = TypeVar("G", bound=Graph)

# The JSON-LD 1.1 keywords; another key starting with "@" would be ignored by rdflib.
_KEYWORDS = frozenset(
    ["@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included", "@index", "@json",
     "@language", "@list", "@nest", "@none", "@prefix", "@propagate", "@protected", "@reverse", "@set", "@type",
     "@value", "@version", "@vocab"]
)  # fmt: skip


class _Sink(Graph):
    """The graph rdflib's JSON-LD parser writes into `target` through: each triple is counted and checked."""

    def __init__(self, target: Graph, source: str) -> None:
        super().__init__(store=target.store, identifier=target.identifier)
        self.source, self.count = source, 0

    def add(self: G, triple: Any) -> G:
        sink: _Sink = self  # type: ignore[assignment]
        sink.count += 1
        check_triple_count(sink.count, source=sink.source)
        for term in triple:
            _check_term(term, sink.source)
        return super().add(triple)


def _check_term(term: Node, source: str) -> None:
    if isinstance(term, URIRef):
        check_iri(str(term), source=source)
    elif isinstance(term, Literal):
        check_literal(str(term), str(term.datatype) if term.datatype is not None else None, source=source)
        if term.datatype is not None:
            check_iri(str(term.datatype), source=source)
        if term.language:
            try:
                ox.Literal("", language=term.language)
            except ValueError as exc:
                raise ReadError(source, f"invalid language tag {term.language!r}") from exc


class _StrictJsonLd(jsonld.Parser):
    """rdflib's JSON-LD to RDF, raising at each point where rdflib would silently drop a node, a key or a value
    (it drops a node whose @id is not an absolute IRI, a key the context does not define, and a value with an
    invalid language tag). Relies on rdflib 7's parser internals; tests/test_hostile_input.py checks each case."""

    def __init__(self, source: str) -> None:
        super().__init__(generalized_rdf=False)
        self.source = source

    def _add_to_graph(
        self, dataset: Graph, graph: Graph, context: Context, node: Any, topcontext: bool = False
    ) -> Node | None:
        if not isinstance(node, dict) or context.get_value(node) is not None:
            raise ReadError(self.source, f"expected a JSON-LD node object, found {_show(node)}: it would be dropped")
        return super()._add_to_graph(dataset, graph, context, node, topcontext)

    def _to_rdf_id(self, context: Context, id_val: str) -> IdentifiedNode | None:
        node = super()._to_rdf_id(context, id_val)
        if node is None or (isinstance(node, BNode) and not id_val.startswith("_:")):
            raise ReadError(
                self.source,
                f"@id {_show(id_val)} is not an absolute IRI or a blank node label: the node would be dropped",
            )
        return node

    def _key_to_graph(
        self,
        dataset: Graph,
        graph: Graph,
        context: Context,
        subj: Node,
        key: str,
        obj: Any,
        reverse: bool = False,
        no_id: bool = False,
    ) -> None:
        term: Term | None = context.terms.get(key)
        target = key if key.startswith("@") else term.id if term is not None else context.expand(key)
        if isinstance(target, str) and target.startswith("@"):
            if target not in _KEYWORDS:
                raise ReadError(self.source, f"{_show(key)} is not a JSON-LD keyword: its value would be dropped")
        elif not target or ":" not in target or target.startswith("_:"):
            raise ReadError(
                self.source,
                f"the key {_show(key)} is neither defined by the JSON-LD context nor an absolute IRI: its values "
                "would be dropped",
            )
        super()._key_to_graph(dataset, graph, context, subj, key, obj, reverse, no_id)

    def _to_object(
        self, dataset: Graph, graph: Graph, context: Context, term: Term | None, node: Any, inlist: bool = False
    ) -> Node | None:
        try:
            found = super()._to_object(dataset, graph, context, term, node, inlist)
        except ReadError as exc:
            if not isinstance(node, str):
                raise
            message = f"{_show(node)} is neither a term of the JSON-LD context nor an absolute IRI: it would be dropped"
            raise ReadError(self.source, message) from exc
        if found is None and not _is_null(context, node):
            raise ReadError(self.source, f"the value {_show(node)} cannot be converted to RDF: it would be dropped")
        if isinstance(found, Literal) and found.datatype is not None and not isinstance(node, str):
            # a JSON number or boolean keeps its Python value under a coerced datatype (88 as an xsd:decimal int):
            # rebuilt from its lexical form, as any other parser gives it, so pySHACL does not judge it ill-typed
            found = Literal(str(found), datatype=found.datatype)
        return found


def _is_null(context: Context, node: Any) -> bool:
    """JSON-LD's explicit "no value": null, or a value object whose @value is null."""
    if isinstance(node, tuple):
        return node[0] is None
    if isinstance(node, dict):
        return any(k in node and node[k] is None for k in context.get_keys("@value"))
    return node is None


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:80] + "..."


@cache
def _bundled_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((data_dir("ontology") / "context.jsonld").read_text())["@context"]
    return context


def _local_contexts(document: Any, source: str) -> Any:
    """`document` with the project's context IRI replaced by its bundled copy. Meaning comes from the bundled context
    only: first every context that would be fetched (a remote or file IRI, @import) is refused, then every inline
    context that is not a part of the bundled one, word for word."""
    inline: list[dict[str, Any]] = []
    out = _resolve_contexts(document, source, inline)
    for context in inline:
        _check_inline_context(context, source)
    return out


def _resolve_contexts(node: Any, source: str, inline: list[dict[str, Any]]) -> Any:
    if isinstance(node, list):
        return [_resolve_contexts(item, source, inline) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "@context":
            out[key] = _context_value(value, source, inline)
        elif key == "@import":
            raise ReadError(source, f"JSON-LD @import is not allowed (the only context is {CONTEXT_IRI})")
        else:
            out[key] = _resolve_contexts(value, source, inline)
    return out


def _context_value(value: Any, source: str, inline: list[dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [_context_value(item, source, inline) for item in value]
    if isinstance(value, str):
        if value == CONTEXT_IRI:
            return copy.deepcopy(_bundled_context())  # rdflib's parser is given its own copy
        raise ReadError(source, f"remote JSON-LD context {value!r} is not allowed; the only context is {CONTEXT_IRI}")
    if isinstance(value, dict):
        inline.append(value)
        return _resolve_contexts(value, source, inline)
    raise ReadError(
        source,
        f"a JSON-LD @context of {_show(value)} would clear or replace the bundled context; the only context is "
        f"{CONTEXT_IRI}",
    )


def _check_inline_context(context: dict[str, Any], source: str) -> None:
    """Refuse an inline context unless each of its entries is the bundled context's own, word for word: a term,
    prefix or keyword (@vocab, @base, @language, @protected, @propagate, @version...) defined otherwise would let the
    input change what the bundled terms mean, e.g. {"Present": "gr:Absent"} turns "status": "Present" into absent."""
    bundled = _bundled_context()
    for key, value in context.items():
        if key not in bundled:
            raise ReadError(
                source,
                f"the JSON-LD context defines {_show(key)}, which the bundled context does not; the only context is "
                f"{CONTEXT_IRI}, and input cannot define or redefine terms",
            )
        if value != bundled[key]:
            raise ReadError(
                source,
                f"the JSON-LD context redefines {_show(key)} as {_show(value)} where the bundled context has "
                f"{_show(bundled[key])}; input cannot redefine terms",
            )
