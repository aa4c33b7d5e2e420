"""`reasoner fmt`: one canonical, diff-friendly Turtle layout for the guideline and shapes files.

The layout: the project's fixed prefixes (plus any other the file declares), only those used, sorted; then one
block per subject, in the order the subjects are first declared in the file (so sections and their comments
stay where the author put them); predicates in a fixed order (type, identity, labels and definitions, the
recommendation fields, ...; any other by IRI); objects sorted; blank nodes nested as [ ] and lists as ( ),
on one line when they fit in 120 characters; one blank line between blocks.

Nothing is lost silently. Comments between statements stay above the statement's subject block; a comment that
cannot keep its place (inside a statement, after its '.', or with a statement merged into an earlier block of the
same subject) moves above that block and is reported as a note naming its line. The result is re-parsed and must
be isomorphic to the input, else the file is refused and left as it is.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner._files import write_atomically
from reasoner.authoring.turtle_scan import Comment, Scan, Statement, scan
from reasoner.errors import GuidelineError
from reasoner.knowledge.modules import bundled_prefixes
from reasoner.namespaces import DCTERMS, GR, OWL, PROV, RDF, RDFS, SH, SKOS, XSD
from reasoner.rdf.oxi import from_ox, to_ox
from reasoner.rdf.rdfio import ReadError, parse_text

__all__ = ["FIXED_PREFIXES", "Formatted", "format_files", "format_text", "same_triples", "turtle_files"]

WIDTH = 120
#: Prefixes every file writes the same way (the standard ones and the bundled modules' own, from their vann
#: declarations); a file binding one of these names to another namespace is refused.
FIXED_PREFIXES = bundled_prefixes() | {
    "dcterms": str(DCTERMS),
    "gr": str(GR),
    "owl": str(OWL),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "sh": str(SH),
    "skos": str(SKOS),
    "xsd": str(XSD),
}
_ORDER: tuple[URIRef, ...] = (
    RDF.type,
    GR.partOf,
    DCTERMS.identifier,
    SKOS.notation,
    GR.rank,
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    SKOS.prefLabel,
    RDFS.label,
    SKOS.altLabel,
    SKOS.definition,
    SKOS.scopeNote,
    RDFS.comment,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.inverseOf,
    OWL.versionIRI,
    OWL.versionInfo,
    DCTERMS.modified,
    RDFS.domain,
    RDFS.range,
    # recommendations, in the order a reader needs them
    GR.action,
    GR.target,
    GR.eligibility,
    GR.exclusion,
    GR.considers,
    GR.asksFor,
    GR.undecidedWhen,
    GR.supersededBy,
    GR.urgency,
    GR.withinHours,
    GR.projectDefined,
    GR.timing,
    GR.condition,
    GR.rationale,
    GR.pitfall,
    GR.evidence,
    GR.reviewStatus,
    GR.replacedBy,
    # evidence statements and sources
    GR.order,
    GR.source,
    GR.statement,
    GR.strength,
    GR.quality,
    GR.rating,
    DCTERMS.bibliographicCitation,
    GR.doi,
    GR.url,
    GR.jurisdiction,
    GR.gradingScheme,
    # class expressions
    OWL.onProperty,
    OWL.intersectionOf,
    OWL.unionOf,
    OWL.someValuesFrom,
    OWL.allValuesFrom,
    OWL.hasValue,
    # shapes: targets and paths, constraints, the message, then nested shapes
    SH.targetClass,
    SH.path,
    SH.nodeKind,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["class"],
    SH["in"],
    SH["or"],
    SH.node,
    SH.lessThanOrEquals,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.message,
    SH.prefixes,
    SH.select,
    SH.prefix,
    SH.namespace,
    SH.declare,
    SH.property,
    SH.sparql,
)
_RANK = {p: i for i, p in enumerate(_ORDER)}
# Axioms about a class expression written at the top level ([ ... ] rdfs:subClassOf X): these stay outside the [ ].
_OUTSIDE = {RDFS.subClassOf, OWL.equivalentClass, OWL.disjointWith, RDFS.subPropertyOf}
_LOCAL = re.compile(r"([A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)?")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d*\.\d+")


@dataclass(frozen=True)
class Formatted:
    path: Path
    original: str
    text: str
    notes: tuple[str, ...]  # comments that moved, as "path:line: ..."

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def diff(self) -> str:
        """The change formatting makes, as a unified diff (empty when the file is already formatted)."""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.text.splitlines(keepends=True),
            f"a/{self.path}",
            f"b/{self.path}",
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def turtle_files(paths: Iterable[Path]) -> list[Path]:
    """The .ttl files named, or found under the directories named, sorted."""
    out: set[Path] = set()
    for path in paths:
        out.update(p for p in path.rglob("*.ttl") if p.is_file()) if path.is_dir() else out.add(path)
    return sorted(out)


def format_files(paths: Iterable[Path], *, check: bool = False) -> list[Formatted]:
    """Format every Turtle file under `paths`; unless `check`, rewrite (atomically) those that change.

    Raises GuidelineError, naming the file, when one cannot be read or formatted without changing its meaning;
    no file is written unless every file could be formatted."""
    results = []
    for path in turtle_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise GuidelineError(f"{path}: cannot read: {exc}") from exc
        formatted, notes = format_text(text, source=str(path))
        results.append(Formatted(path, text, formatted, tuple(notes)))
    if not check:
        for result in results:
            if result.changed:
                write_atomically(result.path, result.text.encode("utf-8"))
    return results


def format_text(text: str, *, source: str) -> tuple[str, list[str]]:
    """The canonical layout of Turtle `text` and notes on comments that moved (prefixed with `source`)."""
    original = _parse(text, source)
    layout = scan(text)
    prefixes = _prefixes(layout, source)
    blocks, notes = _blocks(layout, source)
    graph = Graph()
    for block in blocks:
        graph += block.graph
    writer = _Writer(graph, prefixes, source)
    body = []
    for block in blocks:
        chunk = [*block.comments, ""] if block.detached else list(block.comments)
        chunk += block.moved
        if not block.subjects:  # a comment paragraph that keeps its place
            body.append("\n".join(chunk))
        for node in block.subjects:
            body.append("\n".join([*chunk, writer.block(node)]))
            chunk = []
    out = _header(layout, notes, source)
    out += [f"@prefix {p}: <{prefixes[p]}> ." for p in sorted(writer.used)]
    out += ["", "\n\n".join(body)] if body else []
    trailer = _trailer(layout)
    if trailer:
        out += ["", *trailer]
    result = "\n".join(out).strip("\n") + "\n"
    if not same_triples(original, _parse(result, source)):
        raise GuidelineError(f"{source}: cannot be formatted without changing its triples; the file is left as it is")
    lost = Counter(c.text for c in layout.comments) - Counter(c.text for c in scan(result).comments)
    if lost:
        line = next(c.line for c in layout.comments if c.text in lost)
        raise GuidelineError(f"{source}:{line}: fmt would lose this comment; the file is left as it is")
    return result, notes


# -- reading ---------------------------------------------------------------------------------------------------


def _parse(text: str, source: str) -> Graph:
    graph = Graph()
    try:
        parse_text(graph, text, source=source, fmt="turtle")
    except ReadError as exc:
        raise GuidelineError(str(exc)) from exc
    return graph


def same_triples(a: Graph, b: Graph) -> bool:
    """Whether two graphs are isomorphic (equal up to blank node names), by their RDFC-1.0 canonical forms."""
    return len(a) == len(b) and _canonical(a) == _canonical(b)


def _canonical(graph: Graph) -> set[str]:
    quads = (ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.DefaultGraph()) for s, p, o in graph)  # type: ignore[arg-type]
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in dataset}


def _prefixes(layout: Scan, source: str) -> dict[str, str]:
    out = dict(FIXED_PREFIXES)
    fixed_namespaces = set(FIXED_PREFIXES.values())
    for name, namespace in layout.prefixes.items():
        fixed = FIXED_PREFIXES.get(name)
        if fixed is not None and fixed != namespace:
            raise GuidelineError(f"{source}: prefix {name}: must be <{fixed}>, not <{namespace}>")
        if name and namespace not in fixed_namespaces:  # another name for a fixed namespace gives way to it
            out[name] = namespace
    return out


@dataclass
class _Block:
    subjects: list[Node]  # the named subject, or the top-level blank nodes of one statement
    graph: Graph
    comments: list[str]  # the comments before the statement that placed the block
    detached: bool  # a blank line between those comments and the block
    moved: list[str]  # comments that came with other statements of the subject, or from inside statements


@dataclass
class _Entry:
    statement: Statement
    subject: Node | None  # the named subject, None for a blank node subject
    graph: Graph
    comments: list[str]  # the comment lines before it
    detached: bool
    inside: list[Comment]  # comments inside it or after its '.'


def _blocks(layout: Scan, source: str) -> tuple[list[_Block], list[str]]:
    """One block per named subject, placed where the subject is first typed (else first written), merging every
    statement about it; one block per statement whose subject is a blank node. The comment lines right above a
    statement go with its block; a comment paragraph followed by a blank line stays where it is."""
    notes: list[str] = []
    entries = _entries(layout, source)
    anchor: dict[Node, int] = {}
    typed: set[Node] = set()
    for index, entry in enumerate(entries):
        if entry.subject is None or entry.subject in typed:
            continue
        if (entry.subject, RDF.type, None) in entry.graph:
            typed.add(entry.subject)
            anchor[entry.subject] = index
        else:
            anchor.setdefault(entry.subject, index)
    blocks: list[_Block] = []
    named: dict[Node, _Block] = {}
    for index, entry in enumerate(entries):
        st = entry.statement
        notes += [f"{source}:{c.line}: comment inside or after a statement moved above its block" for c in entry.inside]
        moved = [c.text for c in entry.inside]
        if entry.subject is None:
            blocks.append(_Block(_roots(entry.graph), entry.graph, entry.comments, entry.detached, moved))
            continue
        block = named.get(entry.subject)
        if block is None:
            block = named[entry.subject] = _Block([entry.subject], Graph(), [], False, [])
        block.graph += entry.graph
        if index == anchor[entry.subject]:
            block.comments, block.detached = entry.comments, entry.detached
            block.moved[:0] = moved
            blocks.append(block)
            continue
        stay, attached = _split(entry.comments, entry.detached)
        if stay:
            blocks.append(_Block([], Graph(), stay, False, []))
        if attached:
            notes.append(f"{source}:{st.start}: the comment above this statement about {st.subject} moved with it")
        block.moved += [*attached, *moved]
    return blocks, notes


def _entries(layout: Scan, source: str) -> list[_Entry]:
    entries: list[_Entry] = []
    directives = ""
    carry: list[str] = []  # comments before a directive met after the first triples: they go with the next block
    previous_end = 0
    statements = layout.statements
    for index, st in enumerate(statements):
        comments, detached = _region(layout.lines[previous_end : st.start - 1])
        previous_end = st.end
        following = statements[index + 1].start if index + 1 < len(statements) else len(layout.lines) + 1
        after = [c for c in layout.comments if c.line == st.end and not c.own_line and c not in st.comments]
        inside = [*st.comments, *(after if following > st.end else [])]
        if st.directive:
            directives += st.text + "\n"
            if entries:
                carry += [*comments, *(c.text for c in inside)]
            continue
        if carry:
            comments, carry = [*carry, *comments], []
        graph = _parse_statement(directives, st, source)
        iri = layout.expand(st.subject)
        subject = URIRef(iri) if iri is not None and (URIRef(iri), None, None) in graph else None
        entries.append(_Entry(st, subject, graph, comments, detached, inside))
    return entries


def _split(comments: list[str], detached: bool) -> tuple[list[str], list[str]]:
    """Comment lines above a statement: the paragraphs that stand apart (followed by a blank line), and the last
    paragraph when it sits right on the statement."""
    if detached or "" not in comments:
        return (comments, []) if detached else ([], comments)
    cut = len(comments) - 1 - comments[::-1].index("")
    return comments[:cut], comments[cut + 1 :]


def _parse_statement(directives: str, st: Statement, source: str) -> Graph:
    """The triples of one statement (Oxigraph: parsing each statement alone with rdflib would dominate fmt's
    time). Each parse has its own blank nodes, as the statement has in the whole file."""
    graph = Graph()
    try:
        for triple in ox.parse(directives + st.text + "\n", format=ox.RdfFormat.TURTLE):
            graph.add((from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object)))
    except (SyntaxError, ValueError) as exc:
        raise GuidelineError(
            f"{source}:{st.start}: the statement cannot be read on its own, so it cannot be formatted: {exc}"
        ) from exc
    return graph


def _roots(graph: Graph) -> list[Node]:
    objects = set(graph.objects())
    return sorted({s for s in graph.subjects() if s not in objects}, key=str)


def _region(lines: Sequence[str]) -> tuple[list[str], bool]:
    """The comment lines of the text between two statements (blank runs kept as one empty line), and whether a
    blank line separates them from the next statement."""
    out: list[str] = []
    for line in lines:
        text = line.strip()
        if text.startswith("#"):
            out.append(text)
        elif not text and out and out[-1]:
            out.append("")
    detached = bool(out) and out[-1] == ""
    while out and not out[-1]:
        out.pop()
    return out, detached


def _header(layout: Scan, notes: list[str], source: str) -> list[str]:
    """Comments before the first triples statement that precede or sit among the directives."""
    first = next((st.start for st in layout.statements if not st.directive), len(layout.lines) + 1)
    last_directive = max((st.end for st in layout.statements if st.directive and st.start < first), default=0)
    first_directive = min((st.start for st in layout.statements if st.directive), default=0)
    out = []
    for c in layout.comments:
        if c.line <= last_directive:
            out.append(c.text)
            if c.line > first_directive:
                notes.append(f"{source}:{c.line}: comment among the prefixes moved above them")
    return [*out, ""] if out else []


def _trailer(layout: Scan) -> list[str]:
    last = max((st.end for st in layout.statements), default=0)
    comments, _ = _region(layout.lines[last:]) if last else ([], False)
    return comments if last else []


# -- writing ---------------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, graph: Graph, prefixes: dict[str, str], source: str) -> None:
        self.graph = graph
        self.namespaces = sorted(((ns, p) for p, ns in prefixes.items()), key=lambda t: (-len(t[0]), t[1]))
        self.used: set[str] = set()
        self.source = source
        counts = Counter(o for o in graph.objects() if isinstance(o, BNode))
        shared = [b for b, n in counts.items() if n > 1]
        if shared:
            raise GuidelineError(
                f"{source}: a blank node is the object of {counts[shared[0]]} triples; fmt writes blank nodes "
                "nested as [ ], so each may be used once (give it an IRI)"
            )

    # terms

    def iri(self, node: URIRef) -> str:
        text = str(node)
        for namespace, prefix in self.namespaces:
            if text.startswith(namespace) and _LOCAL.fullmatch(text[len(namespace) :]):
                self.used.add(prefix)
                return f"{prefix}:{text[len(namespace) :]}"
        return f"<{text}>"

    def literal(self, lit: Literal) -> str:
        lex, datatype = str(lit), lit.datatype
        if lit.language:
            return f"{_quote(lex)}@{lit.language}"
        if datatype is None or datatype == XSD.string:
            return _quote(lex)
        if (
            (datatype == XSD.integer and _INTEGER.fullmatch(lex))
            or (datatype == XSD.decimal and _DECIMAL.fullmatch(lex))
            or (datatype == XSD.boolean and lex in ("true", "false"))
        ):
            return lex
        return f"{_quote(lex)}^^{self.iri(datatype)}"

    def predicate(self, node: Node) -> str:
        return "a" if node == RDF.type else self.iri(node)  # type: ignore[arg-type]

    # structure

    def pairs(self, node: Node, *, skip: frozenset[Node] = frozenset()) -> list[tuple[Node, list[Node]]]:
        preds = sorted(
            {p for p in self.graph.predicates(node) if p not in skip},
            key=lambda p: (_RANK.get(p, len(_RANK)), str(p)),  # type: ignore[call-overload]
        )
        return [(p, sorted(self.graph.objects(node, p), key=self.flat)) for p in preds]

    def items(self, node: Node) -> list[Node] | None:
        """The members of a well-formed RDF list starting at blank node `node`, else None."""
        out: list[Node] = []
        seen: set[Node] = set()
        while node != RDF.nil:
            if not isinstance(node, BNode) or node in seen:
                return None
            seen.add(node)
            preds = list(self.graph.predicate_objects(node))
            firsts = [o for p, o in preds if p == RDF.first]
            rests = [o for p, o in preds if p == RDF.rest]
            if len(preds) != 2 or len(firsts) != 1 or len(rests) != 1:
                return None
            out.append(firsts[0])
            node = rests[0]
        return out

    def flat(self, node: Node) -> str:
        """The one-line form, whatever its length (also the sort key of objects)."""
        if isinstance(node, URIRef):
            return self.iri(node)
        if isinstance(node, Literal):
            return self.literal(node)
        members = self.items(node)
        if members is not None:
            return "( " + " ".join(self.flat(m) for m in members) + " )" if members else "()"
        inner = " ; ".join(
            f"{self.predicate(p)} {', '.join(self.flat(o) for o in objs)}" for p, objs in self.pairs(node)
        )
        return f"[ {inner} ]" if inner else "[]"

    def term(self, node: Node, indent: int, column: int) -> str:
        """`node` as an object starting at `column`; nested blank nodes and lists spread over lines when the
        one-line form does not fit, continuation lines indented from `indent`."""
        short = self.flat(node)
        if not isinstance(node, BNode) or (column + len(short) <= WIDTH - 2 and "\n" not in short):
            return short
        pad = " " * (indent + 4)
        members = self.items(node)
        if members is not None:
            inner = "\n".join(pad + self.term(m, indent + 4, indent + 4) for m in members)
            return f"(\n{inner}\n{' ' * indent})"
        inner = " ;\n".join(pad + self.pair(p, objs, indent + 4, indent + 4) for p, objs in self.pairs(node))
        return f"[\n{inner}\n{' ' * indent}]"

    def pair(self, pred: Node, objs: list[Node], indent: int, column: int) -> str:
        name = self.predicate(pred)
        if len(objs) == 1:
            return f"{name} {self.term(objs[0], indent, column + len(name) + 1)}"
        line = f"{name} {', '.join(self.flat(o) for o in objs)}"
        if column + len(line) <= WIDTH - 2 and "\n" not in line:
            return line
        pad = " " * (indent + 4)
        return name + "\n" + ",\n".join(pad + self.term(o, indent + 4, indent + 4) for o in objs)

    def block(self, subject: Node) -> str:
        if isinstance(subject, BNode):
            head_pairs = self.pairs(subject, skip=frozenset(_OUTSIDE))
            tail = [(p, o) for p, o in self.pairs(subject) if p in _OUTSIDE]
            if head_pairs:
                inner = " ; ".join(
                    f"{self.predicate(p)} {', '.join(self.flat(o) for o in objs)}" for p, objs in head_pairs
                )
                head = f"[ {inner} ]"
                if len(head) > WIDTH - 2 or "\n" in head:
                    lines = " ;\n".join("    " + self.pair(p, objs, 4, 4) for p, objs in head_pairs)
                    head = f"[\n{lines}\n]"
            else:
                head = "[]"
            pairs = tail
        else:
            head = self.iri(subject)  # type: ignore[arg-type]
            pairs = self.pairs(subject)
        if not pairs:
            return head + " ."
        column = len(head.rsplit("\n", 1)[-1]) + 1
        first = f"{head} {self.pair(pairs[0][0], pairs[0][1], 4, column)}"
        rest = ["    " + self.pair(p, objs, 4, 4) for p, objs in pairs[1:]]
        return " ;\n".join([first, *rest]) + " ."


def _quote(text: str) -> str:
    if "\n" not in text:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
        return f'"{escaped}"'
    out = []
    for i, c in enumerate(text):
        if c == "\\":
            out.append("\\\\")
        elif c == '"' and (i + 1 == len(text) or text[i + 1] == '"'):
            out.append('\\"')
        elif c == "\r":
            out.append("\\r")
        else:
            out.append(c)
    return '"""' + "".join(out) + '"""'
